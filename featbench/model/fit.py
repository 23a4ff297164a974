"""`featbench fit`: one view and one classifier entry, trained on a store exactly as a grid task trains it.

The store is read by the grid's own `prepare_grid` (same classes, merges, utterances and matrices as
`featbench train`), the training subset is `budget_subset` of a fold, and `grid._fit_pooled` chooses the
layer, classifier and hyper-parameters on validation speakers (`validation_split`) and refits on the whole
subset. Without a holdout fold every utterance of the store is in the training part; with
``holdout_fold=K`` the training part is that of fold K of the folds `featbench train --folds N` makes, so
the model scores fold K's test speakers as the benchmark row of (fold K, seed, budget) did.

>>> FitSpec(Path("store"), "egemaps-func", "selected").budget
'all'
>>> NO_HOLDOUT.test_groups
()
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from featbench.errors import FeatbenchError
from featbench.model.folder import FORMAT, FORMAT_VERSION, Model, view_dict
from featbench.train.protocol import ALL, Fold, budget_subset, check_budgets, check_seeds, validation_split
from featbench.train.views import WEIGHTED

NO_HOLDOUT = Fold(0, (), "no-holdout")  # every utterance trains; the index only seeds the order of budget subsets


@dataclass
class FitSpec:
    """What to fit: a store, one view (`features`), one classifier entry, the label selection, and the training
    subset (`budget` per class, `seed`; `holdout_fold` of `n_folds` folds, or None for the whole store)."""

    store: Path
    features: str
    classifier: str
    classes: list[str] | None = None
    merge: dict = field(default_factory=dict)
    seed: int = 0
    budget: int | float | str = ALL
    holdout_fold: int | None = None
    n_folds: int | None = None
    corpus: str = ""
    normalisation: str = "training"  # or per-speaker[:K]: predict then standardises each speaker on their own clips
    allow_confounded_speakers: bool = False  # per-speaker normalisation even where speakers hold mostly one class


@dataclass
class FitResult:
    """The fitted model and, with a holdout fold, its UA on that fold's test speakers (from the store's features)."""

    model: Model
    holdout_ua: float | None = None

    def summary(self, folder: str | Path) -> str:
        m = self.model.manifest
        choice, training, holdout = m["choice"], m["training"], m["training"]["holdout"]
        chose = f"{choice['classifier']} {json.dumps(choice['hparams'], sort_keys=True)}"
        if choice["layer"] is not None:
            chose += f", layer {choice['layer']}"
        if choice["layer_weights"]:
            chose += ", layer weights " + " ".join(f"{w:.3f}" for w in choice["layer_weights"])
        lines = [f"{folder}: {choice['entry']} on {m['view']['name']}: {chose} ({choice['selection']})",
                 f"trained on {training['utterances']} utterances of {training['speakers']} speakers (budget "
                 f"{training['budget']}, seed {training['seed']}); classes: {', '.join(m['labels'])}"]
        if training.get("normalisation", "training") != "training":
            lines.append(f"normalisation: {training['normalisation']} (predict standardises each speaker on the clips "
                         "it is given of them: give it several clips per speaker, with --layout or --speaker)"
                         + ("; run with --confounded-ok: most speakers' clips are dominated by one class"
                            if training.get("speakers_confounded_ok") else ""))
        if holdout is not None:
            lines.append(f"held out: fold {holdout['fold']} of {holdout['n_folds']} ({' '.join(holdout['test_groups'])}): "
                         f"UA {holdout['ua']:.6f} on {holdout['test_utterances']} utterances")
        return "\n".join(lines)


def fit_model(spec: FitSpec) -> FitResult:
    """Fit `spec` (every configuration error raised before training); the model's manifest is filled in."""
    from featbench.train.grid import SEQUENCE_MODELS, _fit_pooled, task_settings
    from featbench.train.metrics import scores
    from featbench.train.runner import Experiment, prepare_grid
    from featbench.train.views import resolve_views

    if spec.classifier in SEQUENCE_MODELS:
        raise FeatbenchError(f"'{spec.classifier}' is a sequence model; fit saves the utterance-level classifiers only "
                             "(logreg, svm, lgbm, mlp, selected, selected(a+b))")
    from featbench.results import PER_CORPUS, Normalisation

    if Normalisation.parse(spec.normalisation).kind == PER_CORPUS:
        raise FeatbenchError("--normalise per-corpus needs two corpora; fit reads one store (training, per-speaker or "
                             "per-speaker:K)")
    if spec.n_folds is not None and spec.holdout_fold is None:
        raise FeatbenchError("--folds chooses the folds of --holdout-fold; give --holdout-fold too")
    budget = check_budgets([spec.budget])[0]
    seed = check_seeds([spec.seed])[0]
    if len(resolve_views(spec.store, [spec.features])) != 1:
        raise FeatbenchError(f"'{spec.features}' names several views; fit one (e.g. name@L4, name@auto, name@weighted)")
    holdout = spec.holdout_fold is not None
    exp = Experiment(Path(spec.store), [spec.features], [spec.classifier], [budget] if holdout else [ALL], [seed],
                     n_folds=spec.n_folds, classes=spec.classes, merge=dict(spec.merge), corpus=spec.corpus,
                     normalisation=spec.normalisation, allow_confounded_speakers=spec.allow_confounded_speakers)
    data, folds, dropped, entries = prepare_grid(exp)
    (view,), entry, table = data.views.values(), entries[0], data.table
    if holdout and not 0 <= spec.holdout_fold < len(folds):
        raise FeatbenchError(f"--holdout-fold {spec.holdout_fold}: the protocol has {len(folds)} folds, "
                             f"0 to {len(folds) - 1}")
    fold = folds[spec.holdout_fold] if holdout else NO_HOLDOUT
    train_ids = budget_subset(table, fold, budget, seed)
    fit_ids, val_ids = validation_split(table, train_ids, seed)
    train_rows, fit_rows, val_rows = ([data.index[u] for u in ids] for ids in (train_ids, fit_ids, val_ids))
    weighted = view.view.mode == WEIGHTED
    test = None
    with task_settings(weighted):
        classifier, X_used, choice, selection = _fit_pooled(entry, view, view.X, data.y, train_rows, fit_rows, val_rows, seed)
        model = Model(view.view, list(data.labels), classifier, choice.layer,
                      _weighting(view, data.y, train_rows, X_used) if weighted else None)
        result = FitResult(model)
        if holdout:  # scored as the grid scores the fold's test rows
            test_ids = table["id"][fold.test_mask(table)].tolist()
            test_rows = [data.index[u] for u in test_ids]
            pred, _ = model.predict(view.X[test_rows])
            result.holdout_ua = scores(data.y[test_rows], pred, len(data.labels))["ua"]
            test = {"fold": fold.index, "n_folds": len(folds), "fold_scheme": fold.scheme,
                    "test_groups": list(fold.test_groups),
                    "test_speakers": sorted(table["speaker"][fold.test_mask(table)].unique().tolist()),
                    "test_utterances": len(test_ids), "ua": result.holdout_ua}
    training = _training(spec, data, train_ids, fit_ids, val_ids, budget, seed, dropped, test)
    model.manifest = _manifest(spec, data, view, entry, choice, selection, training, classifier)
    return result


