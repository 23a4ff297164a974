"""Two corpora: train on one and test on another (cross-corpus), and transfer curves (all of one corpus added
to another's budgets), with the label sets and feature configurations checked and the target's test
speakers used for the test only."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd

from featbench.results import labels
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.corpus import load_corpus, synthetic
from featbench.errors import FeatbenchError
from featbench.extract import run_extraction
from featbench.report import compare
from featbench.train import Experiment, run_training
from tests.conftest import RAVDESS, needs_ravdess

FEATURES = [("egemaps-func", {})]
TRAINING = ["family", "classifier", "fold", "seed", "budget", "choice", "val_ua", "hparams", "hp_selection", "n_train",
            "examples_per_class"]


@pytest.fixture(scope="module")
def other_store(tmp_path_factory):
    """A second synthetic corpus (other speakers, another seed): the corpus added or trained on."""
    root = tmp_path_factory.mktemp("other")
    synthetic.generate(root / "corpus", per_class=2, speakers=4, seed=7)
    store = root / "other"
    run_extraction(load_corpus("demo", root / "corpus"), FEATURES, store, progress=False)
    return store


def _exp(store, **kw) -> Experiment:
    base = dict(store=store, families=["egemaps-func"], classifiers=["logreg", "selected(logreg+svm)"], budgets=[2, "all"],
                seeds=[0, 1], n_folds=4)
    return Experiment(**{**base, **kw})


def test_transfer_rows_count_the_target_budget_and_name_both_corpora(demo_store, other_store, tmp_path):
    run_training(_exp(demo_store, add_store=other_store), tmp_path / "t.csv", progress=False)
    rows = pd.read_csv(tmp_path / "t.csv")
    n_other = len(pd.read_csv(other_store / "corpus.csv"))
    assert set(labels(rows)) == {"egemaps-func [+other]"} and set(rows.corpus) == {demo_store.name}
    assert set(zip(rows.family, rows.design, rows.other_corpus)) == {("egemaps-func", "transfer", "other")}
    small = rows[rows.budget == "2"]
    assert (small.examples_per_class == 2).all() and (small.n_train == 2 * 4 + n_other).all()
    run_training(_exp(demo_store), tmp_path / "t.csv", progress=False)  # the target alone: same protocol, same folds
    report = compare([tmp_path / "t.csv"], tmp_path / "report", baseline="egemaps-func", n_boot=200)
    assert len(report.transfer) == 1  # the family's entry: its selected classifier
    assert report.transfer[0].startswith("other saves demo's labels for eGeMAPS functionals")  # its plain name
    assert "## Transfer: labels another corpus saves" in report.markdown


def test_cross_corpus_tests_the_target_folds_and_budgets_the_other_corpus(demo_store, other_store, tmp_path):
    run_training(_exp(other_store, test_store=demo_store, classifiers=["logreg"]), tmp_path / "c.csv", progress=False)
    run_training(_exp(demo_store, classifiers=["logreg"]), tmp_path / "w.csv", progress=False)
    cross, within = (pd.read_csv(tmp_path / f"{n}.csv") for n in ("c", "w"))
    assert set(labels(cross)) == {"egemaps-func [from other]"} and set(cross.corpus) == {demo_store.name}
    key = ["fold", "seed", "budget"]
    cross, within = (t.sort_values(key).reset_index(drop=True) for t in (cross, within))
    assert (cross.test_groups == within.test_groups).all() and (cross.n_test == within.n_test).all()
    assert (cross[cross.budget == "all"].n_train == len(pd.read_csv(other_store / "corpus.csv"))).all()


@pytest.mark.parametrize("mode", ["add_store", "test_store"])
def test_permuting_the_target_test_labels_changes_no_training_row(demo_store, other_store, tmp_path, mode, fold_0_only):
    """The target's test speakers are used for the test only: shuffling their labels changes scores, never training.
    Fold 0's rows are compared."""
    def run(target, out):
        exp = _exp(target, add_store=other_store) if mode == "add_store" else _exp(other_store, test_store=target)
        run_training(exp, out, progress=False)
        return pd.read_csv(out, dtype=str, keep_default_na=False)

    a = run(demo_store, tmp_path / "a.csv")
    permuted = tmp_path / demo_store.name
    shutil.copytree(demo_store, permuted)
    corpus = pd.read_csv(permuted / "corpus.csv", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(3)
    for speaker in a.loc[a.fold == "0", "test_groups"].iloc[0].split():
        mask = corpus.speaker == speaker
        corpus.loc[mask, "label"] = rng.permutation(corpus.loc[mask, "label"].to_numpy())
    corpus.to_csv(permuted / "corpus.csv", index=False)
    b = run(permuted, tmp_path / "b.csv")
    key = ["view", "classifier", "fold", "seed", "budget"]
    a, b = (t[t.fold == "0"].sort_values(key).reset_index(drop=True) for t in (a, b))
    assert len(a) == 2 * 2 * 2
    pd.testing.assert_frame_equal(a[TRAINING], b[TRAINING])
    assert (a.ua != b.ua).any()  # the permutation did reach the test scores


@pytest.mark.parametrize("normalisation", ["per-corpus", "per-speaker"])
def test_normalisation_is_named_in_the_rows(demo_store, other_store, tmp_path, normalisation):
    run_training(_exp(demo_store, add_store=other_store, normalisation=normalisation, classifiers=["logreg"]),
                 tmp_path / "n.csv", progress=False)
    assert set(labels(pd.read_csv(tmp_path / "n.csv"))) == {f"egemaps-func [+other, {normalisation} normalisation]"}


def test_configuration_errors_are_one_line(demo_store, other_store, demo_corpus_master, tmp_path):
    fbank = tmp_path / "fbank"
    run_extraction(load_corpus("demo", demo_corpus_master).head(8), [("fbank", {"n_mels": 20})], fbank, progress=False)
    fbank_default = tmp_path / "fbank2"
    run_extraction(load_corpus("demo", demo_corpus_master).head(8), [("fbank", {})], fbank_default, progress=False)
    cases = [
        (_exp(fbank, families=["fbank"], budgets=[1], n_folds=2, add_store=fbank_default), "was extracted differently"),
        (_exp(demo_store, add_store=other_store, test_store=other_store), "exclude each other"),
        (_exp(demo_store, add_store=demo_store), "the second store is the first one"),
        (_exp(demo_store, add_store=other_store, classifiers=["seq"]), "train on one store"),
        (_exp(demo_store, normalisation="per-corpus"), "needs a second corpus"),
    ]
    for exp, message in cases:
        with pytest.raises(FeatbenchError, match=message):
            run_training(exp, tmp_path / "never.csv", progress=False)
    assert not (tmp_path / "never.csv").exists()


@needs_ravdess
def test_cross_corpus_between_the_demo_corpus_and_ravdess_with_a_label_map(demo_store, tmp_path):
    """RAVDESS has 'calm' (and more); the demo corpus has four emotions: a label without a counterpart is one line,
    a --merge maps it, --classes leaves the rest out."""
    emotions = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry"}
    clips = sorted(p for a in (1, 2, 3, 4) for p in (RAVDESS / f"Actor_{a:02d}").glob("03-01-*")
                   if p.name.split("-")[2] in emotions and p.name.split("-")[4] == "01")
    rows = [dict(id=p.stem, path=str(p), label=emotions[p.name.split("-")[2]], speaker=p.parent.name) for p in clips]
    (tmp_path / "rav").mkdir()
    pd.DataFrame(rows).to_csv(tmp_path / "rav" / "manifest.csv", index=False)
    store = tmp_path / "ravdess"
    run_extraction(load_corpus("csv", tmp_path / "rav" / "manifest.csv"), FEATURES, store, progress=False)
    runner = CliRunner()
    args = ["train", str(demo_store), "--test-store", str(store), "--features", "egemaps-func", "--classifiers", "logreg",
            "--budgets", "2,all", "--seeds", "0", "--folds", "2", "--no-progress"]
    unmapped = runner.invoke(app, [*args, "--out", str(tmp_path / "u.csv")])
    assert unmapped.exit_code == 1 and "label 'calm' of ravdess" in unmapped.output and "--merge calm=" in unmapped.output
    assert len(unmapped.output.strip().splitlines()) == 1, unmapped.output
    mapped = runner.invoke(app, [*args, "--merge", "calm=neutral", "--out", str(tmp_path / "m.csv")])
    assert mapped.exit_code == 0, mapped.output
    rows = pd.read_csv(tmp_path / "m.csv")
    assert set(rows.corpus) == {"ravdess"} and set(labels(rows)) == {f"egemaps-func [from {demo_store.name}]"}
    assert set(rows["merge"]) == {"calm=neutral"} and rows[rows.budget == "all"].n_test.sum() == len(clips)
    assert json.loads(rows.labels.iloc[0]) == ["angry", "happy", "neutral", "sad"]
    added = runner.invoke(app, ["train", str(store), "--add-store", str(demo_store), *args[4:], "--merge", "calm=neutral",
                                "--out", str(tmp_path / "a.csv")])
    assert added.exit_code == 0, added.output
    rows = pd.read_csv(tmp_path / "a.csv")
    assert set(rows.corpus) == {"ravdess"} and set(labels(rows)) == {f"egemaps-func [+{demo_store.name}]"}
    n_demo = len(pd.read_csv(demo_store / "corpus.csv"))
    assert (rows.n_train - rows.examples_per_class * 4 == n_demo).all()  # the target's budget plus all of the demo


@pytest.mark.parametrize("option", ["--test-store", "--add-store"])
def test_a_copy_of_the_same_corpus_is_refused_naming_the_shared_clips(demo_store, tmp_path, option):
    """A copy of a store under another folder name is the same corpus: its clips (same audio hashes) would put the
    test speakers' clips into training. One line naming how many clips the two stores share; no row written."""
    copy = tmp_path / "copy"
    shutil.copytree(demo_store, copy)
    n = len(pd.read_csv(demo_store / "corpus.csv"))
    result = CliRunner().invoke(app, ["train", str(demo_store), option, str(copy), "--features", "egemaps-func",
                                      "--classifiers", "logreg", "--budgets", "2", "--seeds", "0", "--folds", "2",
                                      "--out", str(tmp_path / "r.csv"), "--no-progress"])
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert f"{n} clip(s)" in result.output and "same audio" in result.output, result.output
    assert not (tmp_path / "r.csv").exists()
