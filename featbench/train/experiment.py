"""What defines a training grid (`Experiment`), and the checks of it that need no store: its classifier entries
(`check_classifiers`) and its design, one corpus or two (`design_of`).

>>> Experiment(Path("store"), ["fbank"], ["logreg"], [8, "all"], [0]).n_folds is None
True
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from featbench.errors import FeatbenchError
from featbench.protocol.conditions import CLEAN
from featbench.protocol.pooling import Pooling
from featbench.results import PER_CORPUS, Normalisation
from featbench.store.tables import corpus_name
from featbench.train.conditions import ConditionPlan
from featbench.train.grid import FUSION, SEQUENCE, SEQUENCE_MODELS
from featbench.train.transfer import CROSS, SOURCE, TRANSFER, VALIDATE_ON, Design


@dataclass
class Experiment:
    """Everything that defines a grid. `budgets` holds ints (examples per class) or fractions, and/or
    'all' (None: `train.protocol.default_budgets`); `n_folds` None means `train.protocol.default_n_folds`.
    `target` names a numeric column of the corpus table to regress (train.target; budgets then count
    utterances, `classifiers` are regressors, the metric is CCC)."""

    store: Path
    families: list[str]
    classifiers: list[str]
    budgets: list | None
    seeds: list[int]
    n_folds: int | None = None
    classes: list[str] | None = None
    merge: dict = field(default_factory=dict)
    corpus: str = ""
    seq_epochs: int = 30
    test_store: Path | None = None  # train on `store`, test on this store's folds (cross-corpus)
    add_store: Path | None = None  # add every utterance of this store to `store`'s training budgets (transfer)
    other_corpus: str = ""  # the second store's name in rows (default: its folder's name)
    normalisation: Normalisation | str = Normalisation()  # on the training rows, per corpus or per speaker[:K clips]
    target: str | None = None  # a dimensional target: the corpus table's column to regress (None: the labels)
    per_corpus: bool = False  # featbench 0.5's spelling of normalisation="per-corpus", still taken
    allow_confounded_speakers: bool = False  # per-speaker normalisation even where speakers hold mostly one class
    validate_on: str | None = None  # two corpora: choices on train.transfer.SOURCE (None: the default) or TARGET
    train_condition: str = CLEAN  # the recording condition of the training and validation clips ('multi:C1,C2')
    test_conditions: list[str] | str | None = None  # those the test clips are scored under (None: train.conditions)
    pooling: Pooling | str = Pooling()  # how frames become one row per utterance (protocol.pooling: mean+std, mean)

    def __post_init__(self):
        self.normalisation = Normalisation.parse(self.normalisation)  # its text ('per-speaker:8') also taken
        self.pooling = Pooling.parse(self.pooling)  # its text ('mean') also taken
        if self.per_corpus:
            if self.normalisation.per_speaker:
                raise FeatbenchError(f"per_corpus=True and normalisation='{self.normalisation.text}' disagree; give one")
            self.normalisation = Normalisation(PER_CORPUS)
        self.conditions = ConditionPlan.of(self.train_condition, self.test_conditions)  # refused here, in one line


def check_classifiers(names: list[str], target: str = "") -> list[str]:
    """The classifier entries of a run (`selected` expanded, see train.selection), or a one-line error. With a
    dimensional `target` the entries are regressors."""
    from featbench.train.classifiers import CLASSIFIERS, REGRESSORS, registry
    from featbench.train.selection import SELECTED, candidates_of, expand_classifiers, is_selected

    models, kind = registry(bool(target)), "regressor" if target else "classifier"
    if not names:
        raise FeatbenchError("no classifiers given")
    for name in names:
        if name == FUSION:
            if target:
                raise FeatbenchError(f"the {FUSION} model classifies; it has no regression head for --target {target} "
                                     f"(use {', '.join(REGRESSORS)}, {SELECTED} or {SEQUENCE})")
            continue
        if is_selected(name):
            stray = [c for c in candidates_of(name, bool(target)) if c not in models]
            if stray or not candidates_of(name, bool(target))[0]:
                raise FeatbenchError(f"'{name}': choose among utterance-level {kind}s ({', '.join(models)}), "
                                     f"joined by '+', e.g. selected({'+'.join(list(models)[:2])})")
            if name != SELECTED and SELECTED in names:
                raise FeatbenchError(f"'{name}' and '{SELECTED}' both name a selected entry; keep one")
        elif target and name in CLASSIFIERS and name not in models:
            raise FeatbenchError(f"'{name}' is a classifier and cannot regress --target {target}; choose from: "
                                 f"{', '.join(models)}, {SELECTED}, {SEQUENCE}")
        elif name not in (SEQUENCE, SELECTED) and name not in models:
            raise FeatbenchError(f"unknown {kind} '{name}'; choose from: {', '.join(models)}, {SELECTED}, {SEQUENCE}"
                                 + ("" if target else f", {FUSION}"))
    if len(set(names)) < len(names):
        raise FeatbenchError(f"classifier '{next(n for n in names if names.count(n) > 1)}' is named twice")
    return expand_classifiers(names, bool(target))


def design_of(exp: Experiment) -> tuple[Path, Path | None, Design]:
    """(the target store: folds and test speakers, the other store or None, the Design)."""
    if exp.test_store is not None and exp.add_store is not None:
        raise FeatbenchError("--test-store and --add-store exclude each other: train on one corpus and test on another, "
                             "or add one corpus to another's training data")
    other = exp.test_store if exp.test_store is not None else exp.add_store
    if exp.validate_on is not None and exp.validate_on not in VALIDATE_ON:
        raise FeatbenchError(f"--validate-on {exp.validate_on}: choose {' or '.join(VALIDATE_ON)}")
    _check_conditions(exp, other)
    if other is None:
        if exp.normalisation.per_corpus and exp.conditions.clean:
            raise FeatbenchError("per-corpus normalisation needs a second corpus (--test-store or --add-store) or a "
                                 "recording condition (--train-condition, --test-condition: each standardised on its own)")
        if exp.validate_on is not None:
            raise FeatbenchError(f"--validate-on {exp.validate_on} needs a second corpus (--test-store or --add-store)")
        return Path(exp.store), None, Design(normalisation=exp.normalisation, pooling=exp.pooling)
    if Path(other).resolve() == Path(exp.store).resolve():
        raise FeatbenchError(f"{other}: the second store is the first one; give another corpus's store")
    name = exp.other_corpus or corpus_name(exp.store if exp.test_store is not None else other)
    if exp.target:
        raise FeatbenchError(f"--target {exp.target} trains and tests on one store; --test-store and --add-store "
                             "take categorical labels only (two corpora's rating scales need not agree)")
    if exp.test_store is not None:  # trained on exp.store, tested on the test store's folds
        return Path(exp.test_store), Path(exp.store), Design(CROSS, name, exp.normalisation, validate_on=exp.validate_on or SOURCE,
                                                                pooling=exp.pooling)
    return Path(exp.store), Path(exp.add_store), Design(TRANSFER, name, exp.normalisation, validate_on=exp.validate_on or SOURCE,
                                                                pooling=exp.pooling)


def _check_conditions(exp: Experiment, other) -> None:
    """One-line errors for recording conditions with what does not take them yet: a second store, per-speaker
    normalisation, the sequence models (they read clean frames)."""
    plan = exp.conditions
    if plan.clean:
        return
    said = f"--train-condition {plan.training.text} --test-condition {','.join(c.text for c in plan.tests)}"
    if other is not None:
        raise FeatbenchError(f"{said}: recording conditions take one store; drop --test-store/--add-store")
    if exp.normalisation.per_speaker:
        raise FeatbenchError(f"{said}: per-speaker normalisation is not run under recording conditions; use --normalise "
                             "training or per-corpus (each condition standardised on its own statistics)")
    stray = [c for c in exp.classifiers if c in SEQUENCE_MODELS]
    if stray:
        raise FeatbenchError(f"{said}: the {stray[0]} model reads clean frames only; use the utterance-level classifiers")
