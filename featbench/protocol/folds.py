"""Speaker-independent folds that respect classes: every class in every test part and every training part (the
scheme training and extraction share: babble talkers for a test clip are drawn outside its training folds).

Groups (speakers or sessions) are assigned to k folds. The first candidate is the classic deal: groups
sorted, split by gender and dealt round-robin, so folds are balanced by gender. When that deal leaves a
class out of some test or training part (a speaker who never expressed an emotion, a class held by few
speakers), a search assigns groups one at a time, rarest classes first, to the smallest fold that still
lacks their classes, keeping fold sizes within one group of each other and genders balanced where it
can; restarts with a fixed random order make it deterministic. Folds depend on the corpus only, never
on the training seed.

The default number of folds is leave-one-group-out when every group holds every class and there are at
most MAX_FOLDS groups, else the largest k <= MAX_FOLDS that admits such an assignment.

>>> import pandas as pd
>>> t = pd.DataFrame({"id": [f"u{i}" for i in range(24)], "label": list("ab") * 12,
...                   "group": [f"g{i // 4}" for i in range(24)], "gender": ["f", "m"] * 12})
>>> [sorted(f.test_groups) for f in make_folds(t, 3)]
[['g0', 'g3'], ['g1', 'g4'], ['g2', 'g5']]
>>> default_n_folds(t)
6
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError

MAX_FOLDS = 10
_RESTARTS = 200


@dataclass(frozen=True)
class Fold:
    """One outer fold: the groups held out for testing."""

    index: int
    test_groups: tuple[str, ...]
    scheme: str  # "leave-one-group-out" or "k-group-folds"

    def test_mask(self, table: pd.DataFrame) -> np.ndarray:
        return table["group"].isin(self.test_groups).to_numpy()


@dataclass
class _Groups:
    """What the assignment needs to know about each group."""

    names: list[str]
    classes: dict[str, frozenset]
    gender: dict[str, str]
    all_classes: frozenset

    @classmethod
    def of(cls, table: pd.DataFrame) -> _Groups:
        names = sorted(table["group"].unique())
        classes = {g: frozenset(part["label"]) for g, part in table.groupby("group")}
        if "gender" in table:
            gender = table.groupby("group")["gender"].agg(lambda s: s.mode().iloc[0] if len(s.mode()) else "").to_dict()
        else:
            gender = dict.fromkeys(names, "")
        return cls(names, classes, gender, frozenset(table["label"]))

    def valid(self, folds: list[list[str]]) -> bool:
        """Every class in every fold's test part and in its training part (the other folds)."""
        for fold in folds:
            inside = frozenset().union(*(self.classes[g] for g in fold))
            outside = frozenset().union(*(self.classes[g] for g in self.names if g not in fold))
            if inside != self.all_classes or outside != self.all_classes:
                return False
        return True


def _round_robin(groups: _Groups, k: int) -> list[list[str]]:
    folds: list[list[str]] = [[] for _ in range(k)]
    n = 0
    for value in sorted(set(groups.gender.values())):
        for group in [g for g in groups.names if groups.gender[g] == value]:
            folds[n % k].append(group)
            n += 1
    return folds


