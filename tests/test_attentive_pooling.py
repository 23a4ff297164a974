"""`train --pooling attentive` (featbench.train.attentive): attention learned per fold, budget and seed on the training
rows, every clip pooled with it, the utterance-level classifier fitted on those rows; deterministic, tagged, kept
apart by reports, refused in one line where it cannot pool, and interrupted without a half-written row."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.errors import FeatbenchError
from featbench.executors import Local
from featbench.protocol.pooling import ATTENTIVE, MEAN_STD, Pooling
from featbench.results import labels, read_results
from featbench.store import FamilyMeta
from featbench.train import Experiment, run_training
from featbench.train.attentive import AttentivePooling, FrameRows
from tests.conftest import LAYERS, store_copy_with

TIMES = ["fit_seconds", "predict_seconds"]


@pytest.fixture(scope="module")
def bursts(demo_store, tmp_path_factory):
    """The demo store with 'bursts', a frame family whose class sits in 4 loud frames of 30 (column = class)."""
    from featbench.store import StoreWriter, read_corpus

    def add(store):
        table = read_corpus(store)
        classes = sorted(table.label.unique())
        meta = FamilyMeta("bursts", "synthetic bursts", {}, "burstshash", {}, {}, 16000, 50.0, classes, rows="frames")
        rng = np.random.default_rng(0)
        with StoreWriter(store) as writer:
            writer.prepare(meta)
            for uid, label in zip(table.id, table.label):
                x = rng.normal(size=(30, len(classes)))
                x[rng.choice(30, 4, replace=False), classes.index(label)] += 4.0
                writer.add("bursts", uid, "h" + uid, x.astype(np.float32))
            writer.consolidate("bursts", list(table.id))

    return store_copy_with(demo_store, tmp_path_factory, "bursts", add)


def _run(store, out, pooling=ATTENTIVE, families=("bursts",), jobs=1, **kw):
    exp = Experiment(store=store, families=list(families), classifiers=["logreg"], budgets=["all"], seeds=[0], n_folds=2,
                     pooling=pooling, seq_epochs=4, **kw)
    return run_training(exp, out, Local(jobs), progress=False)


def _rows(path) -> pd.DataFrame:
    rows = pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns=TIMES)
    return rows.sort_values("fold", kind="stable").reset_index(drop=True)  # worker processes finish in any order


def test_attentive_rows_are_tagged_and_the_same_seed_gives_the_same_rows(bursts, tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    assert _run(bursts, first).rows_added == 2 and _run(bursts, second).rows_added == 2
    rows = _rows(first)
    assert set(rows["pooling"]) == {ATTENTIVE} and set(labels(read_results(first).rows)) == {"bursts [attentive pooling]"}
    assert all("attentive pooling: " in s and "early stopping on held-out speakers" in s for s in rows["hp_selection"])
    pd.testing.assert_frame_equal(rows, _rows(second))


def test_worker_processes_read_the_frames_memory_mapped_from_one_file(bursts, tmp_path):
    from featbench.train.grid import make_context, share_matrices
    from featbench.train.prepare import prepare_grid

    exp = Experiment(store=bursts, families=["bursts"], classifiers=["logreg"], budgets=["all"], seeds=[0], n_folds=2,
                     pooling=ATTENTIVE)
    data = prepare_grid(exp)[0]
    (view,) = data.views.values()
    (shared,) = make_context(share_matrices(data, tmp_path)).data.views.values()
    assert view.X is None and not view.matrices and isinstance(shared.frames.features, np.memmap)
    assert all(np.array_equal(a, b) for a, b in zip(view.frames.seqs(range(len(data.table))),
                                                    shared.frames.seqs(range(len(data.table)))))


def test_a_report_keeps_attentive_rows_apart_from_mean_std_rows(bursts, tmp_path):
    from featbench.report import compare

    out = tmp_path / "r.csv"
    _run(bursts, out, MEAN_STD)
    assert _run(bursts, out).rows_added == 2  # its own rows: none skipped for the mean+std ones
    assert sorted(set(labels(read_results(out).rows))) == ["bursts", "bursts [attentive pooling]"]
    report = compare([out], tmp_path / "report", baseline="bursts", n_boot=50)
    assert "| bursts, attentive pooling | logistic regression |" in report.markdown


@pytest.mark.parametrize("families, kw, message", [
    (("egemaps-func",), {}, r"--pooling attentive: 'egemaps-func' has one row per utterance, nothing to pool"),
    (("toy@auto",), {}, r"--pooling attentive pools one layer's frames; 'toy@auto' chooses or weights layers"),
    ((f"toy@L{LAYERS - 1}+egemaps-lld",), {}, r"--pooling attentive learns one attention over one view's frames"),
    ((f"toy@L{LAYERS - 1}",), {"normalisation": "per-speaker"}, r"per-speaker normalisation is not available"),
])
def test_attentive_pooling_is_refused_in_one_line_where_it_cannot_pool(layered, tmp_path, families, kw, message):
    from featbench.results import Normalisation

    if "normalisation" in kw:
        kw = {"normalisation": Normalisation.parse(kw["normalisation"]), "allow_confounded_speakers": True}
    with pytest.raises(FeatbenchError, match=message) as err:
        _run(layered, tmp_path / "r.csv", families=families, **kw)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "r.csv").exists()


def test_the_command_line_refuses_an_utterance_level_family_in_one_line(layered, tmp_path):
    out = tmp_path / "r.csv"
    result = CliRunner().invoke(app, ["train", str(layered), "--features", "egemaps-func", "--classifiers", "logreg",
                                      "--pooling", "attentive", "--budgets", "all", "--folds", "2", "--seeds", "0",
                                      "--out", str(out), "--no-progress"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0 and "nothing to pool" in result.output and not out.exists()


def test_ctrl_c_in_the_attention_fit_exits_130_and_keeps_only_whole_rows_resumed_to_the_same_rows(bursts, tmp_path,
                                                                                                  monkeypatch):
    whole, out = tmp_path / "whole.csv", tmp_path / "r.csv"
    _run(bursts, whole)
    fit, calls = AttentivePooling.fit, []

    def interrupted(self, *args, **kw):
        calls.append(1)
        if len(calls) == 2:  # the second fold's attention
            raise KeyboardInterrupt
        return fit(self, *args, **kw)

    monkeypatch.setattr(AttentivePooling, "fit", interrupted)
    args = ["train", str(bursts), "--features", "bursts", "--classifiers", "logreg", "--pooling", "attentive",
            "--budgets", "all", "--folds", "2", "--seeds", "0", "--seq-epochs", "4", "--out", str(out), "--no-progress"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 130 and "interrupted" in result.output
    assert len(_rows(out)) == 1  # the first fold's row, whole; nothing of the second
    monkeypatch.setattr(AttentivePooling, "fit", fit)
    assert CliRunner().invoke(app, args).exit_code == 0
    pd.testing.assert_frame_equal(_rows(out), _rows(whole))


def test_the_learned_attention_tells_apart_what_it_was_fitted_on_and_is_the_same_for_the_same_seed():
    rng = np.random.default_rng(1)
    seqs = [rng.normal(size=(60, 3)).astype(np.float32) for _ in range(120)]
    y = np.arange(120) % 2
    for s, label in zip(seqs, y):  # class 1: two loud frames up and two down in column 0 (its mean unchanged)
        s[:2, 0] += 4.0 * label
        s[2:4, 0] -= 4.0 * label
    model = AttentivePooling(n_classes=2, max_epochs=20, seed=0).fit(seqs[:90], y[:90], seqs[90:], y[90:])
    pooled = model.pool(seqs)
    plain = np.array([np.hstack([z.mean(0), z.std(0)]) for z in ((s - model.mean_) / model.std_ for s in seqs)])
    assert model.val_ua_ >= 0.9 and np.abs(pooled - plain).max() > 0.1  # learned, and not the uniform mean and std
    again = AttentivePooling(n_classes=2, max_epochs=20, seed=0).fit(seqs[:90], y[:90], seqs[90:], y[90:])
    assert np.array_equal(again.pool(seqs), pooled)


def test_frames_shared_as_a_file_read_back_the_same(tmp_path):
    frames = FrameRows(np.arange(12, dtype=np.float16).reshape(6, 2), np.array([0, 2]), np.array([2, 4]))
    shared = frames.saved(tmp_path / "f.npy")
    assert shared.features is None
    assert [s.tolist() for s in shared.opened().seqs([1, 0])] == [s.tolist() for s in frames.seqs([1, 0])]


def test_attentive_pooling_cannot_be_applied_to_rows_already_pooled():
    with pytest.raises(ValueError, match="cannot be applied to rows already pooled"):
        Pooling.parse("attentive").apply(np.zeros((1, 4)), frame_dim=2)


def test_per_corpus_frames_are_standardised_on_their_own_corpus_clip_by_clip():
    rng = np.random.default_rng(0)
    clips = [rng.normal(loc=10.0 * (i >= 3), scale=1.0 + (i >= 3), size=(5 + i, 2)) for i in range(6)]
    frames = FrameRows(np.concatenate(clips).astype(np.float16), np.cumsum([0] + [len(c) for c in clips[:-1]]),
                       np.array([len(c) for c in clips]))
    standardised = frames.per_part(np.array(["a"] * 3 + ["b"] * 3)).seqs(range(6))
    assert len(standardised) == 6
    for part in (range(3), range(3, 6)):
        stacked = np.concatenate([standardised[i] for i in part])
        assert np.allclose(stacked.mean(0), 0, atol=1e-5) and np.allclose(stacked.std(0), 1, atol=1e-4)
