"""The evaluation protocol: speaker/session-independent folds and nested, stratified per-class budgets.

Folds are fixed by the corpus (not by the seed): groups are dealt to folds round-robin within each
gender, so k folds are balanced by gender where it is known. Seeds change the budget subsets (and
the classifiers' initialisation). A budget is the number of labelled examples per class the learner
gets (training and validation together); subsets are nested (the 16-per-class subset is inside the
32-per-class one), stratified, fixed by (seed, fold) and identical for every feature family.

>>> import pandas as pd
>>> t = pd.DataFrame({"id": [f"u{i}" for i in range(24)], "label": list("ab") * 12,
...                   "group": [f"g{i // 4}" for i in range(24)], "gender": ["f", "m"] * 12})
>>> folds = make_folds(t, 3)
>>> [sorted(f.test_groups) for f in folds]
[['g0', 'g3'], ['g1', 'g4'], ['g2', 'g5']]
>>> small, large = (budget_subset(t, folds[0], b, seed=0) for b in (2, 4))
>>> set(small) <= set(large), len(small), len(large)
(True, 4, 8)
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError

ALL = "all"
MAX_LOGO_GROUPS = 10  # up to this many groups, leave one group out; beyond it, DEFAULT_K folds
DEFAULT_K = 6


@dataclass(frozen=True)
class Fold:
    """One outer fold: the groups held out for testing."""

    index: int
    test_groups: tuple[str, ...]
    scheme: str  # "leave-one-group-out" or "k-group-folds"

    def test_mask(self, table: pd.DataFrame) -> np.ndarray:
        return table["group"].isin(self.test_groups).to_numpy()


def default_n_folds(table: pd.DataFrame) -> int:
    """The number of folds used when none is given: leave-one-group-out up to MAX_LOGO_GROUPS groups,
    else DEFAULT_K group folds. The library and the command line both use this.

    >>> default_n_folds(pd.DataFrame({"group": list("abcd")})), default_n_folds(pd.DataFrame({"group": range(24)}))
    (4, 6)
    """
    n_groups = table["group"].nunique()
    return n_groups if n_groups <= MAX_LOGO_GROUPS else DEFAULT_K


def make_folds(table: pd.DataFrame, n_folds: int | None = None) -> list[Fold]:
    """Leave-one-group-out when n_folds equals the number of groups; else k group folds. None means
    `default_n_folds(table)`.

    Groups are sorted, split by gender (the most common gender per group; '' when unknown) and dealt
    round-robin to folds, continuing the deal across genders so fold sizes stay even.
    """
    groups = sorted(table["group"].unique())
    n_folds = default_n_folds(table) if n_folds is None else n_folds
    if n_folds == len(groups):
        return [Fold(i, (g,), "leave-one-group-out") for i, g in enumerate(groups)]
    if not 2 <= n_folds <= len(groups):
        raise FeatbenchError(f"{n_folds} folds: must be between 2 and the number of groups ({len(groups)})")
    gender = table.groupby("group")["gender"].agg(lambda s: s.mode().iloc[0] if len(s.mode()) else "")
    assignment: dict[int, list[str]] = {i: [] for i in range(n_folds)}
    k = 0
    for g_value in sorted(gender.unique()):
        for group in [g for g in groups if gender[g] == g_value]:
            assignment[k % n_folds].append(group)
            k += 1
    return [Fold(i, tuple(sorted(gs)), "k-group-folds") for i, gs in assignment.items()]


def parse_budgets(spec: str) -> list[int | float | str]:
    """'8,16,all' -> [8, 16, 'all']: examples per class (integers) or fractions of each class's training
    pool (0 < f < 1, e.g. 0.25), not both, plus 'all'. Sorted; a repeated budget is refused.

    >>> parse_budgets("32, 8, all")
    [8, 32, 'all']
    >>> parse_budgets("8, 0.5")
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: budgets mix counts (8) and fractions (0.5): the subsets of one kind are not nested in the other's; use one kind
    """
    budgets: list = []
    for item in (s.strip().lower() for s in spec.split(",") if s.strip()):
        try:
            number = float(item)
        except ValueError:
            number = None
        if item == ALL:
            value: int | float | str = ALL
        elif item.isdigit() and int(item) > 0:
            value = int(item)
        elif number is not None and 0 < number < 1:
            value = number
        else:
            raise FeatbenchError(f"budget '{item}' is not a positive number of examples per class, "
                                 "a fraction between 0 and 1, or 'all'")
        budgets.append(value)
    return check_budgets(budgets)


def check_budgets(budgets: list) -> list:
    """Budgets sorted (counts or fractions, then 'all'); empty, repeated or mixed lists are refused."""
    if not budgets:
        raise FeatbenchError("no budgets given")
    repeated = sorted({str(b) for b in budgets if budgets.count(b) > 1})
    if repeated:
        raise FeatbenchError(f"budget {repeated[0]} is given twice; each budget once")
    counts = sorted(b for b in budgets if isinstance(b, int) and not isinstance(b, bool))
    fractions = sorted(b for b in budgets if isinstance(b, float))
    if counts and fractions:
        raise FeatbenchError(f"budgets mix counts ({counts[0]}) and fractions ({fractions[0]}): the subsets of one kind "
                             "are not nested in the other's; use one kind")
    strange = [b for b in budgets if b != ALL and b not in counts and b not in fractions]
    if strange:
        raise FeatbenchError(f"budget {strange[0]!r} is not a count, a fraction or 'all'")
    return counts + fractions + ([ALL] if ALL in budgets else [])


def parse_seeds(spec: str) -> list[int]:
    """'0,1,2' -> [0, 1, 2]; non-negative integers, each once.

    >>> parse_seeds("2, 0")
    [2, 0]
    """
    seeds = []
    for item in (s.strip() for s in spec.split(",") if s.strip()):
        if not item.isdigit():
            raise FeatbenchError(f"seed '{item}' is not a non-negative integer")
        seeds.append(int(item))
    return check_seeds(seeds)


def check_seeds(seeds: list[int]) -> list[int]:
    """Seeds as given; empty or repeated lists are refused."""
    if not seeds:
        raise FeatbenchError("no seeds given")
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise FeatbenchError(f"seed {repeated[0]} is given twice; each seed once")
    return list(seeds)


def _class_order(ids: np.ndarray, label: str, seed: int, fold: int) -> np.ndarray:
    rng = np.random.default_rng([seed, fold, zlib.crc32(label.encode())])
    ordered = np.sort(ids)  # independent of table order
    return ordered[rng.permutation(len(ordered))]


def budget_subset(table: pd.DataFrame, fold: Fold, budget: int | str, seed: int) -> list[str]:
    """Ids of the training subset: `budget` per class (a count, a fraction of the class, or all) from the
    fold's training groups."""
    train = table[~fold.test_mask(table)]
    chosen = []
    for label, part in sorted(train.groupby("label"), key=lambda kv: kv[0]):
        order = _class_order(part["id"].to_numpy(), str(label), seed, fold.index)
        if isinstance(budget, float):  # a fraction of this class's training pool: still nested and stratified
            order = order[:max(1, int(round(budget * len(order))))]
        elif budget != ALL:
            if budget > len(order):
                raise FeatbenchError(
                    f"budget {budget} per class is larger than class '{label}' in the training groups of fold "
                    f"{fold.index} ({len(order)} utterances); use at most {len(order)} or 'all'"
                )
            order = order[:budget]
        chosen.extend(order.tolist())
    return chosen


