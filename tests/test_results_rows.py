"""Results rows at the file edge (issue 26): rows of one key that disagree are refused naming both lines, repeated
rows are read once with a note, numbers are checked before any arithmetic (1e309, 1e308), cells a spreadsheet would
run are written formula-safe and read back exactly, `results upgrade` says what it left out, and `compare --out`
never writes into a model or a store folder."""
from __future__ import annotations

import csv
import json
import warnings

import pandas as pd
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.errors import FeatbenchError
from featbench.results import LEGACY_COLUMNS, RESULT_COLUMNS, read_results
from hostile.test_results_csv import results_rows, write_results

runner = CliRunner()
FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx", "'=x", "''-1", "'plain"]


def _compare(*args):
    return runner.invoke(app, ["compare", *map(str, args)])


def _one_line(result) -> str:
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_two_rows_of_one_key_with_different_scores_are_one_line_naming_both(tmp_path):
    rows = results_rows()
    path = write_results(tmp_path / "r.csv", rows + [rows[1] | {"ua": 0.43}])  # rows[1] is line 3
    line = _one_line(_compare(path, "--out", tmp_path / "rep"))
    assert f"{path} line 3 and {path} line 10 hold the same row (view a, classifier logreg, budget 2, fold 1" in line
    assert "different ua (0.51 | 0.43)" in line and not (tmp_path / "rep").exists()
    other = write_results(tmp_path / "other.csv", [rows[1] | {"ua": 0.43}])  # across files: both named too
    line = _one_line(_compare(write_results(tmp_path / "s.csv", rows), other, "--out", tmp_path / "rep"))
    assert f"{tmp_path / 's.csv'} line 3 and {other} line 2 hold the same row" in line


def test_a_row_repeated_identically_is_read_once_with_a_note(tmp_path):
    rows = results_rows()
    path = write_results(tmp_path / "r.csv", rows + [rows[0]])
    table = read_results([path, write_results(tmp_path / "copy.csv", rows)])  # a file given twice, in effect
    assert len(table.rows) == len(rows)
    assert f"{path} line 10 repeats {path} line 2 (every column the same): read once" in table.notes
    assert any(n.startswith(f"{tmp_path / 'copy.csv'} line 2 repeats {path} line 2") for n in table.notes)
    made = _compare(path, "--out", tmp_path / "rep")
    assert made.exit_code == 0 and "read once" in made.output, made.output


@pytest.mark.parametrize("column, value, message", [
    ("normalisation_clips", "1e309", "normalisation_clips is '1e309', not a finite number of at most 1e+15"),
    ("fit_seconds", "1e308", "fit_seconds is '1e308', not a finite number of at most 1e+15"),
    ("examples_per_class", "1e300", "examples_per_class is '1e300', not a finite number of at most 1e+15"),
    ("fold", "1.5", "fold is '1.5', not a whole number"),
    ("choice", '{"layer_weights": [1e309]}', "choice holds a number that is not finite or is above 1e+15"),
])
def test_an_overflowing_number_is_one_line_before_any_arithmetic(tmp_path, column, value, message):
    """Before: normalisation_clips 1e309 was a traceback, fit_seconds 1e308 a RuntimeWarning (overflow in a sum) and a
    report saying 'train inf s', examples_per_class 1e300 a matplotlib overflow warning, a layer weight 1e309 an
    'invalid value' warning."""
    path = write_results(tmp_path / "r.csv", results_rows())
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[2, column] = value
    frame.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        line = _one_line(_compare(path, "--out", tmp_path / "rep"))
    assert line == f"featbench: error: {path}: malformed results file (line 4: {message})"


