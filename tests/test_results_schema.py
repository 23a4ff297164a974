"""Results schema 3: a row's training data and protocol are columns, not text inside `family`; files of schema 1-2
(the committed results/ravdess files) are read converted, rewritten by `featbench results upgrade`, never appended to."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.errors import FeatbenchError
from featbench.results import RESULT_COLUMNS, ResultsFile, labels, read_results
from featbench.train.runner import Experiment, run_training

ROOT = Path(__file__).resolve().parents[1]
# Results files as featbench wrote them in results schema 2 (seed 0 of the RAVDESS per-speaker grids, before those
# were regenerated in schema 5), kept byte for byte as fixtures of the legacy reader and `featbench results upgrade`.
OLD = Path(__file__).resolve().parent / "data" / "schema2"
CLIPS = OLD / "per_speaker_8class_clips.csv"
PER_SPEAKER = OLD / "per_speaker_8class.csv"


def test_a_committed_schema_2_file_reads_as_columns():
    rows = read_results(CLIPS).rows
    assert list(rows.columns) == RESULT_COLUMNS
    assert set(rows.family) == {"egemaps-func", "whisper"} and set(rows.view) == {"egemaps-func", "whisper@weighted"}
    assert set(rows.layer_choice) == {"", "weighted"} and set(rows.design) == {"within"}
    assert set(rows.normalisation) == {"per-speaker"} and set(rows.normalisation_clips) == {4, 8, 16, 32}
    assert set(rows.validation) == {"source"} and not rows.speakers_confounded.any()
    old = pd.read_csv(CLIPS, dtype=str, keep_default_na=False)
    assert (labels(rows) == old.family).all()  # the one formatter gives back the old names


def test_upgrade_rewrites_the_same_values_and_appending_to_an_old_file_is_refused(tmp_path):
    path = tmp_path / "r.csv"
    shutil.copy(PER_SPEAKER, path)
    with pytest.raises(FeatbenchError, match=r"results schema 1-2 .*`featbench results upgrade .*r\.csv`"):
        ResultsFile(path).__enter__()
    assert path.read_bytes() == PER_SPEAKER.read_bytes()
    result = CliRunner().invoke(app, ["results", "upgrade", str(path)])
    assert result.exit_code == 0 and "108 rows rewritten as results schema 5" in result.output, result.output
    new, old = (pd.read_csv(p, dtype=str, keep_default_na=False) for p in (path, PER_SPEAKER))
    assert list(new.columns) == RESULT_COLUMNS
    same = [c for c in old.columns if c != "family"]
    pd.testing.assert_frame_equal(new[same], old[same])  # every score as it was written, text for text
    assert (new.normalisation == "per-speaker").all() and (labels(new) == old.family).all()
    again = CliRunner().invoke(app, ["results", "upgrade", str(path)])
    assert again.exit_code == 1 and "already results schema 5" in again.output and "Traceback" not in again.output
    with ResultsFile(path) as results:  # schema 5: appended to
        assert results.n_rows == 108


def test_train_writes_the_columns_and_pandas_filters_them(demo_store, tmp_path):
    out = tmp_path / "r.csv"
    for normalisation in ("training", "per-speaker:4"):
        run_training(Experiment(demo_store, ["egemaps-func"], ["logreg"], ["all"], [0], n_folds=2,
                                normalisation=normalisation, allow_confounded_speakers=normalisation != "training"),
                     out, progress=False)
    rows = pd.read_csv(out)
    per_speaker = rows[rows.normalisation == "per-speaker"]  # the README's one-liner
    assert len(per_speaker) == 2 and set(per_speaker.normalisation_clips) == {4}
    assert set(rows.family) == {"egemaps-func"} and set(rows.design) == {"within"}
    assert set(labels(rows)) == {"egemaps-func", "egemaps-func [per-speaker normalisation on 4 clips]"} | (
        {"egemaps-func [per-speaker normalisation on 4 clips, speakers confounded]"} if rows.speakers_confounded.any()
        else set())


def test_baseline_is_a_view_and_a_normalisation_and_a_typo_gets_the_closest_entry(tmp_path):
    runner = CliRunner()
    made = runner.invoke(app, ["compare", str(PER_SPEAKER), "--baseline", "egemaps-func", "--baseline-norm",
                               "per-speaker", "--out", str(tmp_path / "a")])
    assert made.exit_code == 0, made.output
    text = (tmp_path / "a" / "report.md").read_text()  # the baseline by its plain name, its code in the Protocol
    assert "Baseline: eGeMAPS functionals, per-speaker normalisation, at budget" in text
    assert "(code: egemaps-func \\[per-speaker normalisation\\] (selected))" in text
    typo = runner.invoke(app, ["compare", str(PER_SPEAKER), "--baseline", "egemaps-fun", "--baseline-norm",
                               "per-speaker", "--out", str(tmp_path / "b")])
    assert typo.exit_code == 1 and "did you mean 'egemaps-func [per-speaker normalisation]'?" in typo.output
    assert "Traceback" not in typo.output and not (tmp_path / "b").exists()


def test_no_code_reads_the_old_names_but_the_legacy_reader():
    found = subprocess.run(["grep", "-rn", r"EntryName\|NAME_BREAKERS\|split_normalisation", str(ROOT / "featbench")],
                           capture_output=True, text=True).stdout
    assert found == ""
