"""A Whisper folder whose generation_config.json holds a field of the wrong type is refused in one line naming the
file and the field, before any clip (transcribe reads lang_to_id, task_to_id, no_timestamps_token_id and
is_multilingual from it)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from featbench.cli import app
from tests.conftest import SHARED
from tests.test_faults import _assert_one_line_error

WHISPER_BASE = SHARED / "models" / "whisper-base"
runner = CliRunner()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Four clips of one speaker: on today's main a bad field fails each clip in turn, after the model is loaded."""
    from featbench.corpus import synthetic

    root = tmp_path_factory.mktemp("corpus") / "demo"
    synthetic.generate(root, per_class=1, speakers=1)
    return root


def _folder_with(tmp_path: Path, field: str, value) -> Path:
    """whisper-base's files linked into a new folder, its generation_config.json with `field` set to `value`."""
    folder = tmp_path / "whisper"
    folder.mkdir()
    for path in WHISPER_BASE.iterdir():
        if path.name != "generation_config.json":
            (folder / path.name).symlink_to(path)
    generation = json.loads((WHISPER_BASE / "generation_config.json").read_text())
    generation[field] = value
    (folder / "generation_config.json").write_text(json.dumps(generation))
    return folder


@pytest.mark.skipif(not WHISPER_BASE.is_dir(), reason=f"whisper-base not found at {WHISPER_BASE}")
@pytest.mark.parametrize("field, value, language, needle", [
    ("lang_to_id", [1, 2], "en", "field 'lang_to_id' must be an object of token -> id (got list)"),
    ("lang_to_id", [1, 2], None, "field 'lang_to_id' must be an object of token -> id (got list)"),
    ("lang_to_id", {"<|en|>": "x"}, None, "field 'lang_to_id.<|en|>' must be an integer (got str)"),
    ("task_to_id", 7, None, "field 'task_to_id' must be an object of token -> id (got int)"),
    ("no_timestamps_token_id", "50363", None, "field 'no_timestamps_token_id' must be an integer (got str)"),
    ("is_multilingual", "yes", None, "field 'is_multilingual' must be true or false (got str)"),
])
def test_generation_config_of_wrong_types_is_one_line(corpus, tmp_path, field, value, language, needle):
    folder = _folder_with(tmp_path, field, value)
    args = ["transcribe", "demo", str(corpus), "--model", str(folder), "--out", str(tmp_path / "store"),
            "--no-progress", *(["--language", language] if language else [])]
    result = runner.invoke(app, args)
    _assert_one_line_error(result.exit_code, result.output, f"{folder / 'generation_config.json'}: {needle}")
    assert not (tmp_path / "store").exists()
