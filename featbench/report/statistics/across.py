"""Entries compared across corpora: blocks are corpora (or corpus x condition), each the mean over folds and seeds
at one budget, so that blocks are independent (no speaker is shared between corpora). Over them: the Friedman test,
Wilcoxon pairs with Holm, the mean rank table and the Nemenyi critical difference (report.statistics.ranks, pairs),
and the Bayesian signed-rank test of each pair with a ROPE of one point (report.statistics.bayes);
fewer than MIN_BLOCKS blocks give no p-value, said instead.

Entries are named by their display name (results.Setup.label, as reports name them) and classifier, 'whisper@auto
(selected)'; rows without the setup columns by their `family`. An entry that lacks a block is left out (named in
`left_out`) rather than the block; beyond `max_entries` the best by mean score are kept. A corpus whose rows hold
several class sets (RAVDESS with 8 and with 4 classes) is refused: the same test speakers twice are not independent.

>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> rows = pd.DataFrame([{"corpus": f"c{b}", "family": f, "classifier": "lr", "budget": "all",
...                       "examples_per_class": 20.0, "fold": k, "seed": 0,
...                       "ua": 0.5 + 0.1 * b / 6 + {"a": 0.05, "b": 0.0, "c": -0.02}[f] + rng.normal(0, 0.005)}
...                      for b in range(6) for f in "abc" for k in range(3)])
>>> got = across_corpora(rows)
>>> got.budget, got.unit, got.friedman.n_blocks, got.friedman.mean_ranks
('all', 'corpora, each the mean over folds and seeds', 6, {'a (lr)': 1.0, 'b (lr)': 2.0, 'c (lr)': 3.0})
>>> across_corpora(rows[rows.corpus < "c4"]).friedman.reason
'too few blocks (4) for a test to mean anything'
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from featbench.errors import FeatbenchError
from featbench.report.statistics.bayes import Bayes, signed_rank
from featbench.report.statistics.folds import score_matrix
from featbench.report.statistics.pairs import PairTests, pairwise
from featbench.report.statistics.ranks import ALPHA, CriticalDifference, RankTest, critical_difference, friedman
from featbench.results import budget_order, labels, shown

MAX_ENTRIES = 10  # more entries than this make a pair table of over 45 rows: the rest are named, not tested
UNITS = {False: "corpora, each the mean over folds and seeds",
         True: "corpus x {condition} blocks, each the mean over folds and seeds"}


@dataclass(frozen=True)
class AcrossCorpora:
    """What `across_corpora` computed: the `budget`, what a block is (`unit`), the `scores` (blocks x entries), the
    Friedman test with the mean ranks, the Wilcoxon pairs with Holm, the critical difference, and the entries
    `left_out` (each with why)."""

    budget: str
    unit: str
    scores: pd.DataFrame
    friedman: RankTest
    pairs: PairTests
    cd: CriticalDifference
    left_out: tuple[tuple[str, str], ...]  # (entry, why)
    bayes: tuple[Bayes, ...] = ()  # the Bayesian signed-rank test of each pair, in the order of `pairs`


def common_budget(rows: pd.DataFrame, by: list[str]) -> str:
    """The largest budget label every block (`by`) holds ('all' where each does), by mean examples per class.

    >>> common_budget(pd.DataFrame({"corpus": ["x", "x", "y"], "budget": ["8", "all", "8"],
    ...                             "examples_per_class": [8.0, 30.0, 8.0]}), ["corpus"])
    '8'
    """
    held = [set(part["budget"].astype(str)) for _, part in rows.groupby(by)]
    common = set.intersection(*held) if held else set()
    if not common:
        raise FeatbenchError(f"statistics across corpora: no budget is held by every {' x '.join(by)}; "
                             "name one that is (budget=...)")
    text = rows.assign(budget=rows["budget"].astype(str))
    return budget_order(text[text["budget"].isin(common)])[-1]


def _one_class_set(rows: pd.DataFrame) -> None:
    """Refuse a corpus whose rows hold several class sets: the same test speakers under two class sets are not
    independent blocks, and their scores are not on one scale.

    >>> _one_class_set(pd.DataFrame({"corpus": ["r", "r"], "classes": ["a,b", "a,b,c"]}))
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: statistics across corpora: corpus r holds rows of 2 class sets (a,b | a,b,c): the same test speakers, so not independent blocks; pass one class set per corpus
    """
    if "classes" not in rows:
        return
    sets = rows.groupby("corpus")["classes"].unique()
    for corpus, held in sets.items():
        if len(held) > 1:
            raise FeatbenchError(f"statistics across corpora: corpus {shown(corpus, 60)} holds rows of {len(held)} class "
                                 f"sets ({' | '.join(shown(c, 60) for c in held)}): the same test speakers, so not "
                                 "independent blocks; pass one class set per corpus")


def _entries(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows with `family` as each entry's display name (Setup.label) where the rows hold the setup columns."""
    return rows.assign(family=labels(rows)) if "view" in rows else rows


