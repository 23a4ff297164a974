"""Bayesian comparisons of two entries with a region of practical equivalence (ROPE, default 1 point of UA): the
posterior probability that entry a is higher by more than the ROPE, that the two are within it, and that b is higher.

- `correlated_t`: within ONE corpus, over folds that share training speakers: the Bayesian correlated t-test
  (Corani and Benavoli 2015), whose posterior of the mean difference is Student's t on k - 1 degrees of freedom with
  the variance Nadeau and Bengio correct, (1 / k + n_test / n_train) s^2 (report.statistics.folds): closed form.
- `signed_rank`: over independent blocks (corpora): the Bayesian signed-rank test (Benavoli et al. 2014), a
  Dirichlet process on the differences with a prior pseudo-observation of weight 0.5 at 0; each probability is the
  share of posterior samples in which that region is the most probable, as baycomp reports it.

Both are written here rather than taken from baycomp (1.0.3): its correlated t-test fixes n_test / n_train at
1 / (k - 1), as in k-fold cross-validation, whereas a budget's training subset is smaller than the fold's training
speakers; its signed-rank test is these twenty lines, which the test suite checks against baycomp to 1e-12 where it
is installed (it is not a featbench dependency). Fewer than MIN_BLOCKS blocks: no probabilities, `reason` says why.

>>> b = correlated_t([.70, .72, .68, .75, .71, .69], [.66, .70, .67, .70, .69, .66], test_fraction=0.2)
>>> [round(v, 3) for v in (b.p_a, b.p_rope, b.p_b)]
[0.953, 0.044, 0.004]
>>> s = signed_rank(np.array([.70, .72, .68, .75, .71, .69]), np.array([.66, .70, .67, .70, .69, .66]), n_samples=2000)
>>> [round(v, 3) for v in (s.p_a, s.p_rope, s.p_b)]
[1.0, 0.0, 0.0]
>>> correlated_t([.7] * 4, [.6] * 4, 0.2).line()
'Bayesian correlated t-test: too few blocks (4) for a test to mean anything'
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from featbench.report.statistics.ranks import MIN_BLOCKS, too_few

ROPE = 0.01  # one point of UA: differences smaller than this are of no practical consequence
PRIOR = 0.5  # the weight of the signed-rank test's pseudo-observation at 0 (Benavoli et al.; baycomp's default)
SAMPLES = 50000


@dataclass(frozen=True)
class Bayes:
    """P(a - b > rope), P(|a - b| <= rope), P(a - b < -rope) of one pair (None with a `reason`), from `test`."""

    test: str
    rope: float
    p_a: float | None
    p_rope: float | None
    p_b: float | None
    reason: str = ""

    def line(self) -> str:
        """The three probabilities in a sentence, or why there are none.

        >>> Bayes("Bayesian signed-rank test", 0.01, 0.9, 0.08, 0.02).line()
        'Bayesian signed-rank test: P(a higher) 0.90, P(within ±0.01) 0.08, P(b higher) 0.02'
        """
        if self.p_a is None:
            return f"{self.test}: {self.reason}"
        return (f"{self.test}: P(a higher) {self.p_a:.2f}, P(within ±{self.rope:g}) {self.p_rope:.2f}, "
                f"P(b higher) {self.p_b:.2f}")


def correlated_t(a, b, test_fraction, rope: float = ROPE) -> Bayes:
    """The Bayesian correlated t-test of per-fold scores `a` against `b` (same folds); `test_fraction` n_test / n_train
    (one number, or one per fold: averaged)."""
    from scipy.stats import t as student

    name = "Bayesian correlated t-test"
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.size < MIN_BLOCKS:
        return Bayes(name, rope, None, None, None, too_few(d.size))
    mean, scale = float(d.mean()), math.sqrt((1 / d.size + float(np.mean(test_fraction))) * float(d.var(ddof=1)))
    if scale == 0:  # every fold differs alike: the posterior is a point
        return Bayes(name, rope, float(mean > rope), float(abs(mean) <= rope), float(mean < -rope))
    below, above = (float(student.cdf(v, d.size - 1, loc=mean, scale=scale)) for v in (-rope, rope))
    return Bayes(name, rope, 1 - above, above - below, below)


def signed_rank(a: np.ndarray, b: np.ndarray, rope: float = ROPE, n_samples: int = SAMPLES, seed: int = 0) -> Bayes:
    """The Bayesian signed-rank test of scores `a` against `b` over independent blocks (same order)."""
    name = "Bayesian signed-rank test"
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.size < MIN_BLOCKS:
        return Bayes(name, rope, None, None, None, too_few(d.size))
    z = np.concatenate([[0.0], -d])  # baycomp's orientation: b - a, so 'left' is a higher
    sums = z[:, None] + z[None, :]

    def heaviside(x: np.ndarray) -> np.ndarray:
        return (x > 2 * rope) + 0.5 * (x == 2 * rope)

    weights = np.random.RandomState(seed).dirichlet(np.r_[PRIOR, np.ones(d.size)], n_samples)
    left = np.einsum("si,ij,sj->s", weights, heaviside(-sums), weights)
    right = np.einsum("si,ij,sj->s", weights, heaviside(sums), weights)
    winners = np.argmax(np.stack([left, 1 - left - right, right], axis=1), axis=1)
    p_a, p_rope, p_b = (float(v) for v in np.bincount(winners, minlength=3) / n_samples)
    return Bayes(name, rope, p_a, p_rope, p_b)
