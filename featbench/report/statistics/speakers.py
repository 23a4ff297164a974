"""Intervals that resample the independent unit: test speakers, within each fold (stratified: every fold keeps its
number of test speakers), or utterances within speakers (speakers held fixed: the score of these very speakers).

A fold's UA is the mean over classes of the pooled recall of its test speakers: from each speaker's correct
predictions and clips per class (FoldCounts) it is recomputed for every resample, so a speaker who holds few
clips of a class weighs as little as in the score itself. Each fold draws S - 1 of its S speakers with replacement
(the Rao-Wu / McCarthy-Snowden choice: resampling S of S underestimates a stratum's variance by (S - 1) / S, a
quarter with 4 speakers per fold); the study's score is the mean over folds; the interval is the expanded percentile
interval of the resampled scores (`_ends`: with 24 speakers in 6 folds a plain percentile interval covers about 93%
for 95%, benchmarks/statistics_null.py). A paired difference of two entries resamples the same speakers for both. Where folds hold a
single test speaker (leave-one-speaker-out), whole folds are resampled instead (each is one speaker).

What the interval is about: the test speakers are drawn again, the trained models are held fixed. It says how far
the score could move on other speakers like these; it does not include the variation of training itself (a new
draw of training speakers), which the fold t-interval and the corrected t-test (report.statistics.folds) address.

Results rows store per fold `test_classes` (each test speaker's clips per class), `ua_by_speaker` (each test
speaker's UA) and `confusion` (the fold's per-class recalls), but not each speaker's correct predictions per class.
The column that would make these counts exact is `correct_by_speaker` (JSON, per test speaker and class the correct
predictions: {"s01": {"angry": 7, ...}}); `counts_of` reads it where present and otherwise fits the counts to both
stored margins (every speaker's UA and every class's recall of the fold, a logit-additive model), and marks the
result approximate.

>>> import numpy as np
>>> total = np.array([[4, 4], [4, 4], [4, 4]])
>>> f = [FoldCounts(k, ("s1", "s2", "s3"), ("a", "b"), np.array([[4, 2], [3, 3], [1, 2]]) - k % 2, total)
...      for k in range(4)]
>>> round(f[0].ua(), 4), round(f[1].ua(), 4)
(0.625, 0.375)
>>> iv = speaker_interval(f, n_boot=2000, seed=0)
>>> round(iv.estimate, 3), round(iv.low, 3), round(iv.high, 3), iv.unit
(0.5, 0.344, 0.625, 'test speakers, resampled within each fold')
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featbench.errors import FeatbenchError

LEVEL, BOOT = 0.95, 2000


@dataclass(frozen=True)
class FoldCounts:
    """One fold's test clips of one entry: per test speaker (rows of `correct` and `total`) and class (columns) the
    correct predictions (a mean over seeds may be fractional) and the clips."""

    fold: int
    speakers: tuple[str, ...]
    classes: tuple[str, ...]
    correct: np.ndarray
    total: np.ndarray
    approximate: bool = False  # counts fitted to stored margins (report.statistics.counts), not recorded

    def ua(self) -> float:
        """The fold's UA: the mean over the classes it tests of the pooled recall."""
        return float(_ua(self.correct[None], self.total[None])[0])


def _ua(correct: np.ndarray, total: np.ndarray) -> np.ndarray:
    """UA of each resample: `correct` and `total` of shape (B, C) or (B, S, C) (summed over speakers)."""
    if correct.ndim == 3:
        correct, total = correct.sum(axis=1), total.sum(axis=1)
    held = total > 0
    recall = np.divide(correct, total, out=np.zeros_like(correct, dtype=float), where=held)
    return (recall * held).sum(axis=1) / np.maximum(held.sum(axis=1), 1)


