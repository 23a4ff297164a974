"""Pooling of frame rows into one row per utterance: mean and standard deviation over its frames.

Pure numpy and neutral ground: the store's pooled-only form (`featbench.features.storage`) and the
training-time pooling (`featbench.train.pooling`) both call `pool`, so that the two give the same bits.

>>> import numpy as np
>>> features = np.array([[1.0], [3.0], [5.0]], np.float32)
>>> pool(features, np.array([0, 2]), np.array([2, 1]))
array([[2., 1.],
       [5., 0.]], dtype=float32)
"""
from __future__ import annotations

import numpy as np


def pool(features: np.ndarray, offsets: np.ndarray, lengths: np.ndarray, block: int = 128) -> np.ndarray:
    """Mean and standard deviation over each utterance's frames: float32 (n_utterances, 2 * dim), every
    column's mean first, then every column's std.

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
