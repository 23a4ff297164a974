"""Statistics: every number of the report's Statistics section, from one corpus's results rows (report.statistics).

At one budget (the largest every shown entry holds: 'all' where they all have it) and for at most MAX_ENTRIES entries
(each family's entry trained on this corpus's labels: the baseline, then the honest entries, then the others by score;
shown best first):

- each entry's score with a 95% interval that resamples test speakers within folds (statistics.speakers), exact where
  the rows record `correct_by_speaker`, else fitted to the stored margins and said so;
- each entry's mean rank over the folds (descriptive only: folds of one corpus share training speakers, so no
  Friedman test or critical difference is computed over them);
- every pair of entries by the corrected resampled t-test of Nadeau and Bengio over folds (statistics.folds), the
  p-values adjusted by Holm over the pairs, and by its Bayesian counterpart with a ROPE of one point (statistics.bayes);
- where the rows hold several test conditions, the Friedman test, the Wilcoxon pairs with Holm and the Nemenyi
  critical difference over the conditions as blocks (`over_conditions`; fewer than 5: said, no p-value).

>>> MAX_ENTRIES
10
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import pandas as pd

from featbench.errors import FeatbenchError
from featbench.report.conditions import TEST
from featbench.report.statistics import (CorrectedT, CriticalDifference, PairTests, RankTest,
                                         SpeakerInterval, corrected_t, counts_of, critical_difference, fold_scores,
                                         friedman, holm, pairwise, score_matrix, speaker_interval)
from featbench.report.statistics.bayes import Bayes, correlated_t
from featbench.report.statistics.folds import paired_folds
from featbench.report.statistics.across import MAX_ENTRIES, complete_entries
from featbench.report.statistics.ranks import blocks_of
from featbench.results import budget_order

FOLD_UNIT = "speaker folds of one corpus"
CONDITION_UNIT = "test conditions of this corpus, each the mean over folds and seeds"


@dataclass(frozen=True)
class Scored:
    """One entry at the section's budget: its mean score over folds (seeds averaged within a fold), its mean rank over
    the folds, and its speaker-resampling interval (None with `why`)."""

    family: str
    classifier: str
    mean: float
    folds: int
    mean_rank: float | None
    interval: SpeakerInterval | None
    why: str = ""


@dataclass(frozen=True)
class FoldPair:
    """Entry `a` against `b` over the folds both hold: the corrected resampled t-test, its Holm-adjusted p, and the
    Bayesian correlated t-test with a ROPE of one point (statistics.bayes)."""

    a: str
    b: str
    test: CorrectedT
    p_holm: float | None
    bayes: Bayes


@dataclass(frozen=True)
class Significance:
    """What `significance_of` computed; `reason` says why there is nothing ('' where there is)."""

    budget: str
    entries: list[Scored]
    left_out: list[tuple[str, str]]  # (an entry not in some test, in words; why)
    pairs: list[FoldPair]
    n_folds: int
    conditions: RankTest | None = None
    condition_pairs: PairTests | None = None
    cd: CriticalDifference | None = None
    condition_names: tuple[str, ...] = ()
    reason: str = ""

    @property
    def empty(self) -> bool:
        return not self.entries


def _budget(rows: pd.DataFrame, picked: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]], list[str]]:
    """(the largest budget every picked entry holds, else the first entry's largest; the entries holding it; the
    families lacking it).

    >>> rows = pd.DataFrame({"family": ["a", "a", "b"], "classifier": "lr", "budget": ["8", "all", "8"],
    ...                      "examples_per_class": [8.0, 20.0, 8.0]})
    >>> _budget(rows, [("a", "lr"), ("b", "lr")]), _budget(rows, [("a", "lr")])[0]
    (('8', [('a', 'lr'), ('b', 'lr')], []), 'all')
    """
    held = {fc: set(rows[(rows.family == fc[0]) & (rows.classifier == fc[1])]["budget"].astype(str)) for fc in picked}
    common = set.intersection(*held.values())
    mine = rows[[(f, c) in held for f, c in zip(rows.family, rows.classifier)]]
    order = budget_order(mine.assign(budget=mine["budget"].astype(str)))
    budget = next((b for b in reversed(order) if b in common), None) or budget_order(
        mine[(mine.family == picked[0][0]) & (mine.classifier == picked[0][1])])[-1]
    keep = [fc for fc in picked if budget in held[fc]]
    return budget, keep, [f for f, c in picked if (f, c) not in keep]


def _interval(rows: pd.DataFrame, family: str, classifier: str, budget: str, n_boot: int) -> tuple:
    """(the speaker-resampling interval, '') or (None, why there is none)."""
    try:
        return speaker_interval(counts_of(rows, family, classifier, budget), n_boot=n_boot, seed=0), ""
    except FeatbenchError as err:  # said in the section beside the entry, never a traceback
        return None, str(err).removeprefix("speaker interval: ")


def _fold_pairs(rows: pd.DataFrame, entries: list[tuple[str, str]], budget: str) -> list[FoldPair]:
    """Every pair by the corrected resampled t-test; Holm over the pairs that have a p-value."""
    folds = {(a, b): paired_folds(rows, a, b, budget) for a, b in combinations(entries, 2)}
    tests = {ab: corrected_t(*scores) for ab, scores in folds.items()}
    tested = [t.p_value for t in tests.values() if t.p_value is not None]
    adjusted = iter(holm(tested) if tested else [])
    return [FoldPair(a[0], b[0], t, next(adjusted) if t.p_value is not None else None, correlated_t(*folds[a, b]))
            for (a, b), t in tests.items()]


Tested = tuple[RankTest, PairTests, CriticalDifference, tuple[str, ...], tuple[tuple[str, str], ...]]


def over_conditions(every: pd.DataFrame, entries: list[tuple[str, str]], budget: str) -> Tested | None:
    """(Friedman, Wilcoxon pairs with Holm, critical difference, the blocks' names, the entries left out for lacking
    a condition) of the entries over the test conditions of `every` at `budget`, the entries named by family; None
    where the rows hold one test condition, or fewer than 2 entries hold every one."""
    part = every[[(f, c) in set(entries) for f, c in zip(every.family, every.classifier)]]
    part = part[part["budget"].astype(str) == budget]
    if TEST not in part or part[TEST].nunique() < 2:
        return None
    matrix = score_matrix(part, [TEST]).rename(columns={f"{f} ({c})": f for f, c in entries})
    matrix, left = complete_entries(matrix[[f for f, _ in entries if f in matrix]], len(entries))
    if matrix.shape[1] < 2:
        return None
    blocks = blocks_of(matrix, CONDITION_UNIT)
    return (friedman(matrix, CONDITION_UNIT), pairwise(matrix, CONDITION_UNIT),
            critical_difference(matrix, CONDITION_UNIT), blocks.blocks, tuple(left))


def same_test_clips(rows: pd.DataFrame, candidates: list[tuple[str, str]], baseline: str
                    ) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """(the candidates tested under the baseline's test condition; (family, its condition, the baseline's) of the
    others): an entry trained and tested under a matched condition (`own_rows`) scores other clips than the
    baseline, so a paired test of the two would compare clips, not entries.

    >>> rows = pd.DataFrame({"family": ["b", "a", "m"], "test_condition": ["clean", "clean", "white:10"]})
    >>> same_test_clips(rows, [("b", "svm"), ("a", "svm"), ("m", "svm")], "b")
    ([('b', 'svm'), ('a', 'svm')], [('m', 'white:10', 'clean')])
    """
    if TEST not in rows:
        return candidates, []
    tested = rows.groupby("family")[TEST].first().fillna("clean").astype(str)
    clips = str(tested.get(baseline, "clean"))
    keep = [(f, c) for f, c in candidates if str(tested.get(f, clips)) == clips]
    return keep, [(f, str(tested[f]), clips) for f, _ in candidates if str(tested.get(f, clips)) != clips]


def significance_of(a) -> Significance:
    """The Statistics section's numbers of an Analysis (report.analysis): see the module."""
    rows = a.rows
    candidates = [(f, a.best[f]) for f in a.best if f not in a.cross]
    left = [(a.names[f], "trained on another corpus's labels") for f in a.cross]
    candidates, elsewhere = same_test_clips(rows, candidates, a.baseline)
    left += [(a.names[f], f"tested on {condition} clips, not the baseline's {clips}: a pair is compared on the same "
                          "test clips (the Robustness section compares conditions)") for f, condition, clips in elsewhere]
    if not candidates:
        return Significance("", [], left, [], 0, reason="no entry is trained on this corpus's labels")
    budget, picked, lacking = _budget(rows, candidates)
    left += [(a.names[f], f"no rows at budget {budget}") for f in lacking]
    matrix = pd.DataFrame({f: fold_scores(rows, f, c, budget)["ua"] for f, c in picked})
    first = sorted(picked, key=lambda fc: (fc[0] != a.baseline, not a.entries[fc[0]].honest, -matrix[fc[0]].mean()))
    left += [(a.names[f], f"beyond the {MAX_ENTRIES} shown: the baseline, then honest entries, then the best")
             for f, _ in first[MAX_ENTRIES:]]
    picked = sorted(first[:MAX_ENTRIES], key=lambda fc: -float(matrix[fc[0]].mean()))
    matrix = matrix[[f for f, _ in picked]]
    ranks = blocks_of(matrix, FOLD_UNIT).mean_ranks() if len(picked) > 1 else {}
    scored = [Scored(f, c, float(matrix[f].mean()), int(matrix[f].notna().sum()), ranks.get(f),
                     *_interval(rows, f, c, budget, a.n_boot)) for f, c in picked]
    tested = over_conditions(a.every if a.every is not None else rows, picked, budget) if len(picked) > 1 else None
    pairs = _fold_pairs(rows, picked, budget)
    if tested is None:
        return Significance(budget, scored, left, pairs, len(matrix.dropna()))
    left += [(a.names[f], f"left out of the tests over conditions: {why}") for f, why in tested[4]]
    return Significance(budget, scored, left, pairs, len(matrix.dropna()), *tested[:4])


__all__ = ["CONDITION_UNIT", "FOLD_UNIT", "MAX_ENTRIES", "FoldPair", "Scored", "Significance",
           "over_conditions", "same_test_clips", "significance_of"]