def _search(groups: _Groups, k: int) -> list[list[str]] | None:
    """Greedy assignments from deterministic random orders (rarest classes first); the first valid one.
    Balanced folds (sizes within one group) are tried first, then folds of any size."""
    holders = {c: sum(c in groups.classes[g] for g in groups.names) for c in groups.all_classes}
    if min(holders.values()) < max(k, 2):  # every test part needs a holder of every class, and training one more
        return None
    balanced = -(-len(groups.names) // k)
    rng = np.random.default_rng(0)
    for attempt in range(2 * _RESTARTS):
        capacity = balanced if attempt < _RESTARTS else len(groups.names)
        jitter = dict(zip(groups.names, rng.random(len(groups.names))))
        order = sorted(groups.names, key=lambda g: (min(holders[c] for c in groups.classes[g]), jitter[g]))
        folds: list[list[str]] = [[] for _ in range(k)]
        for group in order:
            def cost(f: int, group=group, folds=folds, capacity=capacity):
                have = frozenset().union(*(groups.classes[g] for g in folds[f]))
                same_gender = sum(groups.gender[g] == groups.gender[group] for g in folds[f])
                return (len(folds[f]) >= capacity, -len(groups.classes[group] - have), len(folds[f]), same_gender,
                        rng.random())
            folds[min(range(k), key=cost)].append(group)
        if groups.valid(folds):
            return folds
    return None


def assign(table: pd.DataFrame, k: int) -> list[list[str]] | None:
    """Groups of each of k folds with every class on both sides, or None when no assignment was found."""
    groups = _Groups.of(table)
    dealt = _round_robin(groups, k)
    return dealt if groups.valid(dealt) else _search(groups, k)


def _no_assignment(table: pd.DataFrame, k: int | None) -> FeatbenchError:
    holders = table.groupby("label")["group"].unique()
    rare = sorted(holders.items(), key=lambda kv: len(kv[1]))[0]
    speakers = ", ".join(sorted(rare[1]))
    needed = max(k or 2, 2)
    if len(rare[1]) < needed:
        return FeatbenchError(f"no assignment of the {table['group'].nunique()} speaker groups to "
                              f"{f'{k} folds' if k else 'any number of folds'} puts every class in every test and "
                              f"training part: class '{rare[0]}' is held by {len(rare[1])} group(s) ({speakers}); "
                              f"{'choose fewer folds, or ' if k and len(rare[1]) >= 2 else ''}drop or merge that class")
    return FeatbenchError(f"no assignment of the {table['group'].nunique()} speaker groups to {k or 'any number of'} folds "
                          "with every class in every test and training part was found; choose fewer folds")


def default_n_folds(table: pd.DataFrame) -> int:
    """Leave-one-group-out when every group holds every class (at most MAX_FOLDS groups); otherwise the
    largest k <= MAX_FOLDS with an assignment that puts every class in every part. The library and the
    command line both use this."""
    groups = _Groups.of(table)
    n = len(groups.names)
    if n < 2:
        raise FeatbenchError(f"{n} speaker group(s): speaker-independent folds need at least 2")
    if n <= MAX_FOLDS and all(groups.classes[g] == groups.all_classes for g in groups.names):
        return n
    fewest = int(table.groupby("label")["group"].nunique().min())
    for k in range(min(MAX_FOLDS, n - 1 if n <= MAX_FOLDS else MAX_FOLDS, fewest), 1, -1):
        if assign(table, k) is not None:
            return k
    raise _no_assignment(table, None)


def make_folds(table: pd.DataFrame, n_folds: int | None = None) -> list[Fold]:
    """Leave-one-group-out when n_folds equals the number of groups; else k group folds with every class on
    both sides of every fold (see the module docstring). None means `default_n_folds(table)`."""
    groups = sorted(table["group"].unique())
    n_folds = default_n_folds(table) if n_folds is None else n_folds
    if n_folds == len(groups):
        return [Fold(i, (g,), "leave-one-group-out") for i, g in enumerate(groups)]
    if not 2 <= n_folds <= len(groups):
        raise FeatbenchError(f"{n_folds} folds: must be between 2 and the number of groups ({len(groups)})")
    folds = assign(table, n_folds)
    if folds is None:
        raise _no_assignment(table, n_folds)
    return [Fold(i, tuple(sorted(gs)), "k-group-folds") for i, gs in enumerate(folds)]


def per_fold_test_clips(table: pd.DataFrame, folds: list[Fold]) -> pd.DataFrame:
    """Test clips per fold (rows; column `fold`, the fold number of results rows) and class (columns), with each
    fold's total: where a class rests on one speaker per test fold, it shows.

    >>> t = pd.DataFrame({"label": list("aab") * 4, "group": list("xxxyyyzzzwww")})
    >>> print(per_fold_test_clips(t, make_folds(t, 2)).to_string(index=False))
     fold  a  b  total
        0  4  2      6
        1  4  2      6
    """
    labels = sorted(table["label"].unique())
    counts = pd.DataFrame([table.loc[fold.test_mask(table), "label"].value_counts().reindex(labels, fill_value=0)
                           for fold in folds]).reset_index(drop=True)
    counts.columns.name = None
    return pd.concat([pd.DataFrame({"fold": [fold.index for fold in folds]}), counts.assign(total=counts.sum(axis=1))],
                     axis=1)
