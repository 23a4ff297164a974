"""Pooling as a protocol choice that acts (`train --pooling mean|mean+std`, featbench.protocol.pooling): the matrix a
classifier sees, the rows' `pooling` column and resume key, old results files read as mean+std, and the refusals."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.errors import FeatbenchError
from featbench.protocol.pooling import MEAN, MEAN_STD, Pooling
from featbench.results import RESULT_COLUMNS, ResultsFile, Setup, labels, read_results
from featbench.results.columns import SCHEMA4_COLUMNS
from featbench.store import FamilyMeta, FeatureSet
from featbench.train import Experiment, run_training
from featbench.train.pooling import pooled_matrix
from featbench.train.views import AUTO, View
from tests.conftest import LAYERS, store_copy_with


def _frames(layers: int = 0) -> FeatureSet:
    """Two utterances of 2-column frames (per layer), the second with frames of a larger spread."""
    dim = 2 * max(layers, 1)
    frames = np.array([[1.0] * dim, [3.0] * dim, [0.0] * dim, [10.0] * dim], np.float32)
    meta = FamilyMeta("f", "frames", {}, "h", {}, {}, 16000, 100.0, [f"c{k}" for k in range(dim)], layers=layers)
    return FeatureSet(meta, np.array(["u", "v"]), np.array([0, 2]), np.array([2, 2]), np.zeros(2), frames)


def test_mean_pooling_keeps_each_frame_columns_mean_and_nothing_else():
    fs = _frames()
    both = pooled_matrix(View("f", "f"), {"f": fs}, ["u", "v"], {})
    mean = pooled_matrix(View("f", "f"), {"f": fs}, ["u", "v"], {}, Pooling(MEAN))
    assert both.tolist() == [[2.0, 2.0, 1.0, 1.0], [5.0, 5.0, 5.0, 5.0]]
    assert mean.tolist() == [[2.0, 2.0], [5.0, 5.0]]


def test_mean_pooling_of_an_all_layer_view_keeps_each_layers_means_as_its_block():
    fs = _frames(layers=2)
    fs.features[:, 2:] += 100  # layer 1's columns
    cache: dict = {}
    view = View("f@auto", "f", mode=AUTO, layers=2)
    both = pooled_matrix(view, {"f": fs}, ["u"], cache)
    mean = pooled_matrix(view, {"f": fs}, ["u"], cache, Pooling(MEAN))  # the same cache: pooled once, mean and std
    assert both.tolist() == [[2.0, 2.0, 1.0, 1.0, 102.0, 102.0, 1.0, 1.0]]
    assert mean.tolist() == [[2.0, 2.0, 102.0, 102.0]]
    one = pooled_matrix(View("f@L1", "f", layer=1), {"f": fs}, ["u"], cache, Pooling(MEAN))
    assert one.tolist() == [[102.0, 102.0]]


def test_a_pooled_store_keeps_its_means_under_mean_pooling():
    meta = FamilyMeta("p", "pooled", {}, "h", {}, {}, 16000, 100.0, ["m0", "m1", "s0", "s1"], pooled=True)
    fs = FeatureSet(meta, np.array(["u"]), np.array([0]), np.array([1]), np.zeros(1),
                    np.array([[2.0, 3.0, 0.5, 0.7]], np.float32))
    assert pooled_matrix(View("p", "p"), {"p": fs}, ["u"], {}, Pooling(MEAN)).tolist() == [[2.0, 3.0]]


def test_the_pooling_is_a_setup_column_and_part_of_the_name_unless_it_is_the_default():
    mean = Setup("w@L2", "cross", "ravdess", pooling=Pooling(MEAN))
    assert mean.columns()["pooling"] == "mean" and mean.label == "w@L2 [from ravdess, mean pooling]"
    assert Setup("w@L2").columns()["pooling"] == MEAN_STD and Setup("w@L2").label == "w@L2"
    old = {k: v for k, v in Setup("w@L2").columns().items() if k != "pooling"}  # a row of schema 4: no pooling
    assert Setup.from_row(old).pooling == Pooling() and Setup.from_row(mean.columns()) == mean


def test_pooling_refuses_an_unknown_kind_in_one_line():
    with pytest.raises(FeatbenchError, match=r"^--pooling max: choose mean\+std \(the default\), mean or attentive$"):
        Pooling.parse("max")
    result = CliRunner().invoke(app, ["train", ".", "--pooling", "max"])
    assert result.exit_code == 1 and "Traceback" not in result.output


@pytest.fixture(scope="module")
def spread(demo_store, tmp_path_factory):
    """The demo store with 'spread', a frame family whose class sits in the spread of its frames only (every class's
    frames have mean 0): mean pooling cannot tell the classes apart, mean+std can."""
    from featbench.store import StoreWriter, read_corpus

    def add(store):
        table = read_corpus(store)
        classes = sorted(table.label.unique())
        meta = FamilyMeta("spread", "synthetic spread", {}, "spreadhash", {}, {}, 16000, 50.0, classes, rows="frames")
        rng = np.random.default_rng(0)
        with StoreWriter(store) as writer:
            writer.prepare(meta)
            for uid, label in zip(table.id, table.label):
                x = rng.choice([-1.0, 1.0], size=(40, len(classes)))
                x[:, classes.index(label)] *= 5
                writer.add("spread", uid, "h" + uid, (x - x.mean(0)).astype(np.float32))
            writer.consolidate("spread", list(table.id))

    return store_copy_with(demo_store, tmp_path_factory, "spread", add)


def _run(store, out, pooling, families=("spread",), **kw):
    exp = Experiment(store=store, families=list(families), classifiers=["logreg"], budgets=["all"], seeds=[0], n_folds=2,
                     pooling=pooling, **kw)
    return run_training(exp, out, progress=False)


def test_train_pooling_acts_and_rows_of_two_poolings_never_mix(spread, tmp_path):
    out = tmp_path / "r.csv"
    first = _run(spread, out, "mean")
    again = _run(spread, out, Pooling(MEAN))  # resumed: every row of this pooling is there
    other = _run(spread, out, "mean+std")  # another pooling: its own rows, none skipped for the mean ones
    assert (first.rows_added, again.rows_added, other.rows_added) == (2, 0, 2)
    rows = read_results(out).rows
    assert list(pd.read_csv(out).columns) == RESULT_COLUMNS
    ua = rows.groupby("pooling")["ua"].mean()
    assert ua[MEAN_STD] == 1.0 and ua[MEAN] < 0.6  # the class is in the frames' spread: the std columns carry it
    assert sorted(set(labels(rows))) == ["spread", "spread [mean pooling]"]


def test_mean_pooling_is_refused_where_nothing_is_pooled(layered, tmp_path):
    with pytest.raises(FeatbenchError, match=r"--pooling mean: 'egemaps-func' has one row per utterance, nothing to pool"):
        _run(layered, tmp_path / "r.csv", MEAN, families=("egemaps-func",))
    with pytest.raises(FeatbenchError, match=r"--pooling mean pools frames .* the seq model reads the frames themselves"):
        exp = Experiment(store=layered, families=[f"toy@L{LAYERS - 1}"], classifiers=["seq"], budgets=["all"], seeds=[0],
                         n_folds=2, pooling=MEAN)
        run_training(exp, tmp_path / "r.csv", progress=False)
    assert not (tmp_path / "r.csv").exists() or read_results(tmp_path / "r.csv").rows.empty


def test_an_old_results_file_reads_as_mean_std_and_takes_mean_std_rows_only(spread, tmp_path):
    new = tmp_path / "new.csv"
    _run(spread, new, MEAN_STD)
    old = tmp_path / "old.csv"  # the same rows as featbench wrote them before --pooling: results schema 4
    pd.read_csv(new, dtype=str, keep_default_na=False)[SCHEMA4_COLUMNS].to_csv(old, index=False)
    before = old.read_bytes()
    assert set(read_results(old).rows["pooling"]) == {MEAN_STD}
    assert _run(spread, old, MEAN_STD).rows_added == 0  # its rows are the mean+std ones: resumed, nothing to add
    assert old.read_bytes() == before
    with pytest.raises(FeatbenchError, match=r"results schema 4 has no pooling column.*featbench results upgrade"):
        _run(spread, old, MEAN)
    assert old.read_bytes() == before
    shutil.copy(old, tmp_path / "kept.csv")
    assert CliRunner().invoke(app, ["results", "upgrade", str(old)]).exit_code == 0
    assert _run(spread, old, MEAN).rows_added == 2
    assert list(pd.read_csv(old).columns) == RESULT_COLUMNS
    with ResultsFile(tmp_path / "kept.csv") as results:  # schema 4 is appended to in its own columns
        results.append([dict(pd.read_csv(new, dtype=str, keep_default_na=False).iloc[0])])
    assert pd.read_csv(tmp_path / "kept.csv").columns.tolist() == SCHEMA4_COLUMNS


def test_per_speaker_statistics_are_taken_of_the_rows_the_pooling_keeps(spread, tmp_path):
    """Per-speaker normalisation standardises each speaker's rows on statistics pooled the same way (here the
    means alone: every column constant, so nothing is left to classify)."""
    _run(spread, tmp_path / "r.csv", MEAN, normalisation="per-speaker", allow_confounded_speakers=True)
    rows = read_results(tmp_path / "r.csv").rows
    assert set(rows["pooling"]) == {MEAN} and set(labels(rows)) == {"spread [per-speaker normalisation, mean pooling]"}


def test_a_report_keeps_two_poolings_apart_and_names_them(spread, tmp_path):
    from featbench.report import compare

    out = tmp_path / "r.csv"
    for pooling in (MEAN, MEAN_STD):
        _run(spread, out, pooling)
    report = compare([out], tmp_path / "report", baseline="spread", n_boot=50)
    assert "| **spread (baseline)** | logistic regression | 100.0" in report.markdown
    assert "| spread, mean pooling | logistic regression |" in report.markdown  # its own entry, named in words
    assert r"spread \[mean pooling\] (logreg)" in report.markdown  # and by its code
