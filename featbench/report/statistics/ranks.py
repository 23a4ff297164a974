"""Entries ranked over blocks: the Friedman test, the mean rank of each entry and the critical difference of the
Nemenyi test (Demsar 2006) with the cliques of entries it does not tell apart.

A score matrix is a DataFrame, one row per block and one column per entry (higher = better). What a block is (a
corpus, a corpus x condition at one budget, ...) is the caller's to say (`unit`): every result carries it. The tests
assume blocks are independent; folds of one corpus share training speakers and are not (see report.statistics.folds).
A block with a missing or non-finite score is left out (complete blocks only) and named in `dropped`. With fewer than
MIN_BLOCKS blocks, with fewer than 3 entries, or where every block ties every entry, there is no p-value: `reason`
says why.

>>> import numpy as np, pandas as pd
>>> scores = pd.DataFrame(np.array([[.70, .60, .50]] * 4 + [[.60, .70, .50]] * 2), columns=["a", "b", "c"])
>>> f = friedman(scores, "corpus")
>>> round(f.statistic, 3), round(f.p_value, 4), f.mean_ranks
(9.333, 0.0094, {'a': 1.333, 'b': 1.667, 'c': 3.0})
>>> friedman(scores.head(4), "corpus").line()
'Friedman test over 4 blocks (corpus): too few blocks (4) for a test to mean anything'
>>> cd = critical_difference(scores, "corpus")
>>> round(cd.q_alpha, 3), round(cd.cd, 3), cd.cliques
(2.344, 1.353, (('a', 'b'), ('b', 'c')))
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError

MIN_BLOCKS = 5  # fewer blocks than this: no p-value (the rule; too few for a test to mean anything)
ALPHA = 0.05


def too_few(n: int) -> str:
    """The refusal said in place of a p-value where there are fewer than MIN_BLOCKS blocks.

    >>> too_few(3)
    'too few blocks (3) for a test to mean anything'
    """
    return f"too few blocks ({n}) for a test to mean anything"


@dataclass(frozen=True)
class Blocks:
    """A score matrix made ready for rank tests: `scores` (blocks x entries, complete), `dropped` (blocks left out for a
    missing or non-finite score) and `unit` (what a block is)."""

    scores: np.ndarray
    entries: tuple[str, ...]
    blocks: tuple[str, ...]
    dropped: tuple[str, ...]
    unit: str

    @property
    def n(self) -> int:
        return len(self.blocks)

    def ranks(self) -> np.ndarray:
        """Per block, each entry's rank (1 = highest score; ties share their mean rank)."""
        from scipy.stats import rankdata

        return rankdata(-self.scores, axis=1) if self.n else np.zeros((0, len(self.entries)))

    def mean_ranks(self) -> dict[str, float]:
        """Each entry's mean rank over the blocks, to 3 decimals ({} without blocks)."""
        if not self.n:
            return {}
        return {e: round(float(r), 3) for e, r in zip(self.entries, self.ranks().mean(axis=0))}


def blocks_of(scores: pd.DataFrame, unit: str) -> Blocks:
    """`scores` (rows blocks, columns entries) as Blocks; raises FeatbenchError for duplicate entry names or no unit.

    >>> b = blocks_of(pd.DataFrame({"a": [0.5, np.nan], "b": [0.6, 0.7]}, index=["x", "y"]), "corpus")
    >>> b.n, b.dropped, b.mean_ranks()
    (1, ('y',), {'a': 2.0, 'b': 1.0})
    """
    if not str(unit).strip():
        raise FeatbenchError("statistics: say what a block is (unit), e.g. 'corpus' or 'corpus x condition'")
    entries = tuple(str(c) for c in scores.columns)
    if len(set(entries)) != len(entries):
        raise FeatbenchError(f"statistics: entry names repeat in the score matrix: {sorted(entries)}")
    try:
        values = scores.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise FeatbenchError("statistics: the score matrix holds a value that is not a number") from None
    complete = np.isfinite(values).all(axis=1) if values.size else np.ones(len(scores), bool)
    names = tuple(str(i) for i in scores.index)
    return Blocks(values[complete], entries, tuple(n for n, ok in zip(names, complete) if ok),
                  tuple(n for n, ok in zip(names, complete) if not ok), str(unit))


