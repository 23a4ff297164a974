"""Utterance-level classifiers, comparable across families: standardised inputs, a small grid each.

Every classifier is a scikit-learn pipeline (StandardScaler fitted on training data only, then the
model), built from a hyper-parameter dict and a seed.

>>> sorted(CLASSIFIERS)
['lgbm', 'logreg', 'mlp', 'svm']
>>> build("logreg", {"C": 0.1}, seed=0).steps[-1][1].C
0.1
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from featbench.errors import FeatbenchError


@dataclass(frozen=True)
class ClassifierSpec:
    name: str
    description: str
    grid: tuple[dict, ...]
    default: dict
    make: Callable[[dict, int], object]


def _logreg(hp: dict, seed: int):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=hp["C"], max_iter=2000, class_weight="balanced", random_state=seed)


def _svm(hp: dict, seed: int):
    from sklearn.svm import LinearSVC

    return LinearSVC(C=hp["C"], class_weight="balanced", max_iter=5000, random_state=seed)


def _lgbm(hp: dict, seed: int):
    from lightgbm import LGBMClassifier

    return LGBMClassifier(n_estimators=hp["n_estimators"], learning_rate=0.1, num_leaves=hp["num_leaves"],
                          min_child_samples=5, subsample=0.8, subsample_freq=1, colsample_bytree=0.5,
                          class_weight="balanced", n_jobs=1, random_state=seed, verbose=-1)


def _mlp(hp: dict, seed: int):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=(128,), alpha=hp["alpha"], max_iter=300, learning_rate_init=1e-3,
                         random_state=seed)


CLASSIFIERS: dict[str, ClassifierSpec] = {
    spec.name: spec
    for spec in (
        ClassifierSpec("logreg", "logistic regression, class-balanced", ({"C": 0.01}, {"C": 0.1}, {"C": 1.0}), {"C": 0.1}, _logreg),
        ClassifierSpec("svm", "linear SVM, class-balanced", ({"C": 0.001}, {"C": 0.01}, {"C": 0.1}), {"C": 0.01}, _svm),
        ClassifierSpec("lgbm", "LightGBM gradient-boosted trees, class-balanced",
                       ({"num_leaves": 7, "n_estimators": 100}, {"num_leaves": 15, "n_estimators": 200}),
                       {"num_leaves": 7, "n_estimators": 100}, _lgbm),
        ClassifierSpec("mlp", "one-hidden-layer MLP (128 units)", ({"alpha": 1e-3}, {"alpha": 1e-1}), {"alpha": 1e-1}, _mlp),
    )
}


def build(name: str, hparams: dict, seed: int):
    """A fresh pipeline: StandardScaler then the named classifier."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name not in CLASSIFIERS:
        raise FeatbenchError(f"unknown classifier '{name}'; choose from: {', '.join(CLASSIFIERS)}, seq")
    return make_pipeline(StandardScaler(), CLASSIFIERS[name].make(hparams, seed))