def check_folds(table: pd.DataFrame, folds: list[Fold]) -> None:
    """Every class must appear in every fold's training and test part."""
    classes = sorted(table["label"].unique())
    if len(classes) < 2:
        raise FeatbenchError(f"need at least 2 classes to train, found {len(classes)} ({', '.join(classes)})")
    for fold in folds:
        mask = fold.test_mask(table)
        for part, name in ((table[mask], "test"), (table[~mask], "training")):
            missing = sorted(set(classes) - set(part["label"]))
            if missing:
                raise FeatbenchError(
                    f"class '{missing[0]}' is missing from the {name} part of fold {fold.index} "
                    f"(test groups {', '.join(fold.test_groups)}); choose fewer folds or other classes"
                )


def validation_split(table: pd.DataFrame, ids: list[str], seed: int, fraction: float = 0.25) -> tuple[list[str], list[str]]:
    """Split training ids into (fit, validation) by group: validation speakers never appear in fit.

    Returns ([], []) when fewer than 2 groups are available (no held-out selection possible).
    """
    part = table.set_index("id").loc[ids]
    groups = np.array(sorted(part["group"].unique()))
    if len(groups) < 2:
        return [], []
    rng = np.random.default_rng([seed, 7919])
    n_val = max(1, int(round(fraction * len(groups))))
    val_groups = set(rng.permutation(groups)[:n_val])
    in_val = part["group"].isin(val_groups).to_numpy()
    ids_arr = np.asarray(ids)
    return ids_arr[~in_val].tolist(), ids_arr[in_val].tolist()
