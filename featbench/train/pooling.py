"""Utterance-level inputs: frame features pooled to mean and std; utterance-level families (and stores
kept pooled, `pooled=true`) as they are. `pool` lives in `featbench.pooling` and is re-exported here.

>>> import numpy as np
>>> features = np.array([[1.0], [3.0], [5.0]], np.float32)
>>> pool(features, np.array([0, 2]), np.array([2, 1]))
array([[2., 1.],
       [5., 0.]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from featbench.pooling import pool
from featbench.row_kinds import RowKind

__all__ = ["pool", "utterance_matrix"]


def utterance_matrix(feature_set, ids: list[str], layer: int | None = None, pooled: np.ndarray | None = None) -> np.ndarray:
    """One row per id, float32: the stored row for utterance-level families and pooled stores, else pooled rows
    (frames, samples).

    `layer` keeps that layer's columns (`FamilyMeta.slice`: of pooled rows, its means and stds); `pooled`
    reuses an earlier pool().
    """
    meta = feature_set.meta
    rows = np.array([feature_set.position[u] for u in ids])
    if meta.rows == RowKind.UTTERANCE.value:
        matrix = feature_set.features[feature_set.offsets[rows]]
        if layer is not None:
            matrix = meta.slice(matrix, layer)
        return matrix.astype(np.float32, copy=False)
    if pooled is None:
        pooled = pool(feature_set.features, feature_set.offsets, feature_set.lengths)
    if layer is not None:
        pooled = meta.slice(pooled, layer)
    return pooled[rows]
