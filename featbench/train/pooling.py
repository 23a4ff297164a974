"""Utterance-level inputs: frame features pooled to mean and std; utterance-level families as they are.

>>> import numpy as np
>>> features = np.array([[1.0], [3.0], [5.0]], np.float32)
>>> pool(features, np.array([0, 2]), np.array([2, 1]))
array([[2., 1.],
       [5., 0.]], dtype=float32)
"""
from __future__ import annotations

import numpy as np


def pool(features: np.ndarray, offsets: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Mean and standard deviation over each utterance's frames: (n_utterances, 2 * dim).

    Computed in float64 with np.add.reduceat, one pass over the contiguous array.
    """
    if (lengths <= 0).any():
        raise ValueError("every utterance needs at least one frame to pool")
    x = features.astype(np.float64, copy=False)
    sums = np.add.reduceat(x, offsets, axis=0)
    squares = np.add.reduceat(x * x, offsets, axis=0)
    n = lengths[:, None].astype(np.float64)
    mean = sums / n
    std = np.sqrt(np.maximum(squares / n - mean * mean, 0.0))
    return np.hstack([mean, std]).astype(np.float32)


def utterance_matrix(feature_set, ids: list[str]) -> np.ndarray:
    """One row per id: the stored row for utterance-level families (frame_rate 0), else pooled frames."""
    rows = np.array([feature_set.position[u] for u in ids])
    if feature_set.meta.frame_rate == 0.0:
        return feature_set.features[feature_set.offsets[rows]]
    return pool(feature_set.features, feature_set.offsets, feature_set.lengths)[rows]