@dataclass(frozen=True)
class SpeakerInterval:
    """A `level` percentile interval of the mean UA over folds (or of the paired difference a - b), from `n_boot`
    resamples of `unit`; `approximate` where the counts were fitted to stored margins (see the module)."""

    estimate: float
    low: float
    high: float
    level: float
    n_boot: int
    n_folds: int
    n_speakers: int
    unit: str
    paired: bool = False
    approximate: bool = False

    def line(self) -> str:
        """The interval in a sentence, with its unit.

        >>> SpeakerInterval(0.7, 0.65, 0.74, 0.95, 2000, 6, 24, UNITS[SPEAKERS]).line()
        'UA 0.7000, 95% CI 0.6500 to 0.7400 (2000 resamples of test speakers, resampled within each fold: 24 speakers in 6 folds)'
        """
        what = "difference in UA" if self.paired else "UA"
        note = "; counts fitted to stored per-speaker UA and per-class recall" if self.approximate else ""
        return (f"{what} {self.estimate:.4f}, {self.level:.0%} CI {self.low:.4f} to {self.high:.4f} ({self.n_boot} "
                f"resamples of {self.unit}: {self.n_speakers} speakers in {self.n_folds} folds{note})")


def _weights(rng: np.random.Generator, size: int, n_boot: int) -> np.ndarray:
    """(n_boot, size) counts of `size - 1` draws with replacement among `size` units (all ones for one unit)."""
    if size < 2:
        return np.ones((n_boot, size))
    return rng.multinomial(size - 1, np.full(size, 1.0 / size), size=n_boot).astype(float)


def _check(folds: list[FoldCounts], other: list[FoldCounts] | None) -> None:
    if not folds:
        raise FeatbenchError("speaker interval: no folds with per-speaker counts")
    for f in folds:
        if f.correct.shape != f.total.shape or f.correct.shape != (len(f.speakers), len(f.classes)):
            raise FeatbenchError(f"speaker interval: fold {f.fold}'s counts do not match its speakers and classes")
        if not (np.isfinite(f.correct).all() and (f.correct >= 0).all() and (f.correct <= f.total + 1e-9).all()):
            raise FeatbenchError(f"speaker interval: fold {f.fold} has correct counts outside 0 to its clips")
    if other is not None and [(f.fold, f.speakers, f.classes) for f in folds] != [
            (f.fold, f.speakers, f.classes) for f in other]:
        raise FeatbenchError("speaker interval: the two entries were not tested on the same folds and speakers")


SPEAKERS, UTTERANCES = "speakers", "utterances"
UNITS = {SPEAKERS: "test speakers, resampled within each fold",
         UTTERANCES: "utterances, resampled within each test speaker (speakers held fixed)"}
"""What `speaker_interval` resamples: speakers (the score on other speakers like these; a speaker's utterances come
with it, so their variation is inside) or utterances within speakers (the score of these very speakers)."""


def _utterances(f: FoldCounts, n_boot: int, rng) -> np.ndarray:
    """(n_boot, S, C) correct counts: n - 1 of each cell's n clips drawn with replacement, scaled back to n (cells of
    one clip kept as they are)."""
    n = f.total.astype(int)
    draws = np.maximum(n - 1, 1)
    p = np.divide(f.correct, f.total, out=np.zeros_like(f.correct, dtype=float), where=f.total > 0)
    drawn = rng.binomial(draws, p, size=(n_boot, *n.shape)) * (n / draws)
    return np.where(n >= 2, drawn, f.correct)


def _ends(boot: np.ndarray, level: float, df: int) -> tuple[float, float]:
    """The expanded percentile interval (Hesterberg 2015): the quantiles at which a normal quantile equals Student's
    t quantile on `df` degrees of freedom (units resampled minus strata), so that few units widen it as they widen a
    t-interval; NaN ends without a degree of freedom."""
    if df < 1:
        return float("nan"), float("nan")
    q = expanded_quantile(level, df)
    low, high = np.quantile(boot, [1 - q, q])
    return float(low), float(high)


def expanded_quantile(level: float, df: int) -> float:
    """The upper quantile of the expanded percentile interval: the normal's cdf at Student's t quantile on `df`.

    >>> round(expanded_quantile(0.95, 18), 4), round(expanded_quantile(0.95, 10**6), 4)
    (0.9822, 0.975)
    """
    from scipy.stats import norm, t

    return float(norm.cdf(t.ppf(0.5 + level / 2, df)))


def _weighted_ua(f: FoldCounts, w: np.ndarray) -> np.ndarray:
    """The fold's UA under each row of speaker weights `w` (n_boot, S): (n_boot,)."""
    return _ua(w[:, :, None] * f.correct[None], w[:, :, None] * f.total[None])