def _weighting(view, y: np.ndarray, train_rows: list[int], X_used: np.ndarray):
    """The LayerWeighting `_fit_pooled` used (it keeps only the weights): fitted again on the same rows, and
    checked to give the very matrix the classifier was trained on."""
    from featbench.train.layer_weights import LayerWeighting

    weighting = LayerWeighting(view.view.layers).fit(view.X[train_rows], y[train_rows])
    if not np.array_equal(weighting.transform(view.X), X_used):
        raise RuntimeError("the layer weighting fitted again differs from the one the classifier was trained with")
    return weighting


def _training(spec: FitSpec, data, train_ids, fit_ids, val_ids, budget, seed: int, dropped: int, test) -> dict:
    """The manifest's training protocol."""
    table = data.table.set_index("id")
    part = table.loc[train_ids]
    return {
        "store": str(Path(spec.store).resolve()), "corpus": data.protocol["corpus"], "classes": list(data.labels),
        "merge": dict(sorted(spec.merge.items())), "store_utterances": len(table), "left_out_without_features": dropped,
        "utterances": len(train_ids), "speakers": int(part["speaker"].nunique()), "groups": int(part["group"].nunique()),
        "training_groups": sorted(str(g) for g in part["group"].unique()),  # predict flags clips of these speakers
        "per_class": {str(k): int(v) for k, v in part["label"].value_counts().sort_index().items()},
        "budget": str(budget), "seed": seed, "normalisation": spec.normalisation,
        "speakers_confounded_ok": spec.allow_confounded_speakers,  # --confounded-ok: per-speaker statistics of one class
        "validation": {"fit_utterances": len(fit_ids), "validation_utterances": len(val_ids),
                       "validation_groups": sorted(table.loc[val_ids, "group"].unique().tolist()) if val_ids else []},
        "holdout": test,
    }


def _manifest(spec: FitSpec, data, view, entry: str, choice, selection: str, training: dict, classifier) -> dict:
    from importlib.metadata import version

    from featbench import __version__
    from featbench.model.features import family_specs

    families = family_specs(spec.store, view.view)
    if "+".join(f["config_hash"] for f in families) != view.config_hash:
        raise FeatbenchError(f"{spec.store}: the store changed while the model was fitted; fit again")
    libraries = {name: version(name) for name in ("scikit-learn", "numpy", "joblib", "lightgbm", "torch")}
    proba = ("predict_proba" if hasattr(classifier, "predict_proba") else
             "softmax of decision_function (this classifier has no probabilities; scores, not calibrated)")
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "featbench_version": __version__,
        "labels": list(data.labels), "view": view_dict(view.view), "families": families,
        "choice": {"entry": entry, "classifier": choice.classifier, "hparams": choice.hparams, "layer": choice.layer,
                   "layer_weights": [float(w) for w in choice.layer_weights],
                   "val_ua": None if choice.val_ua is None else float(choice.val_ua), "selection": selection},
        "training": training, "probabilities": proba, "libraries": libraries,
    }
