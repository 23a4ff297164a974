"""Utterance-level inputs: frame features pooled to mean and std; utterance-level families as they are.

>>> import numpy as np
>>> features = np.array([[1.0], [3.0], [5.0]], np.float32)
>>> pool(features, np.array([0, 2]), np.array([2, 1]))
array([[2., 1.],
       [5., 0.]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from featbench.row_kinds import RowKind


def pool(features: np.ndarray, offsets: np.ndarray, lengths: np.ndarray, block: int = 128) -> np.ndarray:
    """Mean and standard deviation over each utterance's frames: (n_utterances, 2 * dim).

    Computed in float64 with np.add.reduceat over blocks of `block` utterances (stored back to back).
    """
    if (lengths <= 0).any():
        raise ValueError("every utterance needs at least one frame to pool")
    mean = np.empty((len(offsets), features.shape[1]), np.float32)
    std = np.empty_like(mean)
    for start in range(0, len(offsets), block):  # bounded temporary memory, also for wide all-layer stores
        stop = min(start + block, len(offsets))
        first, last = offsets[start], offsets[stop - 1] + lengths[stop - 1]
        x = features[first:last].astype(np.float64)
        local = offsets[start:stop] - first
        n = lengths[start:stop, None].astype(np.float64)
        m = np.add.reduceat(x, local, axis=0) / n
        mean[start:stop] = m
        std[start:stop] = np.sqrt(np.maximum(np.add.reduceat(x * x, local, axis=0) / n - m * m, 0.0))
    return np.hstack([mean, std])


def utterance_matrix(feature_set, ids: list[str], columns: np.ndarray | None = None, pooled: np.ndarray | None = None) -> np.ndarray:
    """One row per id: the stored row for utterance-level families, else pooled rows (frames, samples).

    `columns` selects feature columns (a layer of an all-layer store); `pooled` reuses an earlier pool().
    """
    rows = np.array([feature_set.position[u] for u in ids])
    if feature_set.meta.rows == RowKind.UTTERANCE.value:
        matrix = feature_set.features[feature_set.offsets[rows]]
        return matrix if columns is None else matrix[:, columns]
    if pooled is None:
        pooled = pool(feature_set.features, feature_set.offsets, feature_set.lengths)
    if columns is not None:
        pooled = pooled[:, np.concatenate([columns, columns + feature_set.meta.dim])]
    return pooled[rows]
