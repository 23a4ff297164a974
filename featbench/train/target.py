"""Dimensional targets: a numeric column of the corpus table (arousal, valence, ...) as what `train --target` learns.

The column's values become the float column VALUE. An utterance whose value is empty is left out, with a
note in the run's summary (a corpus rated only in part); a value that is not a finite number is an error
naming the column and the utterance. Quantile bins of the target over the whole corpus (BINS bins of equal
size by rank, ties split by utterance id) replace the labels: they stand in for classes wherever the
protocol needs classes (every bin in every fold's test and training part, budget subsets stratified by
bin), so the folds, budgets and seeds are the classification protocol's own code. A table with a VALUE
column is budgeted in utterances, not per class (`protocol.budget_subset`).

>>> t = pd.DataFrame({"id": list("abcdefgh"), "label": ["x"] * 8, "arousal": ["2", "1", "", "4", "5", "6", "7", "8"]})
>>> table, notes = target_table(t, "arousal")
>>> table["label"].tolist()
['arousal Q1', 'arousal Q1', 'arousal Q2', 'arousal Q2', 'arousal Q3', 'arousal Q3', 'arousal Q4']
>>> notes
['--target arousal: 1 utterance(s) without a value were left out (e.g. c)']
>>> target_table(t.assign(arousal="3"), "arousal")
Traceback (most recent call last):
featbench.errors.FeatbenchError: --target arousal: every utterance has the value 3; a target without variance cannot be learned, and its CCC is undefined
>>> target_table(t.assign(arousal="high"), "arousal")
Traceback (most recent call last):
featbench.errors.FeatbenchError: --target arousal: utterance a has 'high', not a number (8 such values)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError
from featbench.protocol.budgets import VALUE  # noqa: F401 (the float column of the target's values; re-exported)

BINS = 4  # quantile bins (quartiles) of the target, the classes of folds and budget strata


def target_table(table: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[str]]:
    """(the utterances with a value of column `name`, VALUE holding it and `label` its quantile bin; notes)."""
    if name not in table.columns or name == VALUE:
        from featbench.corpus.table import COLUMNS

        others = [c for c in table.columns if c not in COLUMNS]
        raise FeatbenchError(f"--target {name}: the corpus table has no column '{name}' (its extra columns: "
                             f"{', '.join(others) or 'none'}; add it to the manifest and extract again)")
    text = table[name].fillna("").astype(str).str.strip()
    empty = text == ""
    values = pd.to_numeric(text.where(~empty), errors="coerce")
    bad = ~empty & ~np.isfinite(values.to_numpy(float))
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        raise FeatbenchError(f"--target {name}: utterance {table['id'].iloc[first]} has '{text.iloc[first]}', not a "
                             f"number ({int(bad.sum())} such values)")
    if empty.all():
        raise FeatbenchError(f"--target {name}: no utterance has a value (the column is empty)")
    notes = []
    if empty.any():
        notes.append(f"--target {name}: {int(empty.sum())} utterance(s) without a value were left out "
                     f"(e.g. {table['id'][empty].iloc[0]})")
    kept = table[~empty.to_numpy()].copy()
    kept[VALUE] = values[~empty].to_numpy(float)
    if kept[VALUE].nunique() == 1:
        raise FeatbenchError(f"--target {name}: every utterance has the value {kept[VALUE].iloc[0]:g}; a target without "
                             "variance cannot be learned, and its CCC is undefined")
    kept["label"] = bin_labels(kept, name)
    return kept.reset_index(drop=True), notes


def check_variance(table: pd.DataFrame, folds) -> None:
    """Every fold's training and test part must hold two values of the target at least: CCC is undefined
    without variance (and a constant fit would match a constant test part exactly).

    >>> from featbench.train.folds import Fold
    >>> t = pd.DataFrame({"id": list("abcd"), "group": list("aabb"), VALUE: [1.0, 1.0, 2.0, 3.0]})
    >>> check_variance(t, [Fold(0, ("a",), "leave-one-group-out")])
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: the test part of fold 0 (test groups a) has one value, 1, of the target; CCC is undefined without variance: choose fewer folds
    """
    for fold in folds:
        mask = fold.test_mask(table)
        for part, name in ((table[mask], "test"), (table[~mask], "training")):
            values = part[VALUE].unique()
            if len(values) < 2:
                raise FeatbenchError(f"the {name} part of fold {fold.index} (test groups {', '.join(fold.test_groups)}) has "
                                     f"one value, {values[0]:g}, of the target; CCC is undefined without variance: "
                                     "choose fewer folds")


def bin_labels(table: pd.DataFrame, name: str, bins: int = BINS) -> list[str]:
    """'<name> Q1' .. '<name> Q<bins>': equal-size quantile bins of VALUE by rank (ties in id order).

    >>> bin_labels(pd.DataFrame({"id": list("abcde"), VALUE: [5.0, 1.0, 3.0, 3.0, 2.0]}), "v", bins=2)
    ['v Q2', 'v Q1', 'v Q1', 'v Q2', 'v Q1']
    """
    order = table.assign(_id=table["id"].astype(str)).sort_values([VALUE, "_id"], kind="stable").index
    rank = pd.Series(np.arange(len(table)), index=order).reindex(table.index).to_numpy()
    return [f"{name} Q{int(r * bins // len(table)) + 1}" for r in rank]


def describe(name: str, classes: list[str] | None) -> str:
    """The rows' `classes` for a target: its name, and the labels kept by --classes in brackets.

    >>> describe("arousal", None), describe("arousal", ["sad", "angry"])
    ('arousal', 'arousal [angry,sad]')
    """
    return f"{name} [{','.join(sorted(classes))}]" if classes else name
