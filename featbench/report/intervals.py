"""The interval of a score over folds, kept inside the range the score can take: one helper for every table,
breakdown, plot band and check of the report.

A 95% t-interval over the fold means (n = folds, seeds averaged within a fold first), then intersected with the
score's range ([0, 1] for UA, [-1, 1] for CCC; `Scale.bounds`). Clipping, not a logit-scale interval: the true score
lies in its range, so the intersection covers it whenever the t-interval does (the same coverage), the point estimate
stays the arithmetic mean every table shows, and folds at exactly 0% or 100% (a speaker, a gender, a class recall)
need no special case (their logit is infinite). With one fold there is no interval: both ends are NaN, and the
report says so (`Scale.interval`).

>>> low, high = t_interval([0.9, 1.0, 1.0])
>>> round(low, 3), high
(0.823, 1.0)
>>> t_interval([0.5])
(nan, nan)
>>> [round(v, 3) for v in t_interval([-0.2, 0.1, 0.3], bounds=(-1.0, 1.0))]
[-0.558, 0.692]
"""
from __future__ import annotations

import numpy as np

UNIT_RANGE = (0.0, 1.0)  # a share (UA, a recall)


def t_bounds(mean, std, n, bounds: tuple[float, float] = UNIT_RANGE) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised: (low, high) of the 95% t-interval of `mean` (sample `std` over `n` folds), clipped to `bounds`;
    NaN where n < 2 (no interval from one fold)."""
    from scipy import stats

    mean, std, n = (np.asarray(v, dtype=float) for v in (mean, std, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        half = np.where(n > 1, stats.t.ppf(0.975, np.maximum(n - 1, 1)) * np.nan_to_num(std) / np.sqrt(n), np.nan)
    return np.clip(mean - half, *bounds), np.clip(mean + half, *bounds)


def t_interval(values, bounds: tuple[float, float] = UNIT_RANGE) -> tuple[float, float]:
    """(low, high) of the 95% t-interval over `values` (one per fold), clipped to `bounds`; NaN ends for one fold."""
    values = np.asarray(values, dtype=float)
    std = values.std(ddof=1) if values.size > 1 else 0.0
    low, high = t_bounds(values.mean(), std, values.size, bounds)
    return float(low), float(high)
