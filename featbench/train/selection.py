"""Choices made on validation speakers only: the layer of an `@auto` view, the classifier of a `selected`
entry and every hyper-parameter. Within each fold, seed and budget the training subset is split by
speaker into fit and validation parts (`protocol.validation_split`); every candidate is fitted on the
fit part and scored by UA on the validation part (CCC for a dimensional target, `train --target`); the
best (first on ties) is refitted on the whole training subset. The test speakers are never read: the
candidates see only training rows.

`--classifiers selected` chooses among the other utterance-level classifiers named in the same run, or
among all of them when none is named; its rows are written as `selected`, or `selected(logreg+svm)` when
the candidates are a subset (a name `--classifiers` also takes, to train only the selected entry). With a
dimensional target the candidates are the regressors (`classifiers.REGRESSORS`) instead.

>>> expand_classifiers(["logreg", "svm", "selected"])
['logreg', 'svm', 'selected(logreg+svm)']
>>> candidates_of("selected(logreg+svm)"), candidates_of("svm")
(('logreg', 'svm'), ('svm',))
>>> candidates_of("selected", regression=True), expand_classifiers(["ridge", "selected"], regression=True)
(('ridge', 'svr', 'lgbm', 'mlp'), ['ridge', 'selected(ridge)'])
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from featbench.errors import FeatbenchError
from featbench.results import SELECTED, is_selected  # noqa: F401 (re-exported: the names rows carry)


def candidates_of(entry: str, regression: bool = False) -> tuple[str, ...]:
    """The classifiers (regressors) an entry chooses among (just itself for a plain one)."""
    from featbench.train.classifiers import registry

    if entry == SELECTED:
        return tuple(registry(regression))
    if is_selected(entry):
        return tuple(entry[len(SELECTED) + 1:-1].split("+"))
    return (entry,)


def expand_classifiers(names: list[str], regression: bool = False) -> list[str]:
    """`--classifiers` -> the entries written in rows (`selected` names its candidate set when not all)."""
    from featbench.train.classifiers import registry

    models = registry(regression)
    if SELECTED not in names:
        return list(names)
    pooled = tuple(n for n in names if n in models)
    entry = SELECTED if not pooled or set(pooled) == set(models) else f"{SELECTED}({'+'.join(pooled)})"
    return [entry if n == SELECTED else n for n in names]


@dataclass
class Choice:
    """What an entry chose for one fold, seed and budget, and the chosen configuration's validation score (UA, or
    CCC for a dimensional target)."""

    classifier: str
    hparams: dict
    layer: int | None = None
    val_ua: float | None = None
    layer_weights: list[float] = field(default_factory=list)

    def recorded(self, entry: str) -> str:
        """The `choice` column: only what the entry chose beyond hyper-parameters (JSON)."""
        made = {}
        if is_selected(entry):
            made["classifier"] = self.classifier
        if self.layer is not None:
            made["layer"] = self.layer
        if len(self.layer_weights):
            made["layer_weights"] = [round(float(w), 4) for w in self.layer_weights]
        return json.dumps(made, sort_keys=True)


def choose(inputs: dict, classifiers: tuple[str, ...], y: np.ndarray, fit_rows: list[int], val_rows: list[int],
           seed: int, regression: bool = False) -> Choice:
    """The best (input, classifier, hyper-parameters) by UA (CCC when `regression`) on `val_rows`, each fitted on
    `fit_rows` only.

    `inputs` maps a layer (or None) to its utterance matrix; rows outside fit_rows and val_rows are never read.
    """
    from featbench.train.classifiers import build, registry
    from featbench.train.metrics import headline

    best: Choice | None = None
    for layer, X in inputs.items():
        X_fit, X_val = X[fit_rows], X[val_rows]
        for name in classifiers:
            for hp in registry(regression)[name].grid:
                model = build(name, hp, seed, regression).fit(X_fit, y[fit_rows])
                score = headline(y[val_rows], model.predict(X_val), regression)
                if best is None or score > best.val_ua:
                    best = Choice(name, hp, layer, score)
    if best is None:
        raise FeatbenchError("nothing to choose from")
    return best
