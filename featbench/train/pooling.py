"""Utterance-level inputs: frame features pooled to mean and std, or to the mean alone (protocol.pooling.Pooling,
`train --pooling`); utterance-level families as they are, stores kept pooled (`pooled=true`) with the columns the
pooling keeps. `pool` lives in `featbench.pooling` and is re-exported here.

>>> import numpy as np
>>> features = np.array([[1.0], [3.0], [5.0]], np.float32)
>>> pool(features, np.array([0, 2]), np.array([2, 1]))
array([[2., 1.],
       [5., 0.]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from featbench.pooling import pool
from featbench.protocol.pooling import Pooling
from featbench.row_kinds import RowKind

MEAN_AND_STD = Pooling()  # the default: every frame column's mean and std

__all__ = ["pool", "pooled_matrix", "utterance_matrix"]


def utterance_matrix(feature_set, ids: list[str], layer: int | None = None, pooled: np.ndarray | None = None,
                     pooling: Pooling = MEAN_AND_STD) -> np.ndarray:
    """One row per id, float32: the stored row for utterance-level families, else pooled rows (frames, samples;
    a pooled store's rows) with the columns `pooling` keeps.

    `layer` keeps that layer's columns (`FamilyMeta.slice`: of pooled rows, its means and stds, or its means);
    `pooled` reuses an earlier pool() (the columns `pooling` keeps).
    """
    meta = feature_set.meta
    rows = np.array([feature_set.position[u] for u in ids])
    if meta.rows == RowKind.UTTERANCE.value:
        matrix = feature_set.features[feature_set.offsets[rows]]
        if meta.pooled:
            matrix = pooling.apply(matrix, meta.frame_dim)
        if layer is not None:
            matrix = meta.slice(matrix, layer)
        return matrix.astype(np.float32, copy=False)
    if pooled is None:
        pooled = pooling.apply(pool(feature_set.features, feature_set.offsets, feature_set.lengths), meta.frame_dim)
    if layer is not None:
        pooled = meta.slice(pooled, layer)
    return pooled[rows]


def pooled_matrix(view, sets: dict, ids: list[str], cache: dict, pooling: Pooling = MEAN_AND_STD) -> np.ndarray:
    """The utterance-level matrix of a view for `ids`, read from its families' FeatureSets `sets` as every grid task
    and a saved model read it (frames pooled once per family, kept in `cache` as mean and std; an all-layer view's
    layers as blocks side by side), with the columns `pooling` keeps.

    >>> from featbench.store import FamilyMeta, FeatureSet
    >>> from featbench.train.views import View
    >>> meta = FamilyMeta("f", "frames", {}, "h", {}, {}, 16000, 100.0, ["a"])
    >>> frames = np.array([[1.0], [3.0], [5.0]], np.float32)
    >>> fs = FeatureSet(meta, np.array(["u", "v"]), np.array([0, 2]), np.array([2, 1]), np.zeros(2), frames)
    >>> pooled_matrix(View("f", "f"), {"f": fs}, ["v", "u"], {}).tolist()
    [[5.0, 0.0], [2.0, 1.0]]
    >>> pooled_matrix(View("f", "f"), {"f": fs}, ["v", "u"], {}, Pooling("mean")).tolist()
    [[5.0], [2.0]]
    """
    blocks = []
    for leaf in view.leaves:
        fs = sets[leaf.family]
        if leaf.family not in cache and fs.meta.rows != RowKind.UTTERANCE.value:
            cache[leaf.family] = pool(fs.features, fs.offsets, fs.lengths)
        pooled = cache.get(leaf.family)
        block = utterance_matrix(fs, ids, leaf.layer, None if pooled is None else pooling.apply(pooled, fs.meta.frame_dim),
                                 pooling)
        if leaf.multi_layer:  # one block per layer, its means then its stds ([mean L0, std L0, mean L1, ...]), or means
            block = fs.meta.blocks(block).reshape(len(block), -1)
        blocks.append(block)
    return blocks[0] if len(blocks) == 1 else np.hstack(blocks)  # late fusion: pooled vectors side by side
