"""Two-corpus designs, a protocol kind that acts: where a task's training utterances come from (WITHIN one corpus,
CROSS: budgets from the other corpus, tested on the target's folds; TRANSFER: the target's budget plus every
utterance of the other) and where its choices are validated (SOURCE or TARGET). A design checks itself against its
two corpora (`check_labels`, `check_same_features`), joins them (`combine`: column `part`, TARGET or OTHER),
picks each fold's training and validation rows (`training_ids`, `validation_ids`) and names its validation
(`held_out`); `train.transfer` adds the rows' columns and display name (`Design.setup`, on results.Setup).

>>> a = pd.DataFrame({"id": ["u1", "u2"], "label": ["sad", "sad"], "speaker": ["s1", "s2"], "group": ["s1", "s2"]})
>>> table = combine(a, a, "demo")
>>> fold = Fold(0, ("s1",), "leave-one-group-out")
>>> Design(TRANSFER, "demo").training_ids(table, fold, ALL, seed=0)
(['u2', 'demo:u1', 'demo:u2'], ['u2'])
>>> Design(CROSS, "demo", validate_on=TARGET).held_out
"the target's speakers outside the test fold"
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError
from featbench.protocol.budgets import ALL, budget_subset, validation_split  # noqa: F401 (ALL: the doctests)
from featbench.protocol.folds import Fold
from featbench.protocol.normalisation import Normalisation
from featbench.protocol.pooling import Pooling

WITHIN, CROSS, TRANSFER = "within", "cross", "transfer"
DESIGNS = (WITHIN, CROSS, TRANSFER)
"""Where a row's training utterances come from (column `design`): one corpus; the other corpus only (tested on
this corpus's folds); this corpus's budget plus every utterance of the other (see Design)."""

SOURCE, TARGET = "source", "target"
VALIDATIONS = (SOURCE, TARGET)
"""Where a row's choices were validated (column `validation`): held-out speakers of the training side, or (two
corpora, `train --validate-on target`) the target corpus's speakers outside the test fold."""

OTHER = "other"  # the `part` column of a two-corpus table: TARGET or OTHER
VALIDATE_ON = VALIDATIONS  # where a two-corpus run validates its choices (`train --validate-on`)


@dataclass(frozen=True)
class Design:
    """Where a task's training utterances come from: WITHIN one corpus, CROSS (budgets from the other corpus),
    or TRANSFER (the target's budget plus all of the other); and how features are normalised
    (protocol.normalisation: on the training rows by each classifier, per corpus, or per speaker); and where
    choices are validated (VALIDATE_ON, with two corpora); and how frames are pooled (protocol.pooling)."""

    mode: str = WITHIN
    other: str = ""
    normalisation: Normalisation = Normalisation()
    confounded: bool = False  # per-speaker statistics of speakers dominated by one class, run anyway (corpus.balance)
    validate_on: str = SOURCE
    pooling: Pooling = Pooling()

    @property
    def held_out(self) -> str:
        """Whom the choices are validated on, in the words of the rows' hp_selection."""
        if self.validate_on == SOURCE:
            return "held-out speakers"
        return "the target's speakers outside the test fold" if self.mode == CROSS else \
            "held-out speakers of the target, outside the test fold"

    def validation_ids(self, table: pd.DataFrame, fold: Fold, train_ids: list[str], seed: int) -> tuple[list[str], list[str]]:
        """(fit ids, validation ids) of the choices for one fold, budget and seed (see the module's docstring); the
        fold's test speakers are never among them. ([], []) when no validation speaker is left."""
        if self.validate_on == SOURCE or self.mode == WITHIN:
            return validation_split(table, train_ids, seed)
        target = table[table["part"] == TARGET]
        if self.mode == CROSS:
            return list(train_ids), target.loc[~np.asarray(fold.test_mask(target)), "id"].tolist()
        own = set(target["id"])
        _, val = validation_split(table, [u for u in train_ids if u in own], seed)
        held = set(val)
        return ([u for u in train_ids if u not in held], val) if val else ([], [])

    def training_ids(self, table: pd.DataFrame, fold: Fold, budget, seed: int) -> tuple[list[str], list[str]]:
        """(every training id, the budgeted ones that examples_per_class counts) for one fold, budget and seed."""
        if self.mode == WITHIN:
            ids = budget_subset(table, fold, budget, seed)
            return ids, ids
        target, other = (table[table["part"] == p] for p in (TARGET, OTHER))
        if self.mode == CROSS:
            ids = budget_subset(other, Fold(fold.index, (), fold.scheme), budget, seed)
            return ids, ids
        counted = budget_subset(target, fold, budget, seed)
        return counted + other["id"].tolist(), counted

    def budget_table(self, table: pd.DataFrame) -> pd.DataFrame:
        """The utterances budgets are drawn from."""
        return table[table["part"] == OTHER] if self.mode == CROSS else table[table["part"] == TARGET] if self.mode != WITHIN else table


def combine(target: pd.DataFrame, other: pd.DataFrame, other_name: str) -> pd.DataFrame:
    """One table of both corpora: the target's rows as they are, then the other's with ids, speakers and groups
    prefixed by its name (so that no fold ever tests them, and ids cannot collide); column `part`.

    >>> a = pd.DataFrame({"id": ["u1"], "label": ["sad"], "speaker": ["s1"], "group": ["s1"]})
    >>> combine(a, a, "demo")[["id", "group", "part"]].values.tolist()
    [['u1', 's1', 'target'], ['demo:u1', 'demo:s1', 'other']]
    """
    other = other.copy()
    for column in ("id", "speaker", "group"):
        if column in other:
            other[column] = f"{other_name}:" + other[column].astype(str)
    table = pd.concat([target.assign(part=TARGET), other.assign(part=OTHER)], ignore_index=True)
    repeated = table["id"][table["id"].duplicated()]
    if len(repeated):
        raise FeatbenchError(f"utterance id '{repeated.iloc[0]}' names a clip of both corpora; rename the other "
                             "store's folder (its name prefixes its ids)")
    return table


def check_labels(target: pd.DataFrame, other: pd.DataFrame, names: tuple[str, str]) -> None:
    """The two corpora must share one label set: a label of one without a counterpart in the other is one line."""
    have = [set(target["label"]), set(other["label"])]
    for k in (0, 1):
        stray = sorted(have[k] - have[1 - k])
        if stray:
            raise FeatbenchError(f"label '{stray[0]}' of {names[k]} has no counterpart in {names[1 - k]} (its labels: "
                                 f"{', '.join(sorted(have[1 - k]))}); map it with --merge {stray[0]}=<label> or leave it "
                                 "out with --classes")


def check_same_features(family: str, metas: tuple, names: tuple[str, str]) -> None:
    """Both stores hold `family` made the same way (same config hash: options, model fingerprint, audio, versions)."""
    if metas[0].config_hash != metas[1].config_hash:
        raise FeatbenchError(f"'{family}' was extracted differently in {names[0]} (config {metas[0].config_hash}) and "
                             f"{names[1]} (config {metas[1].config_hash}); extract both with the same options and versions")
