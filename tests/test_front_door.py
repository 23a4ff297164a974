"""The front door, as a new user meets it (issue 26): usage errors in one line, help shown as written, layout names
in any case, a budget error that names what every fold serves, UA as a percentage, predict and fit checking their
paths before the heavy imports, the old `predict MODEL csv FILE` spelling answered with the new one, progress bars
only on a terminal and one speed figure per run, default outputs git ignores, reports titled by the corpus's
name, and the Makefile, README, docs and CHANGELOG that say so."""
from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from conftest import REPO
from featbench.cli import app
from hostile.contract import assert_one_line_error, run_cli

runner = CliRunner()


def _lines(result) -> list[str]:
    return result.output.strip().splitlines()


@pytest.mark.parametrize("args, naming", [
    (["train"], "train: missing argument 'STORE'"),
    (["train", "s/", "--bogus", "1"], "train: no such option: --bogus"),
    (["trian"], "no such command 'trian'"),
    (["train", "s/", "--jobs", "0"], "train: invalid value for '--jobs'"),
    (["compare", "r.csv", "--target-ua", "2"], "compare: invalid value for '--target-ua'"),
    (["results", "upgrade"], "results upgrade: missing argument 'FILE'"),
])
def test_usage_errors_are_one_line_with_exit_2(args, naming):
    result = runner.invoke(app, args)
    lines = _lines(result)
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert lines[0].startswith("featbench: error: ") and naming in lines[0] and lines[0].endswith("--help"), lines[0]


def test_usage_error_of_the_real_program_is_one_line_naming_featbench():
    line = assert_one_line_error(run_cli(["predict", "model/"], seconds=60), "missing argument 'INPUT...'", code=2)
    assert line == "featbench: error: predict: missing argument 'INPUT...'; see featbench predict --help"


def _help(command: list[str], width: int = 200) -> str:
    return runner.invoke(app, [*command, "--help"], env={"COLUMNS": str(width)}, terminal_width=width).output


