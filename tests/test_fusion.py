"""Combined views ('a+b'): late fusion for the utterance-level classifiers and the cross-modal attention
`fusion` classifier; masks, refusals, rows."""
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.train.runner import Experiment, run_training
from tests.conftest import add_layered_family


def _pairs(n=12, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    pairs = [(rng.normal(size=(int(rng.integers(8, 40)), 3)).astype(np.float32) + y[i],
              rng.normal(size=(int(rng.integers(2, 9)), 5)).astype(np.float32)) for i in range(n)]
    return pairs, y


def test_padded_batch_equals_one_utterance_at_a_time():
    from featbench.train.fusion import FusionClassifier

    pairs, y = _pairs()
    model = FusionClassifier(n_classes=2, max_epochs=2, seed=0, batch_size=12).fit(pairs, y)
    together = model.predict_proba(pairs)
    alone = np.vstack([model.predict_proba([p]) for p in pairs])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    shuffled = model.predict_proba(pairs[::-1])[::-1]  # other batch neighbours, other padding
    np.testing.assert_allclose(together, shuffled, atol=1e-5)


def test_late_and_attention_fusion_rows(layered, tmp_path):
    late = Experiment(layered, ["egemaps-func+toy@L2", "toy@L2"], ["logreg"], [2, "all"], [0], n_folds=4, corpus="demo")
    run_training(late, tmp_path / "late.csv", progress=False)
    rows = pd.read_csv(tmp_path / "late.csv")
    both = rows[rows.view == "egemaps-func+toy@L2"]
    assert len(both) == 8 and set(both.level) == {"utterance"}
    hashes = both.family_config_hash.iloc[0].split("+")
    assert len(hashes) == 2 and hashes[1] == "toyhash"
    attention = Experiment(layered, ["egemaps-lld+toy@L2"], ["fusion"], ["all"], [0], n_folds=4, corpus="demo", seq_epochs=3)
    run_training(attention, tmp_path / "fusion.csv", progress=False)
    rows = pd.read_csv(tmp_path / "fusion.csv")
    assert len(rows) == 4 and set(rows.classifier) == {"fusion"} and set(rows.level) == {"sequence"}
    assert set(rows.view) == {"egemaps-lld+toy@L2"} and rows.ua.between(0, 1).all()


@pytest.mark.parametrize("features, classifiers, message", [
    ("egemaps-lld", "fusion", "the fusion classifier takes two frame- or token-level views joined by '+'"),
    ("egemaps-func+toy@L2", "fusion", "the fusion classifier takes two frame- or token-level views"),
    ("egemaps-lld+toy@L2", "seq", "the sequence model takes one"),
    ("toy@L1+toy@L2", "logreg", "combine different families"),
    ("egemaps-lld+toy@all", "logreg", "each part of a combination is one view"),
    ("egemaps-lld+", "logreg", "an empty part"),
])
def test_combination_errors(layered, tmp_path, features, classifiers, message):
    result = CliRunner().invoke(app, ["train", str(layered), "--features", features, "--classifiers", classifiers,
                                      "--out", str(tmp_path / "r.csv"), "--no-progress"])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and message in result.output, result.output
    assert not (tmp_path / "r.csv").exists()


def test_fusion_of_mismatched_utterance_sets_is_refused(demo_store, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(demo_store, store)
    missing = pd.read_csv(store / "corpus.csv").id.iloc[3]
    add_layered_family(store, skip={missing})
    result = CliRunner().invoke(app, ["train", str(store), "--features", "egemaps-lld+toy@L2", "--classifiers", "fusion",
                                      "--out", str(tmp_path / "r.csv"), "--no-progress"])
    assert result.exit_code == 1 and "cover different utterances" in result.output and missing in result.output
    assert result.output.count("\n") == 1 and not (tmp_path / "r.csv").exists()
