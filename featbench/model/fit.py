"""`featbench fit`: one view and one classifier entry, trained on a store exactly as a grid task trains it.

A `FitSpec` is an `Experiment` (`featbench train`'s grid) of one view, one classifier entry, one seed and
one budget, plus the fold to hold out. The store is read by the grid's own `prepare_grid` (same classes,
merges, utterances, matrices and normalisation), and the grid's own fit task (`train.fit_task.fit_task`) picks
the fold's training subset and validation speakers through the run's design, chooses the layer, classifier and
hyper-parameters on them and refits on the whole subset, once: the `FittedEntry` is what the model saves.
Without a holdout fold every utterance of the store is in the training part; with ``holdout_fold=K`` the
training part is that of fold K of the folds `featbench train --folds N` makes, so the model scores fold K's
test speakers as the benchmark row of (fold K, seed, budget) did.

>>> spec = FitSpec.of("store", "egemaps-func", "selected", merge={"calm": "neutral"})
>>> spec.experiment.families, spec.experiment.budgets, spec.experiment.merge, spec.holdout_fold
(['egemaps-func'], ['all'], {'calm': 'neutral'}, None)
>>> NO_HOLDOUT.test_groups
()
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from featbench.errors import FeatbenchError
from featbench.model.folder import FORMAT, FORMAT_VERSION, Model, view_dict
from featbench.protocol.conditions import CLEAN
from featbench.protocol.normalisation import Normalisation
from featbench.train.protocol import ALL, Fold, check_budgets, check_seeds
from featbench.train.runner import Experiment

NO_HOLDOUT = Fold(0, (), "no-holdout")  # every utterance trains; the index only seeds the order of budget subsets


@dataclass
class FitSpec:
    """What to fit: `experiment` names the store, one view (`families`), one classifier entry, one seed and one
    budget, and the label selection, folds and normalisation as for `featbench train`; `holdout_fold`: train on
    that fold's training part (of the experiment's folds), or None for the whole store."""

    experiment: Experiment
    holdout_fold: int | None = None

    @classmethod
    def of(cls, store: str | Path, features: str, classifier: str, seed: int = 0, budget: int | float | str = ALL,
           holdout_fold: int | None = None, **settings) -> FitSpec:
        """The spec of one view and classifier entry; `settings` are the Experiment's other fields (classes, merge,
        n_folds, corpus, normalisation, allow_confounded_speakers)."""
        return cls(Experiment(Path(store), [features], [classifier], [budget], [seed], **settings), holdout_fold)


@dataclass
class FitResult:
    """The fitted model and, with a holdout fold, its UA on that fold's test speakers (from the store's features)."""

    model: Model
    holdout_ua: float | None = None

    def summary(self, folder: str | Path) -> str:
        """What was fitted, on what, and its held-out UA, read from the saved model's typed manifest
        (`Model.record`: the parser `load_model` reads manifest.json with)."""
        m = self.model.record
        choice, training, holdout = m.choice, m.training, m.training.holdout
        chose = f"{choice.classifier} {json.dumps(choice.hparams, sort_keys=True)}"
        if choice.layer is not None:
            chose += f", layer {choice.layer}"
        if choice.layer_weights:
            chose += ", layer weights " + " ".join(f"{w:.3f}" for w in choice.layer_weights)
        lines = [f"{folder}: {choice.entry} on {m.view.name}: {chose} ({choice.selection})",
                 f"trained on {training.utterances} utterances of {training.speakers} speakers (budget "
                 f"{training.budget}, seed {training.seed}); classes: {', '.join(m.labels)}"]
        if not Normalisation.parse(training.normalisation).on_training_rows:
            lines.append(f"normalisation: {training.normalisation} (predict standardises each speaker on the clips "
                         "it is given of them: give it several clips per speaker, with --layout or --speaker)"
                         + ("; run with --confounded-ok: most speakers' clips are dominated by one class"
                            if training.speakers_confounded_ok else ""))
        if training.condition != CLEAN:
            lines.append(f"recording condition: {training.condition} (the training and validation clips were heard "
                         "under it)")
        if holdout is not None:
            under = "" if holdout.condition == CLEAN else f" under {holdout.condition}"
            lines.append(f"held out: fold {holdout.fold} of {holdout.n_folds} ({' '.join(holdout.test_groups)}): "
                         f"UA {holdout.ua:.1%} on {holdout.test_utterances} utterances{under}")
        return "\n".join(lines)


def fit_model(spec: FitSpec) -> FitResult:
    """Fit `spec` (every configuration error raised before training); the model's manifest is filled in."""
    from featbench.train.fit_task import fit_task
    from featbench.train.grid import task_settings
    from featbench.train.runner import prepare_grid
    from featbench.train.views import WEIGHTED

    exp, holdout = spec.experiment, spec.holdout_fold is not None
    budget, seed = _check_spec(spec)
    # a budget is checked against every fold's training part only where a fold is held out
    data, folds, dropped, (entry,) = prepare_grid(replace(exp, budgets=[budget] if holdout else [ALL], seeds=[seed]))
    (view,) = data.views.values()
    if holdout and not 0 <= spec.holdout_fold < len(folds):
        raise FeatbenchError(f"--holdout-fold {spec.holdout_fold}: the protocol has {len(folds)} folds, "
                             f"0 to {len(folds) - 1}")
    fold = folds[spec.holdout_fold] if holdout else NO_HOLDOUT
    with task_settings(view.view.mode == WEIGHTED):
        task = fit_task(data, view, entry, fold, budget, seed)  # the rows and the fit of the grid's task
        result = FitResult(Model(task.fitted, list(data.labels)))
        test = _score_holdout(result, data, view, fold, len(folds)) if holdout else None
    training = _training(exp, data, task.rows, budget, seed, dropped, test)
    result.model.manifest = _manifest(exp, data, view, entry, task.fitted, training)
    return result