def _resampled(folds: list[FoldCounts], other: list[FoldCounts] | None, n_boot: int, rng, unit: str) -> np.ndarray:
    """The mean fold UA (or paired difference) of each of `n_boot` resamples, strata = folds."""
    boot = np.zeros(n_boot)
    if unit != UTTERANCES:
        curves = resampled_curves([[folds]] + ([[other]] if other is not None else []), n_boot, rng)
        for k in range(len(folds)):  # fold by fold, as the resamples were drawn
            boot += (curves[0][:, k, 0] - (curves[1][:, k, 0] if other is not None else 0.0)) / len(folds)
        return boot
    for f in folds:
        boot += _ua(_utterances(f, n_boot, rng), f.total[None]) / len(folds)
    return boot


def check_paired(curves: list[list[list[FoldCounts]]]) -> list[FoldCounts]:
    """The first curve's first budget's folds, once every curve's every budget holds sound counts of the same folds,
    speakers and classes; else FeatbenchError (one line)."""
    if not curves or not curves[0]:
        raise FeatbenchError("speaker interval: no folds with per-speaker counts")
    first = curves[0][0]
    for budgets in curves:
        for folds in budgets:
            _check(folds, first)
    return first


def resampled_curves(curves: list[list[list[FoldCounts]]], n_boot: int, rng) -> list[np.ndarray]:
    """Per curve (an entry's FoldCounts per budget, each a list over the same folds), its folds' UA in each of
    `n_boot` resamples of test speakers, of shape (n_boot, n_folds, n_budgets): each fold draws its speakers once
    (S - 1 of S, with replacement) for every curve and budget, so that entries tested on the same speakers stay
    paired (the data-efficiency ratio, report.efficiency, and the paired difference above).

    >>> f = FoldCounts(0, ("s1", "s2"), ("a",), np.array([[1.0], [3.0]]), np.array([[4.0], [4.0]]))
    >>> a, b = resampled_curves([[[f]], [[f]]], 3, np.random.default_rng(0))
    >>> a.shape, bool((a == b).all()), sorted(set(a.ravel().tolist()))
    ((3, 1, 1), True, [0.25, 0.75])
    """
    first = check_paired(curves)
    out = [np.zeros((n_boot, len(first), len(budgets))) for budgets in curves]
    for k, f in enumerate(first):
        w = _weights(rng, len(f.speakers), n_boot)
        for budgets, boot in zip(curves, out):
            for j, folds in enumerate(budgets):
                boot[:, k, j] = _weighted_ua(folds[k], w)
    return out


def speaker_interval(folds: list[FoldCounts], other: list[FoldCounts] | None = None, n_boot: int = BOOT,
                     level: float = LEVEL, seed: int = 0, unit: str = SPEAKERS) -> SpeakerInterval:
    """The percentile interval of the mean fold UA of `folds` (or, with `other`, of the paired difference folds -
    other), resampling `unit` (UNITS) within each fold; utterances for one entry only (two entries' outcomes per
    utterance are not in the counts)."""
    _check(folds, other)
    if unit not in UNITS:
        raise FeatbenchError(f"speaker interval: unit {unit!r} is not one of {', '.join(UNITS)}")
    if unit == UTTERANCES and other is not None:
        raise FeatbenchError("speaker interval: utterance resampling needs each utterance's outcome under both "
                             "entries; a paired difference resamples speakers only")
    rng = np.random.default_rng(seed)
    fold_ua = np.array([f.ua() - (other[i].ua() if other else 0.0) for i, f in enumerate(folds)])
    said, speakers = UNITS[unit], sum(len(f.speakers) for f in folds)
    if unit == UTTERANCES:
        boot, df = _resampled(folds, other, n_boot, rng, unit), int(sum(np.maximum(f.total - 1, 0).sum() for f in folds))
    elif min(len(f.speakers) for f in folds) >= 2:
        boot, df = _resampled(folds, other, n_boot, rng, unit), speakers - len(folds)
    else:  # a fold of one test speaker: the folds are the speakers
        said, df = "folds of one test speaker each, resampled", len(folds) - 1
        boot = (_weights(rng, len(folds), n_boot) @ fold_ua / (len(folds) - 1) if len(folds) > 1
                else np.full(n_boot, fold_ua.mean()))
    low, high = _ends(boot, level, df)
    return SpeakerInterval(float(fold_ua.mean()), low, high, level, n_boot, len(folds),
                           speakers, said, other is not None,
                           any(f.approximate for f in [*folds, *(other or [])]))