def _missing(blocks: list[str], of: int) -> str:
    """'no score in x, y' (up to 3 blocks named), else 'no score in 14 of 15 blocks'."""
    return f"no score in {', '.join(blocks)}" if len(blocks) <= 3 else f"no score in {len(blocks)} of {of} blocks"


def complete_entries(matrix: pd.DataFrame, max_entries: int = MAX_ENTRIES) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """The entries (columns) with a score in every block (row), the best `max_entries` by mean score; the others as
    (entry, why).

    >>> m = pd.DataFrame({"a": [0.5, 0.6], "b": [0.7, None], "c": [0.4, 0.5]}, index=["x", "y"])
    >>> kept, left = complete_entries(m, 1)
    >>> list(kept), left
    (['a'], [('b', 'no score in y'), ('c', 'beyond the 1 best by mean score')])
    """
    missing = [e for e in matrix if matrix[e].isna().any()]
    left = [(e, _missing(list(map(str, matrix.index[matrix[e].isna()])), len(matrix))) for e in missing]
    full = matrix.drop(columns=missing)
    order = full.mean().sort_values(ascending=False, kind="stable").index
    left += [(e, f"beyond the {max_entries} best by mean score") for e in order[max_entries:]]
    return full[list(order[:max_entries])], left


def across_corpora(rows: pd.DataFrame, budget: str | None = None, condition: str | None = None,
                   max_entries: int = MAX_ENTRIES, alpha: float = ALPHA) -> AcrossCorpora:
    """The rank tests of the entries of `rows` (results rows of several corpora, a `corpus` column) over blocks =
    corpus [x `condition`, a column such as 'test_condition'] at `budget` (default: the largest every block holds)."""
    by = ["corpus"] + ([condition] if condition else [])
    missing = [c for c in [*by, "budget", "examples_per_class"] if c not in rows]
    if missing:
        raise FeatbenchError(f"statistics across corpora: the rows lack column(s) {', '.join(missing)}")
    if rows.empty:
        raise FeatbenchError("statistics across corpora: no rows")
    if "metric" in rows and rows["metric"].nunique() > 1:
        raise FeatbenchError(f"statistics across corpora: the rows mix metrics ({', '.join(map(str, rows['metric'].unique()))}); "
                             "rank entries over rows of one metric")
    _one_class_set(rows)
    budget = str(budget) if budget is not None else common_budget(rows, by)
    part = _entries(rows[rows["budget"].astype(str) == budget])
    if part.empty:
        raise FeatbenchError(f"statistics across corpora: no rows at budget {budget}")
    unit = UNITS[bool(condition)].format(condition=condition)
    matrix, left = complete_entries(score_matrix(part, by), max_entries)
    pairs = pairwise(matrix, unit, alpha)
    complete = matrix.dropna()
    bayes = tuple(signed_rank(complete[p.a].to_numpy(), complete[p.b].to_numpy()) for p in pairs.pairs)
    return AcrossCorpora(budget, unit, matrix, friedman(matrix, unit), pairs, critical_difference(matrix, unit, alpha),
                         tuple(left), bayes)