def _refusal(blocks: Blocks) -> str:
    """Why these blocks give no rank test ('' where they do)."""
    if len(blocks.entries) < 3:
        return f"{len(blocks.entries)} entries: a rank test across entries needs at least 3 (compare a pair instead)"
    if blocks.n < MIN_BLOCKS:
        return too_few(blocks.n)
    if np.all(blocks.scores == blocks.scores[:, :1]):
        return "every entry scores the same in every block: nothing to test"
    return ""


@dataclass(frozen=True)
class RankTest:
    """The Friedman test of `entries` over `n_blocks` blocks of `unit`: its chi-square `statistic` and `p_value`
    (None with a `reason`), and the mean rank of each entry (1 = best)."""

    unit: str
    entries: tuple[str, ...]
    n_blocks: int
    mean_ranks: dict[str, float]
    statistic: float | None
    p_value: float | None
    reason: str = ""
    dropped: tuple[str, ...] = field(default=())

    def line(self) -> str:
        """One sentence: the test's outcome or why there is none."""
        head = f"Friedman test over {self.n_blocks} blocks ({self.unit})"
        if self.p_value is None:
            return f"{head}: {self.reason}"
        return f"{head}: chi-square {self.statistic:.2f} on {len(self.entries) - 1} df, p = {self.p_value:.3g}"


def friedman(scores: pd.DataFrame, unit: str) -> RankTest:
    """The Friedman test of the entries (columns) over the blocks (rows) of `scores`, by scipy.stats.friedmanchisquare
    (chi-square approximation, ties corrected); see the module for the refusals."""
    from scipy.stats import friedmanchisquare

    blocks = blocks_of(scores, unit)
    reason = _refusal(blocks)
    stat = p = None
    if not reason:
        result = friedmanchisquare(*blocks.scores.T)
        stat, p = float(result.statistic), float(result.pvalue)
    return RankTest(blocks.unit, blocks.entries, blocks.n, blocks.mean_ranks(), stat, p, reason, blocks.dropped)


@functools.lru_cache(maxsize=64)
def nemenyi_q(k: int, alpha: float = ALPHA) -> float:
    """The Nemenyi test's critical value q_alpha for `k` entries: the studentized range quantile (infinite df) over
    sqrt(2), as Demsar (2006, Table 5a) tabulates it.

    >>> round(nemenyi_q(5), 3), round(nemenyi_q(2), 3)
    (2.728, 1.96)
    """
    from scipy.stats import studentized_range

    return float(studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2))


@dataclass(frozen=True)
class CriticalDifference:
    """The Nemenyi critical difference `cd` of mean ranks at `alpha` (None with a `reason`) and the `cliques`: maximal
    runs of entries, in mean-rank order, whose mean ranks differ by less than `cd` (a pair of entries is told apart
    when their mean ranks differ by at least `cd`)."""

    unit: str
    alpha: float
    n_blocks: int
    mean_ranks: dict[str, float]
    q_alpha: float | None
    cd: float | None
    cliques: tuple[tuple[str, ...], ...]
    reason: str = ""


def cliques(mean_ranks: dict[str, float], cd: float) -> tuple[tuple[str, ...], ...]:
    """The maximal runs (two entries or more, in rank order) whose mean ranks span less than `cd`.

    >>> cliques({"a": 1.0, "b": 1.5, "c": 2.4, "d": 4.0}, 1.0)
    (('a', 'b'), ('b', 'c'))
    """
    order = sorted(mean_ranks, key=lambda e: mean_ranks[e])
    runs: list[tuple[str, ...]] = []
    for i, first in enumerate(order):
        run = tuple(e for e in order[i:] if mean_ranks[e] - mean_ranks[first] < cd - 1e-12)
        if len(run) > 1 and not any(set(run) <= set(r) for r in runs):
            runs.append(run)
    return tuple(runs)


def critical_difference(scores: pd.DataFrame, unit: str, alpha: float = ALPHA) -> CriticalDifference:
    """The Nemenyi critical difference q_alpha * sqrt(k (k + 1) / (6 N)) over the N blocks of `scores` (rows) for its
    k entries (columns), and its cliques; the same refusals as `friedman`."""
    blocks = blocks_of(scores, unit)
    ranks, reason, k = blocks.mean_ranks(), _refusal(blocks), len(blocks.entries)
    if reason:
        return CriticalDifference(blocks.unit, alpha, blocks.n, ranks, None, None, (), reason)
    q = nemenyi_q(k, alpha)
    cd = q * math.sqrt(k * (k + 1) / (6.0 * blocks.n))
    return CriticalDifference(blocks.unit, alpha, blocks.n, ranks, q, cd, cliques(ranks, cd))
