"""One layer layout (featbench.store.meta.FamilyMeta): where each layer sits in a matrix, and one spelling of a
layer across options (`layer=2`), columns (`L02_…`) and views (`@L2`)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.errors import FeatbenchError
from featbench.store import FamilyMeta, StoreWriter, read_family
from featbench.train.runner import Experiment, run_training
from featbench.train.views import resolve_views

from tests.conftest import LAYERS, store_copy_with


def _meta(columns: int, config: dict | None = None, **kw) -> FamilyMeta:
    return FamilyMeta("w", "", config or {}, "h", {}, {}, 16000, 50.0, ["x"] * columns, **kw)


def test_blocks_and_slices_of_frames_and_pooled_rows():
    meta = _meta(6, layers=3)  # two frame columns per layer
    frames, pooled = np.arange(6)[None], np.arange(12)[None]  # pooled: the 6 means, then the 6 stds
    assert meta.slice(frames, 2).tolist() == [[4, 5]]
    assert meta.slice(pooled, 1).tolist() == [[2, 3, 8, 9]]
    assert meta.blocks(frames).tolist() == [[[0, 1], [2, 3], [4, 5]]]
    assert meta.blocks(pooled).tolist() == [[[0, 1, 6, 7], [2, 3, 8, 9], [4, 5, 10, 11]]]
    assert meta.layer_numbers == (0, 1, 2)
    with pytest.raises(FeatbenchError, match="holds layers L0 to L2, not L3"):
        meta.slice(frames, 3)


def test_a_single_layer_family_records_the_layer_it_holds():
    one = _meta(4, {"layer": " 4 "})
    X = np.arange(8.0).reshape(2, 4)
    assert one.layer_numbers == (4,) and one.slice(X, 4) is X
    with pytest.raises(FeatbenchError, match=r"^w holds layer L4 only \(extracted with layer=4\), not L5$"):
        one.slice(X, 5)
    assert _meta(4, {"layer": "last"}).layer_numbers == () and _meta(4).layer_numbers == ()
    with pytest.raises(FeatbenchError, match="holds no numbered layer"):
        _meta(4, {"layer": "last"}).slice(X, 4)


def _add_one(store):
    """'one': layer 2 of the all-layer family 'toy' alone, as `layer=2` extracts it."""
    toy = read_family(store, "toy")
    meta = FamilyMeta("one", "layer 2 of toy", {"layer": "2"}, "onehash", {}, {}, 16000, 50.0,
                      [f"d{d}" for d in range(toy.meta.layer_dim)], rows="frames")
    with StoreWriter(store) as writer:
        writer.prepare(meta)
        for uid in toy.ids:
            writer.add("one", uid, "h" + uid, np.ascontiguousarray(toy.get(uid)[:, toy.meta.layer_columns(2)]))
        writer.consolidate("one", list(toy.ids))


@pytest.fixture(scope="module")
def single(layered, tmp_path_factory):
    return store_copy_with(layered, tmp_path_factory, "single", _add_one)


def test_a_family_extracted_with_one_layer_is_addressed_by_that_layer(single, tmp_path):
    exp = Experiment(single, ["toy@L2", "one@L2"], ["logreg"], [2, "all"], [0], n_folds=4, corpus="demo")
    run_training(exp, tmp_path / "r.csv", progress=False)
    rows = pd.read_csv(tmp_path / "r.csv")
    key = ["classifier", "budget", "fold", "seed"]
    a, b = (rows[rows.view == f].sort_values(key).reset_index(drop=True) for f in ("toy@L2", "one@L2"))
    assert len(a) == 2 * 4
    pd.testing.assert_frame_equal(a[key + ["ua", "confusion"]], b[key + ["ua", "confusion"]])


@pytest.mark.parametrize("features, message", [
    ("one@L3", "'one@L3': family 'one' holds layer L2 only (extracted with layer=2), not L3"),
    ("one@auto", "'one@auto': family 'one' holds layer L2 only (extracted with layer=2), not all layers (layer=all)"),
])
def test_another_layer_of_a_single_layer_family_is_one_line(single, tmp_path, features, message):
    result = CliRunner().invoke(app, ["train", str(single), "--features", features, "--classifiers", "logreg",
                                      "--out", str(tmp_path / "r.csv"), "--no-progress"])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and message in result.output, result.output


def test_a_layer_has_one_spelling(layered):
    assert [v.name for v in resolve_views(layered, ["toy@L02", "toy@l1"])] == ["toy@L2", "toy@L1"]
    assert [v.name for v in resolve_views(layered, ["toy@all"])] == [f"toy@L{k}" for k in range(LAYERS)]
    with pytest.raises(FeatbenchError, match="feature 'toy@L1' is named twice"):
        resolve_views(layered, ["toy@L1", "toy@L01"])
