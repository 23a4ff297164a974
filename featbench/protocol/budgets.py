"""Budgets, a protocol kind that acts: the nested, stratified training subset of a fold, budget and seed
(`budget_subset`), and the split of its speakers into fit and validation parts (`validation_split`). A budget is
the number of labelled examples per class the learner gets (a count, a fraction of the class, or ALL); subsets
are nested, stratified, fixed by (seed, fold) and independent of table order. A table with a VALUE column (a
dimensional target, `train.target`) is budgeted in utterances: one interleaved order of every bin's seeded order.

>>> from featbench.protocol.folds import make_folds
>>> t = pd.DataFrame({"id": [f"u{i}" for i in range(24)], "label": list("ab") * 12,
...                   "group": [f"g{i // 4}" for i in range(24)]})
>>> fold = make_folds(t, 3)[0]
>>> small, large = (budget_subset(t, fold, b, seed=0) for b in (2, 4))
>>> set(small) <= set(large), len(small), len(large)
(True, 4, 8)
>>> fit, val = validation_split(t, large, seed=0)
>>> sorted(t.set_index("id").loc[val, "group"].unique()), len(fit) + len(val)
(['g1'], 8)
"""
from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError
from featbench.protocol.folds import Fold

ALL = "all"  # the whole training pool of each class
VALUE = "_target"  # the float column of a dimensional target's values in a training table (train.target)


def _class_order(ids: np.ndarray, label: str, seed: int, fold: int) -> np.ndarray:
    rng = np.random.default_rng([seed, fold, zlib.crc32(label.encode())])
    ordered = np.sort(ids)  # independent of table order
    return ordered[rng.permutation(len(ordered))]


def budget_subset(table: pd.DataFrame, fold: Fold, budget: int | str, seed: int) -> list[str]:
    """Ids of the training subset: `budget` per class (a count, a fraction of the class, or all) from the
    fold's training groups; `budget` utterances (or a fraction of them) for a dimensional target."""
    train = table[~fold.test_mask(table)]
    if VALUE in train:
        return _utterance_subset(train, fold, budget, seed)
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


def _utterance_subset(train: pd.DataFrame, fold: Fold, budget, seed: int) -> list[str]:
    """The first `budget` utterances of one order that interleaves every bin's seeded order: the k-th of a bin
    of n sits at (k + 0.5) / n (ties in bin order), so each prefix is stratified and the subsets are nested."""
    keyed = []
    for b, (label, part) in enumerate(sorted(train.groupby("label"), key=lambda kv: kv[0])):
        order = _class_order(part["id"].to_numpy(), str(label), seed, fold.index)
        keyed += [((k + 0.5) / len(order), b, u) for k, u in enumerate(order.tolist())]
    order = [u for *_, u in sorted(keyed)]
    if isinstance(budget, float):
        return order[:max(1, int(round(budget * len(order))))]
    if budget != ALL and budget > len(order):
        raise FeatbenchError(f"budget {budget} utterances is larger than the training groups of fold {fold.index} "
                             f"({len(order)} utterances); use at most {len(order)} or 'all'")
    return order if budget == ALL else order[:budget]


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