def _check_spec(spec: FitSpec) -> tuple:
    """(budget, seed) of a spec naming one view, one utterance-level entry, one seed and one budget on one store;
    else a one-line error."""
    from featbench.train.grid import SEQUENCE_MODELS
    from featbench.train.views import ENSEMBLE, resolve_views

    exp = spec.experiment
    sizes = {"view": exp.families, "classifier entry": exp.classifiers, "seed": exp.seeds, "budget": exp.budgets}
    for what, values in sizes.items():
        if values is None or len(values) != 1:
            raise FeatbenchError(f"fit trains one model: give one {what}, not {values}")
    if exp.test_store is not None or exp.add_store is not None or exp.target:
        raise FeatbenchError("fit reads one store and its class labels (no second store, no --target)")
    (classifier,) = exp.classifiers
    if classifier in SEQUENCE_MODELS:
        raise FeatbenchError(f"'{classifier}' is a sequence model; fit saves the utterance-level classifiers only "
                             "(logreg, svm, lgbm, mlp, selected, selected(a+b))")
    if exp.normalisation.per_corpus:
        raise FeatbenchError("--normalise per-corpus needs two corpora; fit reads one store (training, per-speaker or "
                             "per-speaker:K)")
    if exp.n_folds is not None and spec.holdout_fold is None:
        raise FeatbenchError("--folds chooses the folds of --holdout-fold; give --holdout-fold too")
    budget, seed = check_budgets(list(exp.budgets))[0], check_seeds(list(exp.seeds))[0]
    views = resolve_views(exp.store, exp.families)
    if len(views) != 1:
        raise FeatbenchError(f"'{exp.families[0]}' names several views; fit one (e.g. name@L4, name@auto, name@weighted)")
    if views[0].mode == ENSEMBLE:
        raise FeatbenchError(f"'{views[0].name}': fit saves one entry's model, not an ensemble (train scores ensembles); "
                             "fit a member, e.g. name@L4")
    return budget, seed