def test_help_keeps_square_brackets_whole_sentences_and_three_dots():
    compare = _help(["compare"])
    assert "('egemaps-func [per-speaker normalisation]')" in compare  # Rich read it as markup: "('egemaps-func ')"
    assert "Usage: featbench compare [OPTIONS] RESULTS..." in compare and "RESULTS....." not in compare
    assert "Usage: featbench predict [OPTIONS] MODEL INPUT..." in _help(["predict"]) and "INPUT....." not in _help(["predict"])
    transcribe = _help(["transcribe"])  # the docstring's own line breaks were kept, whatever the width
    assert "Where the corpus has reference transcripts (RAVDESS sentences" in transcribe
    spec = importlib.util.spec_from_file_location("commands_hook", REPO / "docs" / "hooks" / "commands.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    reference = "\n".join(hook.reference(typer.main.get_command(app)))
    assert "featbench predict [OPTIONS] MODEL INPUT...\n" in reference and "INPUT....." not in reference
    assert "[per-speaker normalisation]" in reference and "\\[" not in reference


def test_layout_names_are_taken_in_any_case(demo_corpus):
    result = runner.invoke(app, ["corpus", "CSV", str(demo_corpus / "manifest.csv"), "--classes", "sad,angry"])
    assert result.exit_code == 0 and "16 utterances, 2 classes, 4 speakers" in result.output, result.output


def _uneven_store(folder):
    """A store whose folds serve different budgets: class 'a' has 2 clips of speaker s0 and 10 of each other
    speaker, so the fold testing s0 trains on 30 'a' clips and the others on 22."""
    from featbench.store import FamilyMeta, StoreWriter, write_corpus

    rows = [dict(id=f"{s}_{label}{k}", path=f"{s}_{label}{k}.wav", label=label, speaker=s, group=s, gender="",
                 duration="1.0", transcript="") for s in ("s0", "s1", "s2", "s3") for label in "ab"
            for k in range(2 if (s, label) == ("s0", "a") else 10)]
    table = pd.DataFrame(rows)
    folder.mkdir()
    write_corpus(folder, table)
    meta = FamilyMeta("toy", "two numbers", {}, "toyhash", {}, {}, 16000, 0.0, ["x0", "x1"])
    rng = np.random.default_rng(0)
    with StoreWriter(folder) as writer:
        writer.prepare(meta)
        for uid in table.id:
            writer.add("toy", uid, "h" + uid, rng.normal(size=(1, 2)).astype(np.float32))
        writer.consolidate("toy", list(table.id))
    return folder


def test_the_budget_error_names_the_largest_budget_every_fold_serves(tmp_path):
    store = _uneven_store(tmp_path / "store")
    result = runner.invoke(app, ["train", str(store), "--features", "toy", "--classifiers", "logreg", "--budgets", "40",
                                 "--seeds", "0", "--out", str(tmp_path / "r.csv"), "--no-progress"])
    lines = _lines(result)
    assert result.exit_code == 1 and len(lines) == 1, result.output
    # fold 0 alone holds 30: advising 30 sent the user to a second error ("use at most 22")
    assert "the largest budget every fold can serve is 22 per class; use at most 22 or 'all'" in lines[0], lines[0]
    assert not (tmp_path / "r.csv").exists()


def test_fit_says_the_validation_ua_as_a_percentage(demo_store, tmp_path):
    result = runner.invoke(app, ["fit", str(demo_store), "--features", "egemaps-func", "--classifier", "logreg",
                                 "--out", str(tmp_path / "model")])
    assert result.exit_code == 0, result.output
    assert re.search(r"val UA \d{1,3}\.\d%", result.output) and not re.search(r"val UA 0\.\d{3}", result.output), result.output


_NO_TORCH = ("import sys\nfrom featbench.cli import main\nsys.argv = ['featbench', *sys.argv[1:]]\ntry:\n    main()\n"
             "finally:\n    print('torch imported' if 'torch' in sys.modules else 'torch not imported')\n")


@pytest.mark.parametrize("args, naming", [
    (["predict", "{tmp}/nowhere", "{tmp}/clip.wav"], "nowhere: no such model folder"),
    (["predict", "{tmp}", "{tmp}/clip.wav"], "clip.wav: no such file or folder"),
    (["fit", "{tmp}/nostore", "--features", "egemaps-func", "--classifier", "logreg"], "nostore: no such store folder"),
])
def test_predict_and_fit_check_their_paths_before_importing_torch(tmp_path, args, naming):
    done = subprocess.run([sys.executable, "-c", _NO_TORCH, *(a.format(tmp=tmp_path) for a in args)], cwd=tmp_path,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1 and done.stderr.startswith("featbench: error: ") and naming in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stdout.strip() == "torch not imported", done.stdout


def test_the_old_predict_spelling_gets_the_new_one_in_one_line(demo_corpus, tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    manifest = str(demo_corpus / "manifest.csv")
    result = runner.invoke(app, ["predict", str(model), "csv", manifest, "--out", str(tmp_path / "p.csv")])
    lines = _lines(result)
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert f"featbench predict {model} --layout csv {manifest}" in lines[0] and "no such file" not in lines[0], lines[0]


@pytest.fixture(scope="module")
def cli_extraction(demo_corpus_master, tmp_path_factory):
    """The demo corpus extracted by the command line, its bar asked for: (the store, what the run printed)."""
    store = tmp_path_factory.mktemp("door") / "demo-store"
    result = runner.invoke(app, ["extract", "demo", str(demo_corpus_master), "--features", "egemaps-func",
                                 "--out", str(store), "--progress"])
    assert result.exit_code == 0, result.output
    return store, result.output


def test_an_asked_for_bar_shows_and_the_run_says_one_speed(cli_extraction):
    _, output = cli_extraction
    assert "extract: 100%" in output  # --progress: the bar, even where stderr is not a terminal
    assert len(re.findall(r"realtime|audio/s|clips/s", output)) == 1, output  # the bar and the summary each had one
    assert re.search(r"\d+ s of audio in [\d.]+ s, [\d.]+x realtime", output), output


def test_no_bar_where_stderr_is_not_a_terminal(cli_extraction, tmp_path):
    store, _ = cli_extraction  # CliRunner's stderr is no terminal
    result = runner.invoke(app, ["train", str(store), "--classifiers", "logreg", "--budgets", "4", "--seeds", "0",
                                 "--out", str(tmp_path / "r.csv")])
    assert result.exit_code == 0 and "train:" not in result.output and "%|" not in result.output, result.output


def test_rows_and_report_are_named_by_the_corpus_not_the_store_folder(cli_extraction, tmp_path):
    store, _ = cli_extraction
    results, report = tmp_path / "results.csv", tmp_path / "report"
    assert runner.invoke(app, ["train", str(store), "--classifiers", "logreg", "--budgets", "4,all", "--seeds", "0",
                               "--out", str(results)]).exit_code == 0
    assert set(pd.read_csv(results).corpus) == {"demo"}  # the store folder is 'demo-store'
    assert runner.invoke(app, ["compare", str(results), "--out", str(report)]).exit_code == 0
    assert (report / "report.md").read_text().startswith("# featbench report: demo, 4 classes")


def _outputs(group, path="featbench"):
    """(command, default) of every --out (and its predictions' errors file) of the command tree."""
    for name, command in getattr(group, "commands", {}).items():
        for param in command.params:
            if "--out" in getattr(param, "opts", ()) and param.default:
                yield f"{path} {name}", str(param.default)
                if name == "predict":
                    yield f"{path} {name}", f"{Path(str(param.default)).stem}_errors.csv"
        yield from _outputs(command, f"{path} {name}")


@pytest.mark.skipif(shutil.which("git") is None or not (REPO / ".git").exists(), reason="needs git and a checkout")
def test_default_outputs_in_the_repository_root_are_ignored_by_git():
    outputs = sorted(set(_outputs(typer.main.get_command(app))))
    assert len(outputs) >= 7
    for command, default in outputs:
        path = default if default.endswith(".csv") else f"{default}/anything"  # a folder: what lands in it
        done = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=REPO)
        assert done.returncode == 0, f"{command} writes {default} into the repository root, and git does not ignore it"


def test_make_test_shows_skip_reasons_and_slowest_tests_and_make_test_fast_leaves_out_the_slow_ones():
    makefile = (REPO / "Makefile").read_text()
    test = re.search(r"^test: .*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    fast = re.search(r"^test-fast: .*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "-rs" in test and "--durations=" in test and "not slow" not in test
    assert '-m "not slow"' in fast and "-rs" in fast
    assert "slow" in (REPO / "pyproject.toml").read_text()
    # both in pytest-xdist workers, the groups of tests/conftest.py TOGETHER kept on one worker each
    assert "$(PYTEST)" in test and "$(PYTEST)" in fast
    assert re.search(r"^PYTEST := .*pytest -n \$\(TEST_WORKERS\) --dist loadgroup$", makefile, re.M)
    assert '"pytest-xdist' in (REPO / "pyproject.toml").read_text()


def test_the_changelog_covers_every_version_up_to_this_one():
    import featbench

    text = (REPO / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog") and "keepachangelog.com" in text
    versions = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    assert versions[0] == "Unreleased" and versions[1] == featbench.__version__ and versions[-1] == "0.1.0", versions
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        assert re.match(r"\[(Unreleased|\d+\.\d+\.\d+)\]( - \d{4}-\d{2}-\d{2})?\n", section), section[:80]
        assert re.search(r"^### (Added|Changed|Deprecated|Removed|Fixed|Security)$", section, re.M), section[:80]


def test_the_docs_say_where_every_corpus_layout_comes_from_and_the_readme_what_it_costs():
    from featbench.corpus import LOADERS

    corpora = (REPO / "docs" / "corpora.md").read_text()
    sources = corpora.split("## Where the corpora come from")[1].split("\n## ")[0]
    for layout in set(LOADERS) - {"csv", "demo"}:
        entry = next((line for line in sources.splitlines() if line.startswith(f"| `{layout}`")), "")
        assert "https://" in entry and "licen" in entry.lower(), f"{layout}: no source and licence in docs/corpora.md"
    readme = (REPO / "README.md").read_text()
    for needle in ("../shared", "make test-fast", "docs/corpora.md", "GB", "zenodo"):
        assert needle in readme, needle


def test_every_test_marked_slow_or_kept_together_exists():
    from conftest import SLOW, TOGETHER

    for name in [*SLOW, *TOGETHER]:
        module, _, test = name.partition("::")
        assert (REPO / module).is_file() and (not test or f"def {test}(" in (REPO / module).read_text()), name
