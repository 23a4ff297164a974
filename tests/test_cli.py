import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from featbench.cli import EXIT_PARTIAL, app

runner = CliRunner()


def test_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("corpus", "extract", "families", "demo"):
        assert command in result.output


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("featbench ")


def test_corpus_summary(demo_corpus):
    result = runner.invoke(app, ["corpus", "csv", str(demo_corpus / "manifest.csv"), "--classes", "sad,angry"])
    assert result.exit_code == 0, result.output
    assert "16 utterances, 2 classes, 4 speakers" in result.output
    assert "problems found: 0" in result.output


def test_extract_then_rerun_skips(demo_corpus, tmp_path):
    args = ["extract", "demo", str(demo_corpus), "--features", "egemaps-func,fbank", "--set", "fbank.n_mels=20",
            "--out", str(tmp_path / "store"), "--no-progress"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "32 extracted" in first.output
    second = runner.invoke(app, args)
    assert "32 already stored, 0 extracted" in second.output


def test_partial_run_exit_code(demo_corpus, tmp_path):
    manifest = demo_corpus / "manifest.csv"
    rows = pd.read_csv(manifest)
    (demo_corpus / "broken.wav").write_text("nope")
    pd.concat([rows, pd.DataFrame([dict(id="broken", path="broken.wav", label="sad", speaker="demo_f1")])]).to_csv(manifest, index=False)
    result = runner.invoke(app, ["extract", "csv", str(manifest), "--features", "egemaps-func", "--out", str(tmp_path / "s"), "--no-progress"])
    assert result.exit_code == EXIT_PARTIAL
    assert "1 failed" in result.output and "errors.csv" in result.output


def test_user_errors_are_one_line(tmp_path):
    cases = [
        ["extract", "voxceleb", str(tmp_path)],
        ["extract", "ravdess", str(tmp_path / "nowhere")],
        ["extract", "ravdess", str(tmp_path), "--features", "mfcc"],
        ["extract", "ravdess", str(tmp_path), "--features", "fbank", "--set", "raw.x=1"],
        ["corpus", "csv", str(tmp_path / "m.csv")],
    ]
    for args in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("featbench: error: "), (args, result.output)
        assert "Traceback" not in result.output


def test_real_subprocess_error_path(tmp_path):
    bad = tmp_path / "m.csv"
    bad.write_text("file,emotion\na.wav,sad\n")
    result = subprocess.run([sys.executable, "-m", "featbench", "extract", "csv", str(bad), "--out", str(tmp_path / "s")],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == f"featbench: error: {bad}: no column 'path' (columns: file, emotion)"
    assert result.stdout == ""


def test_locked_store_through_cli(demo_corpus, tmp_path):
    from featbench.store import StoreWriter

    with StoreWriter(tmp_path / "store"):
        code = ("import sys; from featbench.cli import main; sys.argv = ['featbench', 'extract', 'demo', "
                f"{str(demo_corpus)!r}, '--features', 'raw', '--out', {str(tmp_path / 'store')!r}]; main()")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    assert "another featbench process is writing this store" in result.stderr
    assert "Traceback" not in result.stderr


def _one_line_error(result, *needles):
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("featbench: error: "), result.output
    for needle in needles:
        assert needle in lines[0], result.output
    return lines[0]


@pytest.mark.parametrize("setting, message", [  # fault 11: options are typed and checked before any clip
    ("fbank.n_mels=abc", "fbank.n_mels='abc': not a whole number"),
    ("fbank.n_mels=40.5", "fbank.n_mels='40.5': not a whole number"),
    ("fbank.center=maybe", "fbank.center='maybe': not a yes/no value"),
    ("fbank.fmax=50000", "fmax"),
    ("fbank.fmin=6000", "fmin"),
    ("fbank.hop_ms=nan", "not a finite number"),
    ("fbank.hop_ms=0.01", "must each span at least one sample"),
    ("fbank.n_mels=500", "contain no FFT bin"),
])
def test_bad_family_options_are_one_line_before_any_clip(demo_corpus, tmp_path, setting, message):
    store = tmp_path / "store"
    extra = ["--set", "fbank.fmax=4000"] if "fmin" in setting else []
    result = runner.invoke(app, ["extract", "demo", str(demo_corpus), "--features", "fbank", "--set", setting, *extra,
                                 "--out", str(store), "--no-progress"])
    _one_line_error(result, message)
    assert not store.exists()  # nothing was touched


@pytest.mark.parametrize("rate", ["0", "-16000", "100"])
def test_bad_sample_rate_is_one_line(demo_corpus, tmp_path, rate):
    result = runner.invoke(app, ["extract", "demo", str(demo_corpus), "--features", "fbank", f"--sample-rate={rate}",
                                 "--out", str(tmp_path / "s"), "--no-progress"])
    assert _one_line_error(result, f"sample rate {rate} Hz").endswith("(e.g. 16000)")


@pytest.mark.parametrize("content, message", [  # fault 11: compare on files that are not results
    (b"", "no results rows to compare"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8 text"),
    (b"a,b\n1,2\n", "not a featbench results file"),
])
def test_compare_on_bad_files_is_one_line(tmp_path, content, message):
    path = tmp_path / "r.csv"
    path.write_bytes(content)
    assert message in _one_line_error(runner.invoke(app, ["compare", str(path), "--out", str(tmp_path / "rep")]))
    assert not (tmp_path / "rep" / "report.md").exists()


def test_compare_on_malformed_results_is_one_line(tmp_path):
    from featbench.results import RESULT_COLUMNS

    path = tmp_path / "r.csv"
    path.write_text(",".join(RESULT_COLUMNS) + "\n" + ",".join(["x"] * (len(RESULT_COLUMNS) + 3)) + "\n")
    line = _one_line_error(runner.invoke(app, ["compare", str(path), "--out", str(tmp_path / "rep")]))
    assert "malformed results file (line 2 has" in line


def test_repeated_list_items_are_refused(demo_store, tmp_path):
    for args, message in [(["--budgets", "4,4"], "budget 4 is given twice"), (["--seeds", "0,0"], "seed 0 is given twice"),
                          (["--classifiers", "svm,svm"], "--classifiers names 'svm' twice")]:
        assert message in _one_line_error(runner.invoke(app, ["train", str(demo_store), "--out", str(tmp_path / "r.csv"), *args]))
        assert not (tmp_path / "r.csv").exists()  # refused before the results file is opened


def test_help_shows_defaults_whole():
    # issue 9: rich used to cut long defaults at 80 columns ("egemaps-func,egemaps-…")
    for command in ("extract", "train", "compare", "corpus", "verify", "demo"):
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
        assert result.exit_code == 0 and "…" not in result.output, (command, result.output)
    extract = " ".join(runner.invoke(app, ["extract", "--help"], env={"COLUMNS": "80"}).output.split())
    assert "egemaps-func, egemaps-lld, compare-lld, fbank, raw" in extract.replace("│ ", "")


@pytest.mark.parametrize("args, message", [  # issue 19 item 12: isdigit() takes '²', and seeds >= 2**32 reached sklearn
    (["train", "--seeds", "\u00b2"], "seed '\u00b2' is not a non-negative integer"),
    (["train", "--seeds", "0,4294967296"], "seed 4294967296 is above 4294967295"),
    (["train", "--budgets", "8,\u00b2"], "budget '\u00b2' is not a positive number"),
    (["fit", "--features", "egemaps-func", "--classifier", "logreg", "--seed", "4294967296"], "seed 4294967296 is above"),
    (["fit", "--features", "egemaps-func", "--classifier", "logreg", "--seed", "\u00b2"], "--seed '\u00b2' is not"),
])
def test_integer_options_are_ascii_digits_in_range(demo_store, tmp_path, args, message):
    command, *rest = args
    out = tmp_path / ("r.csv" if command == "train" else "model")
    result = runner.invoke(app, [command, str(demo_store), "--out", str(out), *rest])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1 and message in lines[0], result.output
    assert not (tmp_path / "r.csv").exists() and not (tmp_path / "model").exists()


def test_help_is_grouped_and_free_of_type_noise():
    # issue 21: `train --help` was 164 lines at 80 columns, with <bool> on flags and Python types in usage
    train = runner.invoke(app, ["train", "--help"], env={"COLUMNS": "80"}, terminal_width=80).output
    for panel in ("Protocol", "Features", "Classifiers", "Output", "Execution"):
        assert f"─ {panel} ─" in train, panel
    assert len(train.splitlines()) <= 110, len(train.splitlines())
    assert "Usage: featbench train [OPTIONS] STORE" in train
    for command in ("extract", "transcribe", "train", "fit", "predict", "compare", "corpus", "verify", "demo", "families"):
        text = runner.invoke(app, [command, "--help"], env={"COLUMNS": "80"}, terminal_width=80).output
        for noise in ("<bool>", "<str>", "<path>", "<int", "<list", "<float", "{"):
            assert noise not in text, (command, noise)
        assert "[default: " in text or command in ("corpus", "families"), command  # defaults are kept
