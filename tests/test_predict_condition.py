"""`predict --condition`: new clips degraded before their features, exactly as `extract --conditions` degrades them;
babble (a condition that needs a corpus) refused in one line."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.errors import FeatbenchError
from featbench.extract import run_extraction
from featbench.model import FitSpec, fit_model, run_prediction
from featbench.store import read_corpus, read_family
from tests.test_extract_conditions import _Talker

runner = CliRunner()


@pytest.fixture(scope="module")
def model(demo_store, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("models") / "egemaps"
    fit_model(FitSpec.of(demo_store, "egemaps-func", "logreg")).model.save(folder)
    return folder


def _predict(model, clips, out, *extra):
    return runner.invoke(app, ["predict", str(model), str(clips), "--out", str(out), "--no-progress", *map(str, extra)])


def test_predict_under_a_condition_reads_the_features_extract_makes_under_it(model, demo_corpus_master, tmp_path):
    clips = demo_corpus_master / "f1"  # 8 clips
    noisy = _predict(model, clips, tmp_path / "noisy.csv", "--condition", "white:0", "--store", tmp_path / "s")
    assert noisy.exit_code == 0 and "egemaps-func under white:0: 0 clips already stored, 8 extracted" in noisy.output, noisy.output
    clean = _predict(model, clips, tmp_path / "clean.csv")
    assert clean.exit_code == 0, clean.output
    run_extraction(read_corpus(tmp_path / "s").assign(duration=0.0), [("egemaps-func", {})], tmp_path / "x", progress=False,
                   conditions="white:0")
    by_predict, by_extract = read_family(tmp_path / "s", "egemaps-func~white_0"), read_family(tmp_path / "x", "egemaps-func~white_0")
    assert by_predict.meta.config_hash == by_extract.meta.config_hash
    for uid in by_extract.ids:
        np.testing.assert_array_equal(by_predict.get(uid), by_extract.get(uid))
    p_noisy, p_clean = pd.read_csv(tmp_path / "noisy.csv"), pd.read_csv(tmp_path / "clean.csv")
    assert not np.allclose(p_noisy.filter(like="p_").to_numpy(), p_clean.filter(like="p_").to_numpy())


def test_a_bad_or_corpus_bound_condition_is_one_line_before_any_clip(model, demo_corpus_master, tmp_path):
    result = _predict(model, demo_corpus_master / "f1", tmp_path / "p.csv", "--condition", "white:loud")
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert "condition 'white:loud'" in result.output and "valid forms" in result.output
    with pytest.raises(FeatbenchError, match="mixes in other speakers of a corpus"):
        run_prediction(model, [demo_corpus_master], tmp_path / "p.csv", layout="demo", progress=False,
                       condition=_Talker())
    assert not (tmp_path / "p.csv").exists()