def _score_holdout(result: FitResult, data, view, fold: Fold, n_folds: int) -> dict:
    """The held-out fold's test rows scored as the grid scores them; the manifest's `holdout` record."""
    from featbench.train.metrics import scores

    table = data.table
    test_ids = table["id"][fold.test_mask(table)].tolist()
    test_rows = [data.index[u] for u in test_ids]
    tested = data.conditions.tests[0]  # the training condition (clean for multi-condition training)
    pred, _ = result.model.predict(view.matrices[tested.text][test_rows])
    result.holdout_ua = scores(data.y[test_rows], pred, len(data.labels))["ua"]
    return {"fold": fold.index, "n_folds": n_folds, "fold_scheme": fold.scheme, "test_groups": list(fold.test_groups),
            "test_speakers": sorted(table["speaker"][fold.test_mask(table)].unique().tolist()),
            "test_utterances": len(test_ids), "ua": result.holdout_ua, "condition": tested.text}


def _training(exp: Experiment, data, rows, budget, seed: int, dropped: int, test) -> dict:
    """The manifest's training protocol (`rows`: the fit task's train.fit_task.TaskRows)."""
    train_ids, fit_ids, val_ids = rows.train_ids, rows.fit_ids, rows.val_ids
    table = data.table.set_index("id")
    part = table.loc[train_ids]
    return {
        "store": str(Path(exp.store).resolve()), "corpus": data.protocol["corpus"], "classes": list(data.labels),
        "merge": dict(sorted(exp.merge.items())), "store_utterances": len(table), "left_out_without_features": dropped,
        "utterances": len(train_ids), "speakers": int(part["speaker"].nunique()), "groups": int(part["group"].nunique()),
        "training_groups": sorted(str(g) for g in part["group"].unique()),  # predict flags clips of these speakers
        "per_class": {str(k): int(v) for k, v in part["label"].value_counts().sort_index().items()},
        "budget": str(budget), "seed": seed, "normalisation": exp.normalisation.text,
        "condition": data.conditions.training.text,  # the recording condition it was trained under (clean: as before)
        "speakers_confounded_ok": exp.allow_confounded_speakers,  # --confounded-ok: per-speaker statistics of one class
        "validation": {"fit_utterances": len(fit_ids), "validation_utterances": len(val_ids),
                       "validation_groups": sorted(table.loc[val_ids, "group"].unique().tolist()) if val_ids else []},
        "holdout": test,
    }


def _manifest(exp: Experiment, data, view, entry: str, fitted, training: dict) -> dict:
    from importlib.metadata import version

    import featbench
    from featbench.model.features import family_specs
    from featbench.store import family_path

    from featbench.train.conditions import view_under

    plan = data.conditions
    if not plan.clean and not all(family_path(exp.store, leaf.family).is_file() for leaf in view.view.leaves):
        raise FeatbenchError(f"{exp.store}: fit --train-condition {plan.training.text} records how predict extracts "
                             f"'{view.view.name}' from its clean features' settings; extract them (clean) too")
    read = family_specs(exp.store, view_under(view.view, plan.first))
    if "+".join(f["config_hash"] for f in read) != view.config_hash:
        raise FeatbenchError(f"{exp.store}: the store changed while the model was fitted; fit again")
    families = read if plan.clean else family_specs(exp.store, view.view)  # predict extracts the clean families
    libraries = {name: version(name) for name in ("scikit-learn", "numpy", "joblib", "lightgbm", "torch")}
    proba = ("predict_proba" if hasattr(fitted.classifier, "predict_proba") else
             "softmax of decision_function (this classifier has no probabilities; scores, not calibrated)")
    choice = fitted.choice
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "featbench_version": featbench.__version__,
        "labels": list(data.labels), "view": view_dict(view.view), "families": families,
        "choice": {"entry": entry, "classifier": choice.classifier, "hparams": choice.hparams, "layer": choice.layer,
                   "layer_weights": [float(w) for w in choice.layer_weights],
                   "val_ua": None if choice.val_ua is None else float(choice.val_ua), "selection": fitted.selection},
        "training": training, "probabilities": proba, "libraries": libraries,
    }
