"""Surface: study files (`featbench study plan|run|status|report FILE.toml`): a valid small study damaged byte by
byte, a value replaced by a hostile one (wrong type, huge, NaN, a name with markup or a path), a key misspelled or
removed, a table of the wrong kind, a huge or non-UTF-8 file.

The contract: `load_study` + `resolve` (everything `plan` checks) refuse with one FeatbenchError line that names the
file and a line number (`small.toml:N:`), or accept a study that plans (every grid has cells); never a traceback,
never a hang, never a run (no output folder, no store is created by checking).
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from hostile.contract import (
    HOSTILE_NAMES,
    Case,
    Surface,
    assert_one_line_error,
    campaign,
    cases_budget,
    hostile_value,
    mutate,
    run_cli,
)

VALID = """[study]
name = "small"
out = "out"
jobs = 1

[corpora.demo]
layout = "demo"
root = "{root}"
transcribe = "."
transcribe_language = "en"

[families.mfcc]
n_mfcc = 13
n_mels = 40
n_fft = 512

[protocol]
folds = 2
seeds = [0]
budgets = [2, "all"]
classifiers = ["logreg"]

[[grids]]
name = "main"
corpus = "demo"
features = ["mfcc"]

[[reports]]
name = "main"
results = ["main"]
"""
KEYS = [
    ("study", "name"),
    ("study", "jobs"),
    ("study", "out"),
    ("corpora.demo", "layout"),
    ("corpora.demo", "root"),
    ("corpora.demo", "transcribe"),
    ("corpora.demo", "transcribe_language"),
    ("families.mfcc", "n_mfcc"),
    ("families.mfcc", "n_mels"),
    ("families.mfcc", "n_fft"),
    ("protocol", "folds"),
    ("protocol", "seeds"),
    ("protocol", "budgets"),
    ("protocol", "classifiers"),
    ("grids", "name"),
    ("grids", "corpus"),
    ("grids", "features"),
    ("reports", "results"),
]


def _toml_value(value) -> str:
    """A hostile Python value written as TOML (what TOML cannot hold becomes a string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and abs(value) < 2**63 and value == value and abs(value) != float("inf"):
        return repr(value)
    if isinstance(value, (int, float)):
        return (
            {float("inf"): "inf", float("-inf"): "-inf"}.get(value, "nan") if isinstance(value, float) else f'"{value}"'
        )
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{}"
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _replace(text: str, table: str, key: str, value: str) -> str:
    header = f"[{table}]" if table not in ("grids", "reports") else f"[[{table}]]"
    head, _, tail = text.partition(header + "\n")
    lines = tail.split("\n")
    for i, line in enumerate(lines):
        if line.startswith(f"{key} ="):
            lines[i] = f"{key} = {value}" if value is not None else ""
            break
    return head + header + "\n" + "\n".join(lines)


def _variant(rng: random.Random, text: str) -> tuple[str | bytes, str]:
    kind = rng.randrange(6)
    table, key = rng.choice(KEYS)
    if kind == 0:
        return mutate(text.encode(), rng), "bytes damaged"
    if kind == 1:
        value = hostile_value(rng)
        return _replace(text, table, key, _toml_value(value)), f"{table}.{key} = {value!r:.40}"
    if kind == 2:
        return _replace(text, table, key, None), f"{table}.{key} removed"
    if kind == 3:
        return _replace(text, table, key, "1").replace(f"{key} = 1", f"{key}x = 1", 1), f"{table}.{key} misspelled"
    if kind == 4:
        name = rng.choice(HOSTILE_NAMES)
        return _replace(text, table, key, _toml_value(name)), f"{table}.{key} = {name!r:.40}"
    return text.replace("[protocol]", "protocol = 3\n[protocol2]", 1), "a table of the wrong kind"


def _cases(root: Path | None = None):
    def cases(rng: random.Random, workdir: Path):
        text = VALID.format(root=root or workdir / "corpus")  # the demo corpus is generated there on first use
        for n in range(10**6):
            data, label = _variant(rng, text)
            folder = workdir / f"case{n}"
            folder.mkdir()
            path = folder / "small.toml"
            path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape"))

            def action(path=path):
                from featbench.study import load_study, resolve

                return resolve(load_study(path))

            def check(resolved, folder=folder):
                return (
                    all(s.n_folds >= 2 and s.budgets for s in resolved.shapes.values())
                    and not (folder / "out").exists()
                )

            yield Case(label, action, check, names=["small.toml:"], seconds=30)

    return cases


SURFACE = Surface("study files", _cases())


def test_study_files_are_refused_in_one_line_with_their_line_or_plan(demo_corpus_master, tmp_path):
    campaign(Surface(SURFACE.name, _cases(demo_corpus_master)), cases_budget(60), tmp_path).assert_clean(at_least=60)


def test_a_refusal_names_the_line_of_the_bad_value(demo_corpus_master, tmp_path):
    from featbench.errors import FeatbenchError
    from featbench.study import load_study, resolve

    text = VALID.format(root=demo_corpus_master)
    lines = text.splitlines()
    for old, new, message in [
        ('layout = "demo"', 'layout = "dmo"', "choose from"),
        ("n_mfcc = 13", "n_mfcc = 0", "n_mfcc"),
        ('features = ["mfcc"]', 'features = ["fbank"]', "does not extract"),
        ('budgets = [2, "all"]', 'budgets = [5000, "all"]', "budget 5000"),
        ('classifiers = ["logreg"]', 'classifiers = ["logrg"]', "unknown classifier"),
        ("jobs = 1", "jobz = 1", "no key 'jobz'"),
        ("jobs = 1", "jobs = 99999999999999999999", "expected a whole number from 1 to 256"),
    ]:
        path = tmp_path / "small.toml"
        path.write_text(text.replace(old, new))
        number = next(i for i, line in enumerate(lines, start=1) if line == old)
        with pytest.raises(FeatbenchError) as err:
            resolve(load_study(path))
        assert re.match(rf"{re.escape(str(path))}:\d+: ", str(err.value)), str(err.value)
        assert message in str(err.value), str(err.value)
        if "budget" not in message and "classifier" not in message:  # those name the grid's or protocol's line
            assert str(err.value).startswith(f"{path}:{number}: "), (str(err.value), number)


def test_the_command_line_refuses_a_typo_in_one_line_and_runs_nothing(demo_corpus_master, tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(VALID.format(root=demo_corpus_master).replace('corpus = "demo"', 'corpus = "dmeo"'))
    for command in ("plan", "run"):  # status and report load the file through the same calls
        result = run_cli(["study", command, str(path)], seconds=60)
        assert_one_line_error(result, naming=[f"{path}:20:", "no such corpus"])
    assert not (tmp_path / "out").exists()


def test_a_missing_corpus_root_is_one_line(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(VALID.format(root="nowhere").replace('layout = "demo"', 'layout = "ravdess"'))
    result = run_cli(["study", "plan", str(path)], seconds=60)
    assert_one_line_error(result, naming=[f"{path}:8:", "no such file or folder"])


def test_a_transcribe_folder_that_is_no_whisper_is_refused_with_its_line_before_any_clip(demo_corpus_master, tmp_path):
    from featbench.errors import FeatbenchError
    from featbench.study import load_study, run_study

    not_whisper = tmp_path / "not-whisper"
    not_whisper.mkdir()
    (not_whisper / "config.json").write_text('{"model_type": "bert"}')
    path = tmp_path / "small.toml"
    path.write_text(VALID.format(root=demo_corpus_master).replace('transcribe = "."', f'transcribe = "{not_whisper}"'))
    with pytest.raises(FeatbenchError) as err:
        run_study(load_study(path), progress=False)
    said = str(err.value)
    assert "small.toml:9: [corpora.demo]" in said and "\n" not in said, said
    assert not (tmp_path / "stores").exists()