def test_formula_cells_are_written_safe_and_read_back_exactly(tmp_path):
    rows = results_rows()
    written = [r | {"test_groups": name, "hp_selection": name, "ua": -0.25, "macro_f1": -1e-05}
               for r, name in zip(rows, FORMULAS * 2)]
    path = write_results(tmp_path / "r.csv", written)
    with path.open(newline="") as handle:
        cells = list(csv.DictReader(handle))
    for cell, row in zip(cells, written):
        assert cell["hp_selection"][0] not in "=+-@\t\r" and cell["hp_selection"].lstrip("'") == row["hp_selection"].lstrip("'")
        assert cell["ua"] == "-0.25" and cell["macro_f1"] == "-1e-05"  # numbers stay numbers
    back = read_results(path, str).rows
    assert back["hp_selection"].tolist() == [r["hp_selection"] for r in written]
    assert back["test_groups"].tolist() == [r["test_groups"] for r in written]
    assert read_results(path).rows["ua"].tolist() == [-0.25] * len(written)


def test_report_and_prediction_csvs_neutralise_formula_cells(tmp_path):
    from featbench.model.output import write_csv

    rows = [r | {"ua_by_speaker": json.dumps({"=HYPERLINK(\"http://x\")": r["ua"], "-2+3": r["ua"]})}
            for r in results_rows()]
    made = _compare(write_results(tmp_path / "r.csv", rows), "--out", tmp_path / "rep")
    assert made.exit_code == 0, made.output
    text = (tmp_path / "rep" / "by_speaker.csv").read_text()
    assert "'=HYPERLINK" in text and "'-2+3" in text and ",=" not in text and ",-2+3" not in text
    frame = pd.DataFrame({"id": ["@x"], "path": ["a.wav"], "predicted": ["=cmd|' /C calc'!A0"], "p_=cmd": [0.5]})
    write_csv(frame, tmp_path / "p.csv", "abc")
    assert (tmp_path / "p.csv").read_text().splitlines() == ["id,path,predicted,p_=cmd,model",
                                                              "'@x,a.wav,'=cmd|' /C calc'!A0,0.5,abc"]


def test_upgrade_says_it_dropped_a_torn_last_line(tmp_path):
    path = tmp_path / "old.csv"
    row = dict.fromkeys(LEGACY_COLUMNS, "1") | {"family": "fbank", "budget": "8"}
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, LEGACY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerow(row)
    with path.open("a") as handle:
        handle.write("demo,a,b")  # a run killed in the middle of a line
    result = runner.invoke(app, ["results", "upgrade", str(path)])  # stderr apart (click 8.2)
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"{path}: dropped an incomplete last line (a run was interrupted while writing it)"
    assert result.stdout.strip() == f"{path}: 1 rows rewritten as results schema 5"
    assert list(pd.read_csv(path).columns) == RESULT_COLUMNS


@pytest.mark.parametrize("folder, inside", [("model", ""), ("model", "report"), ("store", ""), ("store", "sub/report")])
def test_compare_out_is_never_a_model_or_store_folder(tmp_path, folder, inside):
    target = tmp_path / folder
    target.mkdir()
    if folder == "model":
        (target / "manifest.json").write_text(json.dumps({"format": "featbench-model"}))
    else:
        (target / "corpus.csv").write_text("id,path,label,speaker\n")
        (target / "fbank.h5").write_bytes(b"")
    before = sorted(p.name for p in target.iterdir())
    out = target / inside if inside else target
    line = _one_line(_compare(write_results(tmp_path / "r.csv", results_rows()), "--out", out))
    kind = "model folder" if folder == "model" else "feature store"
    assert line == (f"featbench: error: --out {out}: {'inside' if inside else 'is'} the {kind} {target}; write the "
                    "report elsewhere")
    assert sorted(p.name for p in target.iterdir()) == before


def test_timings_file_is_checked_before_any_clip(demo_corpus, tmp_path):
    from featbench.corpus import load_corpus
    from featbench.extract import run_extraction

    store = tmp_path / "store"
    store.mkdir()
    (store / "timings.csv").write_text("not,our,columns\n1,2,3\n")
    with pytest.raises(FeatbenchError, match=r"timings.csv: not a featbench timings file"):
        run_extraction(load_corpus("demo", demo_corpus), [("egemaps-func", {})], store, progress=False)
    assert not (store / "egemaps-func.h5").exists() and not (store / ".pending").exists()
