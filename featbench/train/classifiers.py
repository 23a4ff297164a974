"""Utterance-level classifiers and regressors, comparable across families: standardised inputs, a small grid each.

Every model is a scikit-learn pipeline (StandardScaler fitted on training data only, then the model),
built from a hyper-parameter dict and a seed. The regressors (for a dimensional target, `train --target`)
also learn on a standardised target (its training mean and std), so one grid fits any rating scale.
`lgbm` and `mlp` name a classifier or a regressor, as the run's target asks; logreg and svm only classify,
ridge and svr only regress.

>>> sorted(CLASSIFIERS), sorted(REGRESSORS)
(['lgbm', 'logreg', 'mlp', 'svm'], ['lgbm', 'mlp', 'ridge', 'svr'])
>>> build("logreg", {"C": 0.1}, seed=0).steps[-1][1].C
0.1
>>> build("ridge", {"alpha": 10.0}, seed=0, regression=True).steps[-1][1].regressor.alpha
10.0
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable

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


def _lgbm_settings(hp: dict, seed: int) -> dict:
    """LightGBM's settings, shared by the classifier and the regressor."""
    return dict(n_estimators=hp["n_estimators"], learning_rate=0.1, num_leaves=hp["num_leaves"], min_child_samples=5,
                subsample=0.8, subsample_freq=1, colsample_bytree=0.5, n_jobs=1, random_state=seed, verbose=-1)


def _mlp_settings(hp: dict, seed: int) -> dict:
    """The MLP's settings, shared by the classifier and the regressor."""
    return dict(hidden_layer_sizes=(128,), alpha=hp["alpha"], max_iter=300, learning_rate_init=1e-3, random_state=seed)


def _lgbm(hp: dict, seed: int):
    from lightgbm import LGBMClassifier

    return LGBMClassifier(class_weight="balanced", **_lgbm_settings(hp, seed))


def _mlp(hp: dict, seed: int):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(**_mlp_settings(hp, seed))


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


def _ridge(hp: dict, seed: int):
    from sklearn.linear_model import Ridge

    return Ridge(alpha=hp["alpha"])


def _svr(hp: dict, seed: int):
    from sklearn.svm import LinearSVR

    return LinearSVR(C=hp["C"], epsilon=0.0, max_iter=5000, random_state=seed)


def _lgbm_regressor(hp: dict, seed: int):
    from lightgbm import LGBMRegressor

    return LGBMRegressor(**_lgbm_settings(hp, seed))


def _mlp_regressor(hp: dict, seed: int):
    from sklearn.neural_network import MLPRegressor

    return MLPRegressor(**_mlp_settings(hp, seed))


REGRESSORS: dict[str, ClassifierSpec] = {
    spec.name: spec
    for spec in (
        ClassifierSpec("ridge", "ridge regression", ({"alpha": 1.0}, {"alpha": 10.0}, {"alpha": 100.0}, {"alpha": 1000.0}),
                       {"alpha": 10.0}, _ridge),
        ClassifierSpec("svr", "linear support vector regression", ({"C": 0.001}, {"C": 0.01}, {"C": 0.1}), {"C": 0.01}, _svr),
        ClassifierSpec("lgbm", "LightGBM gradient-boosted trees, regression",
                       ({"num_leaves": 7, "n_estimators": 100}, {"num_leaves": 15, "n_estimators": 200}),
                       {"num_leaves": 7, "n_estimators": 100}, _lgbm_regressor),
        ClassifierSpec("mlp", "one-hidden-layer MLP (128 units), regression", ({"alpha": 1e-3}, {"alpha": 1e-1}),
                       {"alpha": 1e-1}, _mlp_regressor),
    )
}


DEFAULT_CLASSIFIERS = "logreg,svm,lgbm,mlp"
DEFAULT_REGRESSORS = "ridge,svr,lgbm,mlp"
"""`train --classifiers` when not given: every utterance-level classifier, or every regressor with --target."""


def registry(regression: bool = False) -> dict[str, ClassifierSpec]:
    """The utterance-level models of a run: REGRESSORS for a dimensional target, else CLASSIFIERS."""
    return REGRESSORS if regression else CLASSIFIERS


def build(name: str, hparams: dict, seed: int, regression: bool = False):
    """A fresh pipeline: StandardScaler then the named classifier (or regressor, on a standardised target)."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    models = registry(regression)
    if name not in models:
        raise FeatbenchError(f"unknown {'regressor' if regression else 'classifier'} '{name}'; choose from: "
                             f"{', '.join(models)}, seq")
    model = models[name].make(hparams, seed)
    if regression:
        model = TransformedTargetRegressor(regressor=model, transformer=StandardScaler())
    return make_pipeline(StandardScaler(), model)
