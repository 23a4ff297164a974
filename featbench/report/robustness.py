"""Robustness: every number of the report's Robustness section, from the rows of every test condition (report.
conditions), at each entry's full budget (its largest).

- `Drop`: an entry's score on clean test clips minus its score under a test condition, paired by fold, seed and
  budget (the same trained models score both): per fold the mean over the seeds both hold, then the mean and the 95%
  t-interval over folds (report.intervals; one fold: no interval).
- `Comparison`: an entry's drop against the baseline's at one condition (both trained under the same condition),
  the difference of the two drops paired by fold, with its 95% t-interval over the folds both hold: the claim
  "the entry's drop is smaller" is SUPPORTED where the whole interval lies below 0 (report.claims.drop_verdict).
- `points`: each entry's mean and interval at each test condition (the figure, the matched/multi table).

>>> import numpy as np, pandas as pd
>>> rows = pd.DataFrame({"family": "a", "classifier": "lr", "budget": "all", "examples_per_class": 20.0,
...                      "fold": [0, 0, 1, 1, 0, 1], "seed": 0, "ua": [0.6, 0.5, 0.7, 0.55, 0.58, 0.66],
...                      "train_condition": "clean",
...                      "test_condition": ["clean", "white:10", "clean", "white:10", "white:20", "white:20"]})
>>> [round(v, 3) for v in fold_drops(rows, "a", "lr", "all", "white:10")]
[0.1, 0.15]
>>> d = drop_of(rows, "a", "lr", "all", "white:10")
>>> round(d.mean, 3), d.n_folds, round(d.ci_low, 3), round(d.ci_high, 3)
(0.125, 2, -0.193, 0.443)
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from featbench.report.conditions import CLEAN, TEST, TRAIN
from featbench.report.intervals import t_interval
from featbench.report.pairing import Pair, Pairing
from featbench.results import budget_order


@dataclass(frozen=True)
class Drop:
    """`family` (with `classifier`, trained under `train`) scores `clean` on clean test clips and `degraded` under
    `test` at `budget`: it loses `mean` (clean minus degraded, a share: 0.091 is 9.1 points of UA), 95% interval
    [ci_low, ci_high] over `n_folds` folds (NaN for one); `by_fold` the per-fold drops, by fold."""

    family: str
    classifier: str
    train: str
    test: str
    budget: str
    clean: float
    degraded: float
    mean: float
    ci_low: float
    ci_high: float
    n_folds: int
    by_fold: pd.Series


@dataclass(frozen=True)
class Comparison:
    """`entry`'s drop against the `baseline`'s at one test condition: `difference` (entry's drop minus the
    baseline's, paired by fold) and its 95% interval over `n_folds` common folds."""

    entry: Drop
    baseline: Drop
    difference: float
    ci_low: float
    ci_high: float
    n_folds: int


def _part(rows: pd.DataFrame, family: str, classifier: str, budget: str) -> pd.DataFrame:
    return rows[(rows["family"] == family) & (rows["classifier"] == classifier) & (rows["budget"].astype(str) == budget)]


def _by_fold_seed(part: pd.DataFrame, test: str) -> pd.Series:
    return part[part[TEST] == test].groupby(["fold", "seed"])["ua"].mean()


def fold_scores(rows: pd.DataFrame, family: str, classifier: str, budget: str, test: str,
                against: str = CLEAN) -> pd.DataFrame:
    """Per fold (index): the score on `against` test clips and under `test` (columns 'clean', 'degraded'), each the
    mean over the seeds that hold both (a fold x seed missing either is left out)."""
    part = _part(rows, family, classifier, budget)
    both = pd.concat([_by_fold_seed(part, against).rename("clean"), _by_fold_seed(part, test).rename("degraded")],
                     axis=1, join="inner")
    return both.groupby(level="fold").mean()


def fold_drops(rows: pd.DataFrame, family: str, classifier: str, budget: str, test: str) -> pd.Series:
    """Per fold: the clean score minus the score under `test` (see fold_scores)."""
    scores = fold_scores(rows, family, classifier, budget, test)
    return scores["clean"] - scores["degraded"]


def _difference_bounds(bounds: tuple[float, float]) -> tuple[float, float]:
    """The range of a difference of two scores of range `bounds` ([-1, 1] for UA, [-2, 2] for CCC)."""
    span = bounds[1] - bounds[0]
    return -span, span


def drop_of(rows: pd.DataFrame, family: str, classifier: str, budget: str, test: str,
            bounds: tuple[float, float] = (0.0, 1.0)) -> Drop | None:
    """The Drop of one entry at one test condition and budget; None where no fold holds both clean and `test`."""
    scores = fold_scores(rows, family, classifier, budget, test)
    if scores.empty:
        return None
    by_fold = scores["clean"] - scores["degraded"]
    low, high = t_interval(by_fold.to_numpy(), _difference_bounds(bounds))
    train = str(_part(rows, family, classifier, budget)[TRAIN].iloc[0])
    return Drop(family, classifier, train, test, budget, float(scores["clean"].mean()),
                float(scores["degraded"].mean()), float(by_fold.mean()), low, high, len(by_fold), by_fold)


def compare_drops(entry: Drop, baseline: Drop, bounds: tuple[float, float] = (0.0, 1.0)) -> Comparison | None:
    """The entry's drop minus the baseline's, paired over the folds both hold; None where they share none."""
    common = entry.by_fold.index.intersection(baseline.by_fold.index)
    if not len(common):
        return None
    difference = (entry.by_fold[common] - baseline.by_fold[common]).to_numpy(float)
    span = _difference_bounds(bounds)
    low, high = t_interval(difference, (2 * span[0], 2 * span[1]))
    return Comparison(entry, baseline, float(difference.mean()), low, high, len(common))


def full_budget(rows: pd.DataFrame, family: str, classifier: str) -> str | None:
    """The entry's largest budget (by examples per class) among its clean-test rows, or among all its rows where it was
    never tested clean (an entry trained and tested under one condition: matched); None without any row."""
    mine = rows[(rows["family"] == family) & (rows["classifier"] == classifier)]
    part = mine[mine[TEST] == CLEAN] if (mine[TEST] == CLEAN).any() else mine
    return budget_order(part)[-1] if len(part) else None


def test_conditions(rows: pd.DataFrame) -> list[str]:
    """Every test condition but clean in the rows, in the order first met."""
    return [c for c in dict.fromkeys(rows[TEST]) if c != CLEAN]


def points(rows: pd.DataFrame, family: str, classifier: str, budget: str,
           bounds: tuple[float, float] = (0.0, 1.0)) -> pd.DataFrame:
    """The entry's score at `budget` under each test condition (clean included): columns test, mean, ci_low,
    ci_high, n (folds); seeds averaged within a fold, the interval over folds."""
    part = _part(rows, family, classifier, budget)
    folds = part.groupby([TEST, "fold"], sort=False)["ua"].mean().reset_index()
    out = []
    for test, group in folds.groupby(TEST, sort=False):
        low, high = t_interval(group["ua"].to_numpy(), bounds)
        out.append({"test": test, "mean": float(group["ua"].mean()), "ci_low": low, "ci_high": high,
                    "n": len(group)})
    return pd.DataFrame(out, columns=["test", "mean", "ci_low", "ci_high", "n"])


def drops_of(rows: pd.DataFrame, entries: dict[str, str], bounds: tuple[float, float] = (0.0, 1.0)) -> list[Drop]:
    """Every entry's (family -> classifier) Drop at every test condition it holds, at its full budget."""
    out = []
    for family, classifier in entries.items():
        budget = full_budget(rows, family, classifier)
        if budget is None:
            continue
        mine = rows[(rows["family"] == family) & (rows["classifier"] == classifier)]
        for test in test_conditions(mine):
            if (drop := drop_of(rows, family, classifier, budget, test, bounds)) is not None:
                out.append(drop)
    return out


def comparisons_of(drops: list[Drop], baseline: str, families: list[str],
                   bounds: tuple[float, float] = (0.0, 1.0)) -> list[Comparison]:
    """Each of `families`' drops against the baseline's at the same test condition and training condition."""
    base = {(d.train, d.test): d for d in drops if d.family == baseline}
    out = []
    for drop in drops:
        if drop.family in families and drop.family != baseline and (drop.train, drop.test) in base:
            if (made := compare_drops(drop, base[(drop.train, drop.test)], bounds)) is not None:
                out.append(made)
    return out


def efficiency_rows(rows: pd.DataFrame, test: str) -> pd.DataFrame:
    """The rows tested under `test`, of entries trained clean: what the data-efficiency ratio is recomputed on."""
    return rows[(rows[TEST] == test) & (rows[TRAIN] == CLEAN)]


def _twin_key(rows: pd.DataFrame, family: str) -> tuple:
    """What an entry is but for its training condition: its rows' SETUP_COLUMNS (less the training condition)."""
    from featbench.results import SETUP_COLUMNS

    first = rows[rows["family"] == family].iloc[0]
    return tuple(str(first[c]) for c in SETUP_COLUMNS if c in rows and c != TRAIN)


def matched_rows(rows: pd.DataFrame, entries: dict[str, str], bounds: tuple[float, float] = (0.0, 1.0)) -> list[dict]:
    """Where entries of one view were trained under several conditions: per view and test condition, each training
    condition's score at its full budget ({"twins": [families], "test": C, "scores": {train: (family, point row)}}),
    the entry trained clean first; a test condition only where an entry trained under a condition was tested under
    it. Empty where every entry is trained clean."""
    groups: dict[tuple, list[str]] = {}
    for family in entries:
        groups.setdefault(_twin_key(rows, family), []).append(family)
    out = []
    for twins in groups.values():
        trains = {f: str(rows.loc[rows["family"] == f, TRAIN].iloc[0]) for f in twins}
        if set(trains.values()) == {CLEAN}:
            continue
        twins = sorted(twins, key=lambda f: (trains[f] != CLEAN, trains[f]))
        tables = {f: points(rows, f, entries[f], b, bounds)
                  for f in twins if (b := full_budget(rows, f, entries[f])) is not None}
        tests = dict.fromkeys(t for table in tables.values() for t in table["test"] if t != CLEAN)
        for test in tests:
            scores = {trains[f]: (f, table[table["test"] == test].iloc[0]) for f, table in tables.items()
                      if (table["test"] == test).any()}
            if set(scores) - {CLEAN}:  # a test condition that only the entry trained clean was tested under: none
                out.append({"twins": twins, "test": test, "scores": scores})
    return out


@dataclass
class Robustness:
    """What the Robustness section shows: `rows` (every test condition, report.conditions columns), each entry's
    full `budgets`, its `drops`, the `comparisons` with the baseline, the efficiency `ratios` recomputed under each
    test condition ((test condition, report.pairing.Pair)) and the `matched` table (matched_rows)."""

    rows: pd.DataFrame
    budgets: dict[str, str]
    drops: list[Drop]
    comparisons: list[Comparison]
    ratios: list[tuple[str, object]]
    matched: list[dict]

    @property
    def empty(self) -> bool:
        return not self.drops and not self.matched


def _ratios(a, rows: pd.DataFrame) -> list[tuple[str, object]]:
    """Each headline entry's efficiency ratio against the baseline, recomputed on the rows of each test condition
    (entries trained clean) at the report's reference budget."""
    out: list[tuple[str, object]] = []
    for test in test_conditions(rows):
        under = efficiency_rows(rows, test)
        if not (under["family"] == a.baseline).any():
            continue
        budgets = budget_order(under[under["family"] == a.baseline])
        if a.reference_budget not in budgets:
            continue
        pair = Pairing(under, a.entries, a.scale, a.n_boot, a.names)
        for family in a.honest:
            if (under["family"] == family).any() and (eff := pair(family, a.baseline, budgets.index(a.reference_budget))) is not None:
                out.append((test, Pair(family, a.baseline, eff, pair.sentence(eff, family, a.baseline))))
    return out


def robustness_of(a) -> Robustness:
    """The Robustness of a report.analysis.Analysis (its `every` rows: all test conditions)."""
    rows, bounds = a.every, a.scale.bounds
    entries = {f: e.classifier for f, e in a.entries.items()}
    budgets = {f: b for f, c in entries.items() if (b := full_budget(rows, f, c)) is not None}
    drops = drops_of(rows, entries, bounds)
    comparisons = comparisons_of(drops, a.baseline, list(a.honest), bounds) if a.entries[a.baseline].honest else []
    return Robustness(rows, budgets, drops, comparisons, _ratios(a, rows), matched_rows(rows, entries, bounds))
