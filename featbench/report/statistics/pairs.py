"""Every pair of entries compared over the same blocks: a two-sided Wilcoxon signed-rank test per pair
(scipy.stats.wilcoxon, its defaults: zero differences dropped, exact distribution for small samples without ties), the
p-values adjusted for the family of pairs by Holm's step-down method.

Holm is written here (`holm`, a dozen lines) rather than taken from statsmodels.stats.multitest.multipletests,
scikit-posthocs or autorank: none is a featbench dependency, each would bring its own stack (statsmodels; scikit-posthocs
needs statsmodels and seaborn; autorank needs statsmodels, baycomp and more) for one sort and one running maximum, and
the test suite checks `holm` against a hand example and against statsmodels where it is installed.

A pair whose scores are equal in every block has p = 1 (nothing to test, said in its note); with fewer than MIN_BLOCKS
blocks no pair gets a p-value.

>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> base = rng.normal(0.6, 0.05, size=(10, 1))
>>> scores = pd.DataFrame(base + [0.05, 0.0, 0.0] + rng.normal(0, 0.01, (10, 3)), columns=["a", "b", "c"])
>>> tests = pairwise(scores, "corpus")
>>> [(p.a, p.b, round(p.p_holm, 4)) for p in tests.pairs]
[('a', 'b', 0.0059), ('a', 'c', 0.0059), ('b', 'c', 0.9219)]
>>> [f"{p.a} > {p.b}" for p in tests.significant()]
['a > b', 'a > c']
>>> holm([0.01, 0.04, 0.03])
[0.03, 0.06, 0.06]
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from featbench.report.statistics.ranks import ALPHA, MIN_BLOCKS, blocks_of, too_few


def holm(p_values) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given: the i-th smallest p times (m - i + 1), made
    non-decreasing in that order and capped at 1. NaN is refused (a test without a p-value is no member of the family).

    >>> holm([0.04, 0.001, 0.02, 0.5])
    [0.08, 0.004, 0.06, 0.5]
    """
    p = np.asarray(p_values, dtype=float)
    if np.isnan(p).any():
        raise ValueError("holm: a p-value is NaN; leave tests without a p-value out of the family")
    m, order = p.size, np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    adjusted = np.empty(m)
    adjusted[order] = stepped
    return [float(v) for v in adjusted]


@dataclass(frozen=True)
class Pair:
    """Entry `a` against `b` over `n` blocks: how often a scores higher (`wins`), lower (`losses`) or the same, the
    median difference a - b, the Wilcoxon statistic and p-value, and the Holm-adjusted `p_holm` (None without a test)."""

    a: str
    b: str
    n: int
    wins: int
    losses: int
    median_difference: float
    statistic: float | None
    p_value: float | None
    p_holm: float | None = None
    note: str = ""

    def better(self) -> str:
        """The entry with the higher median score ('' at a median difference of 0).

        >>> Pair("a", "b", 6, 1, 5, -0.02, 1.0, 0.06).better()
        'b'
        """
        return self.a if self.median_difference > 0 else self.b if self.median_difference < 0 else ""


@dataclass(frozen=True)
class PairTests:
    """Every pair of entries over the blocks of `unit`, Holm-adjusted as one family at `alpha`; `reason` says why there
    are no p-values where there are none."""

    unit: str
    alpha: float
    n_blocks: int
    pairs: tuple[Pair, ...]
    reason: str = ""

    def significant(self) -> list[Pair]:
        """The pairs whose Holm-adjusted p is below alpha, the better entry first."""
        out = []
        for p in self.pairs:
            if p.p_holm is not None and p.p_holm < self.alpha:
                out.append(p if p.median_difference >= 0 else Pair(p.b, p.a, p.n, p.losses, p.wins,
                                                                     -p.median_difference, p.statistic, p.p_value,
                                                                     p.p_holm, p.note))
        return out


def _pair(a: str, b: str, x: np.ndarray, y: np.ndarray, test: bool) -> Pair:
    from scipy.stats import wilcoxon

    d = x - y
    wins, losses, median = int((d > 0).sum()), int((d < 0).sum()), float(np.median(d)) if d.size else float("nan")
    if not test:
        return Pair(a, b, d.size, wins, losses, median, None, None)
    if not (wins or losses):
        return Pair(a, b, d.size, wins, losses, median, None, 1.0, note="equal in every block: nothing to test, p = 1")
    result = wilcoxon(x, y)
    return Pair(a, b, d.size, wins, losses, median, float(result.statistic), float(result.pvalue))


def pairwise(scores: pd.DataFrame, unit: str, alpha: float = ALPHA) -> PairTests:
    """Wilcoxon signed-rank tests of every pair of entries (columns of `scores`) over its complete blocks (rows), Holm's
    correction over all pairs (pairs in column order)."""
    blocks = blocks_of(scores, unit)
    test = blocks.n >= MIN_BLOCKS
    cols = {e: blocks.scores[:, i] for i, e in enumerate(blocks.entries)}
    pairs = [_pair(a, b, cols[a], cols[b], test) for a, b in combinations(blocks.entries, 2)]
    if test and pairs:
        adjusted = holm([p.p_value for p in pairs])
        pairs = [Pair(p.a, p.b, p.n, p.wins, p.losses, p.median_difference, p.statistic, p.p_value, q, p.note)
                 for p, q in zip(pairs, adjusted)]
    return PairTests(blocks.unit, alpha, blocks.n, tuple(pairs), "" if test else too_few(blocks.n))
