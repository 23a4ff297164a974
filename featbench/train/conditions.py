"""Recording conditions in a grid (`train --train-condition C --test-condition C1,C2`): which conditions a run reads
(`ConditionPlan`), the store checked for each before any training (`check_store`), the babble leakage guard
(`check_leakage`: a condition mixed from other speakers' clips must have been drawn from this run's folds, and no
clip's talkers may be speakers on the other side of its fold), and a view read under a condition (`view_under`: its
families' stored names, featbench.protocol.conditions.stored_name).

A model is trained once per (view, classifier, fold, seed, budget) under the training condition (validation rows
too: layer, classifier and hyper-parameters are chosen there) and scores every test condition: the test rows of
each are the same clip ids, read from the stored name of each family under that condition.

>>> plan = ConditionPlan.of("multi:clean,white:20", None)
>>> plan.training.text, [c.text for c in plan.tests], [c.text for c in plan.conditions]
('multi:clean,white:20', ['clean'], ['clean', 'white:20'])
>>> ConditionPlan.of("white:10", "clean, white:10").clean
False
>>> view_under(View("w@L4", "w", 4), parse_condition("white:20")).family
'w~white_20'
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError
from featbench.protocol.conditions import (CLEAN, Condition, parse_condition, parse_conditions, split_stored_name,
                                           stored_name)
from featbench.protocol.multi import TrainingCondition, parse_training_condition, spelling, within
from featbench.train.views import View


@dataclass(frozen=True)
class ConditionPlan:
    """The training condition (one, or multi-condition) and the test conditions of a run."""

    training: TrainingCondition
    tests: tuple[Condition, ...]

    @classmethod
    def of(cls, training: str | TrainingCondition = CLEAN, tests: str | list | None = None) -> ConditionPlan:
        """From `--train-condition` and `--test-condition` (None: the training condition, or clean for multi)."""
        trained = parse_training_condition(training)
        if tests is None or (isinstance(tests, (list, tuple)) and not tests):
            chosen = (trained.default_test,)
        else:
            text = tests if isinstance(tests, str) else ",".join(t if isinstance(t, str) else t.text for t in tests)
            chosen = tuple(within(parse_conditions, spelling(text, "--test-condition"), "--test-condition"))
        return cls(trained, chosen)

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """Every condition whose features the run reads, each once: the training ones first."""
        found = {c.text: c for c in (*self.training.conditions, *self.tests)}
        return tuple(found.values())

    @property
    def clean(self) -> bool:
        """True for a run that trains and tests on clean clips only (as before conditions)."""
        return [c.text for c in self.conditions] == [CLEAN]

    @property
    def first(self) -> Condition:
        """The condition whose features name the rows' family_config_hash and cost (the training condition, or
        the first of a multi-condition one)."""
        return self.training.conditions[0]


def view_under(view: View, condition: Condition) -> View:
    """`view` reading its families' features under `condition` (the same name: rows name the view, not the store's
    file)."""
    if view.parts:
        return replace(view, parts=tuple(view_under(p, condition) for p in view.parts))
    return replace(view, family=stored_name(view.family, condition))


def check_store(store: Path, plan: ConditionPlan, families: list[str]) -> None:
    """One line, before any clip is read, for a condition the store holds no features under (or not for each of
    `families`), naming the store, the condition and what it holds."""
    from featbench.store import family_path, list_families
    from featbench.store.conditions import read_conditions

    if plan.clean:
        return
    records = {r.text: r for r in read_conditions(store).values()}
    present = set(list_families(store))
    for condition in plan.conditions:
        missing = [f for f in families if stored_name(f, condition) not in present
                   and not family_path(store, stored_name(f, condition)).is_file()]
        if condition.text != CLEAN and condition.text not in records:
            held = ", ".join([CLEAN] + sorted(records)) if records else CLEAN
            raise FeatbenchError(f"{store}: no features under condition '{condition.text}' (the store holds: {held}); "
                                 f"extract them with `featbench extract ... --conditions {condition.text}`")
        if missing:
            under = sorted(f for f in present if stored_name(split_stored_name(f)[0], condition) == f)
            raise FeatbenchError(f"{store}: no '{missing[0]}' features under condition '{condition.text}' (families "
                                 f"under it: {', '.join(under) or 'none'}); extract them with --conditions "
                                 f"{condition.text}")


def check_leakage(store: Path, plan: ConditionPlan, table: pd.DataFrame, folds: list) -> None:
    """The babble leakage guard, before any training. For each condition of the run the store recorded a fold
    scheme for (babble: talkers drawn from the folds' speakers): the run's folds must be those (the same test
    groups), and on the recorded talkers of each clip (`sources`), no test clip's babble may hold a speaker of its
    fold's training groups, and no training clip's a speaker of its fold's test groups."""
    from featbench.store import read_corpus
    from featbench.store.conditions import read_conditions

    if plan.clean:
        return
    records = {r.text: r for r in read_conditions(store).values()}
    ours = {frozenset(f.test_groups) for f in folds}
    group_of = None
    for condition in plan.conditions:
        record = records.get(condition.text)
        if record is None or not record.folds:
            continue
        theirs = {frozenset(f) for f in record.folds}
        if theirs != ours:
            raise FeatbenchError(f"{store}: condition '{condition.text}' drew its babble talkers from {len(theirs)} "
                                 f"folds of other test groups than this run's {len(ours)} (e.g. "
                                 f"{' '.join(sorted(next(iter(ours - theirs), ())))}); train with the folds it was "
                                 "extracted for (the same --folds and --classes), or extract it again")
        if group_of is None:
            corpus = read_corpus(store)
            group_of = dict(zip(corpus["id"].astype(str), corpus["group"].astype(str)))
        _check_talkers(store, condition.text, record.sources, table, folds, group_of)


def _check_talkers(store: Path, text: str, sources: dict, table: pd.DataFrame, folds: list, group_of: dict) -> None:
    groups = set(table["group"].astype(str))
    for fold in folds:
        test = np.asarray(fold.test_mask(table))
        test_groups = set(map(str, fold.test_groups))
        for uid, is_test in zip(table["id"].astype(str), test):
            other_side = (groups - test_groups) if is_test else test_groups
            for source in sources.get(uid, ()):
                group = group_of.get(source)
                if group is None:
                    raise FeatbenchError(f"{store}: condition '{text}' mixes clip '{source}' into '{uid}', a clip its "
                                         "corpus table does not hold; extract the condition again")
                if group in other_side:
                    side = "test" if is_test else "training"
                    raise FeatbenchError(f"{store}: condition '{text}' leaks speakers: {side} clip '{uid}' of fold "
                                         f"{fold.index} holds babble of '{source}', a speaker ({group}) its model "
                                         f"{'trains on' if is_test else 'is tested on'}; extract it again for these folds")


def mixed_matrix(matrices: dict, training: TrainingCondition, ids, seed: int) -> np.ndarray:
    """The training matrix of a seed: each row under the condition `training.pick` draws for its id (the matrix of
    a single training condition as it is).

    >>> from featbench.protocol.multi import MultiCondition
    >>> multi = parse_training_condition("multi:clean,white:20")
    >>> M = mixed_matrix({"clean": np.zeros((6, 1)), "white:20": np.ones((6, 1))}, multi, list("abcdef"), 0)
    >>> M.ravel().tolist() == multi.pick(list("abcdef"), 0).tolist()
    True
    """
    parts = [matrices[c.text] for c in training.conditions]
    if len(parts) == 1:
        return parts[0]
    pick = training.pick(list(ids), seed)
    out = np.array(parts[0], copy=True)
    for k, part in enumerate(parts[1:], start=1):
        out[pick == k] = part[pick == k]
    return out


__all__ = ["ConditionPlan", "check_leakage", "check_store", "mixed_matrix", "parse_condition", "view_under"]
