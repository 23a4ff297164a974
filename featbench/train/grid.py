"""One grid task: a view x classifier x fold x seed, trained and tested at each of its budgets.

`GridData` is everything the tasks share (sent once to each worker process); `TaskContext` adds what a
worker builds lazily (sequences read from the store) and the device its torch models use (worker i of n GPUs:
cuda:(i mod n), `featbench.device.Device.for_worker`), and lives only as long as the run.

>>> GridTask(Setup("fbank"), "logreg", Fold(0, ("s1",), "leave-one-group-out"), 0, (8, "all")).budgets
(8, 'all')
"""
from __future__ import annotations

import contextlib
import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from featbench.device import CPU, Device
from featbench.results import Setup
from featbench.worker_process import worker_index
from featbench.row_kinds import RowKind
from featbench.train.attentive import pooled_inputs
from featbench.train.fit_task import fit_task, task_rows
from featbench.train.protocol import Fold
from featbench.train.transfer import Design
from featbench.train.views import WEIGHTED, View

SEQUENCE = "seq"
FUSION = "fusion"
SEQUENCE_MODELS = (SEQUENCE, FUSION)


@dataclass(frozen=True)
class GridTask:
    """Train `classifier` on `view` (the typed setup that keys GridData.views) for one fold and seed, at every
    budget in `budgets`, once, and score every test condition of `tests` (their canonical texts) with each fitted
    model."""

    view: Setup
    classifier: str
    fold: Fold
    seed: int
    budgets: tuple
    tests: tuple = ("clean",)


@dataclass
class ViewData:
    """What a view contributes: its config hash and row kind, the utterance matrix (when an utterance-level
    classifier needs it), and where its sequences are (read lazily by sequence tasks)."""

    view: View
    config_hash: str
    rows: str
    X: np.ndarray | None = None
    setup: Setup | None = None  # what its rows say of their training data (each row carries its columns)
    cost: dict = field(default_factory=dict)  # results.COST_COLUMNS of its features (store.timings.feature_costs)
    options: dict = field(default_factory=dict)  # each stored family's options (results.DETAIL_COLUMNS' family_options)
    matrices: dict = field(default_factory=dict)  # {condition text: utterance matrix under it} (train.conditions)
    X_files: dict = field(default_factory=dict)  # {condition text: .npy file} for worker processes
    frames: object = None  # --pooling attentive: train.attentive.FrameRows, pooled per task (no matrices then)


@dataclass
class GridData:
    """Shared by every task of a run."""

    store: Path
    table: pd.DataFrame
    labels: list[str]
    views: dict[Setup, ViewData]  # keyed by each view's typed setup (results.Setup), never by its display name
    protocol: dict
    budgets: tuple = ()
    seeds: tuple = ()
    seq_epochs: int = 30
    design: Design = field(default_factory=Design)  # one corpus, or two (train.transfer)
    target: str = ""  # a dimensional target's column (train.target): y holds its values, `labels` its bins
    notes: tuple = ()  # what reading the store left out, for the run's summary
    device: Device = CPU  # where torch models fit (sequence, fusion, layer weights); resolved per worker
    conditions: object = None  # train.conditions.ConditionPlan: the training condition, the test conditions
    y: np.ndarray = field(init=False)
    index: dict = field(init=False)

    def __post_init__(self):
        from featbench.train.conditions import ConditionPlan
        from featbench.train.target import VALUE

        if self.conditions is None:
            self.conditions = ConditionPlan.of()
        if self.target:
            self.y = self.table[VALUE].to_numpy(np.float64)
        else:
            self.y = self.table["label"].map({label: i for i, label in enumerate(self.labels)}).to_numpy()
        self.index = {u: i for i, u in enumerate(self.table["id"])}


@dataclass
class TaskContext:
    """A run's state inside one process: the shared data and the sequences of the last view used."""

    data: GridData
    sequences: dict = field(default_factory=dict)
    device: Device = CPU  # this worker's device (`data.device` for its worker number)
    attentive: dict = field(default_factory=dict)  # the last attentive pooling's rows (train.attentive.pooled_inputs)

    def sequences_of(self, name: Setup) -> list:
        """Per utterance: its frames (a single view) or a tuple of each part's frames (a combined view)."""
        if name not in self.sequences:
            self.sequences.clear()  # tasks come grouped by view: one view's frames in memory at a time
            parts = [self._read(leaf) for leaf in self.data.views[name].view.leaves]
            self.sequences[name] = parts[0] if len(parts) == 1 else list(zip(*parts))
        return self.sequences[name]

    def _read(self, leaf: View) -> list[np.ndarray]:
        from featbench.store import read_family

        fs = read_family(self.data.store, leaf.family)
        return [np.ascontiguousarray(leaf.of(fs.meta, fs.get(u))) for u in self.data.table["id"]]


def share_matrices(data: GridData, folder: str | Path) -> GridData:
    """A copy of `data` whose utterance matrices are .npy files in `folder`, for worker processes: each
    worker memory-maps them (read-only) instead of receiving its own pickled copy."""
    from dataclasses import replace

    views = {}
    for name, view in data.views.items():
        if view.frames is not None:  # --pooling attentive: the frames, memory-mapped by each worker
            view = replace(view, frames=view.frames.saved(Path(folder) / f"F{len(views):04d}.npy"))
        if not view.matrices:
            views[name] = view
            continue
        files = {}
        for text, X in view.matrices.items():
            files[text] = str(Path(folder) / f"X{len(views):04d}-{len(files):03d}.npy")
            np.save(files[text], X)
        views[name] = replace(view, X=None, matrices={}, X_files=files)
    return replace(data, views=views)


def make_context(data: GridData) -> TaskContext:
    """A process's context; utterance matrices shared as files are memory-mapped here."""
    from dataclasses import replace

    views = {}
    for name, view in data.views.items():
        if view.X_files:
            matrices = {text: np.load(path, mmap_mode="r") for text, path in view.X_files.items()}
            view = replace(view, matrices=matrices, X=matrices.get(data.conditions.training.text))
        if view.frames is not None:
            view = replace(view, frames=view.frames.opened())
        views[name] = view
    return TaskContext(replace(data, views=views), device=data.device.for_worker(worker_index()).activate())


def _fit_sequence(classifier: str, seqs, y, train_rows, fit_rows, val_rows, data: GridData, view: ViewData, seed: int,
                  device: Device = CPU):
    from featbench.train.fusion import FusionClassifier
    from featbench.train.selection import Choice
    from featbench.train.sequence import SequenceClassifier

    if classifier == FUSION:
        model = FusionClassifier(n_classes=len(data.labels), seed=seed, max_epochs=data.seq_epochs, device=device)
    else:
        model = SequenceClassifier(n_classes=len(data.labels), raw=view.rows == RowKind.WAVEFORM.value, seed=seed,
                                   max_epochs=data.seq_epochs, layers=view.view.layers if view.view.mode == WEIGHTED else 1,
                                   regression=bool(data.target), device=device)
    if val_rows and len(set(y[fit_rows])) >= 2:
        model.fit([seqs[i] for i in fit_rows], y[fit_rows], [seqs[i] for i in val_rows], y[val_rows])
        selection = f"early stopping on held-out speakers ({len(fit_rows)} fit / {len(val_rows)} val)"
        val_ua = model.val_ua_
    else:
        model.fit([seqs[i] for i in train_rows], y[train_rows])
        selection, val_ua = "fixed epochs (too few speakers for validation)", None
    choice = Choice(classifier, {"epochs": model.epochs_}, val_ua=val_ua, layer_weights=list(model.layer_weights_))
    return model, choice, selection


def _scores(data: GridData, y_true, pred, speakers, genders) -> dict:
    """The score columns of a row: UA and the classification scores, or CCC for a dimensional target (whose
    classification-only columns stay empty; see results.RESULT_COLUMNS); and the test clips per class of each test
    speaker and gender (`test_classes`) and each test speaker's correct predictions per class (`correct_by_speaker`)."""
    from featbench.results import CCC_METRIC, UA_METRIC
    from featbench.train.metrics import ccc, ccc_by, class_counts, correct_counts, scores, ua_by

    if data.target:
        return {"metric": CCC_METRIC, "ua": ccc(y_true, pred), "wa": "", "macro_f1": "", "confusion": "", "labels": "",
                "ua_by_speaker": json.dumps(ccc_by(speakers, y_true, pred)),
                "ua_by_gender": json.dumps(ccc_by(genders, y_true, pred)), "test_classes": "", "correct_by_speaker": ""}
    s, names = scores(y_true, pred, len(data.labels)), [data.labels[i] for i in y_true]
    return {"metric": UA_METRIC, "ua": s["ua"], "wa": s["wa"], "macro_f1": s["macro_f1"],
            "confusion": json.dumps(s["confusion"]), "labels": json.dumps(data.labels),
            "ua_by_speaker": json.dumps(ua_by(speakers, y_true, pred)), "ua_by_gender": json.dumps(ua_by(genders, y_true, pred)),
            "test_classes": json.dumps({"speaker": class_counts(speakers, names), "gender": class_counts(genders, names)}),
            "correct_by_speaker": json.dumps(correct_counts(speakers, names, np.asarray(pred) == np.asarray(y_true)))}


def _rows(context: TaskContext, task: GridTask) -> list[dict]:
    """A task's rows: per budget, one model fitted under the training condition (its validation rows too), then
    scored on the fold's test rows under each test condition of the task (the same clips, read under each)."""
    from featbench.train.conditions import mixed_matrix

    data, view = context.data, context.data.views[task.view]
    table, y, index = data.table, data.y, data.index
    test_mask = np.asarray(task.fold.test_mask(table))
    test_rows = [index[u] for u in table["id"][test_mask]]
    speakers, genders = (table[c].fillna("").astype(str).to_numpy()[test_rows] for c in ("speaker", "gender"))
    sequence = task.classifier in SEQUENCE_MODELS
    inputs = context.sequences_of(task.view) if sequence else None if view.frames is not None else \
        mixed_matrix(view.matrices, data.conditions.training, table["id"], task.seed)
    rows = []
    for budget in task.budgets:
        with ConvergenceCount() as stopped:
            if sequence:
                picked, start = task_rows(data, task.fold, budget, task.seed), time.perf_counter()
                model, choice, selection = _fit_sequence(task.classifier, inputs, y, picked.train_rows, picked.fit_rows,
                                                         picked.val_rows, data, view, task.seed, context.device)
                fit_s = time.perf_counter() - start
            else:  # the one fit task `featbench fit` runs too, on rows pooled as the run says (train.attentive)
                pooled = pooled_inputs(context, task, budget, inputs)
                done = fit_task(data, view, task.classifier, task.fold, budget, task.seed, context.device, pooled.X)
                model, picked, fit_s = done.fitted, done.rows, done.fit_seconds + pooled.seconds
                choice, selection = model.choice, model.selection + pooled.note
        selection += stopped.said()
        counted = picked.counted
        fitted = {"budget": str(budget), "n_train": len(picked.train_ids),  # examples_per_class counts a target's utterances
                  "examples_per_class": len(counted) if data.target else len(counted) / len(data.labels),
                  "hparams": json.dumps(choice.hparams, sort_keys=True), "hp_selection": selection,
                  "fit_seconds": round(fit_s, 4), "val_ua": "" if choice.val_ua is None else round(choice.val_ua, 6),
                  "choice": choice.recorded(task.classifier)}
        for test in task.tests:
            X_test = inputs if sequence else pooled.matrices[test]
            start = time.perf_counter()
            pred = model.predict([X_test[i] for i in test_rows] if sequence else X_test[test_rows])
            predict_s = time.perf_counter() - start
            rows.append(_row(data, task, view, fitted, test, pred, round(predict_s, 4), (test_rows, speakers, genders)))
    return rows


def _row(data: GridData, task: GridTask, view: ViewData, fitted: dict, test: str, pred, predict_s: float,
         tested: tuple) -> dict:
    """One results row: a fitted model (`fitted`: its budget's columns) scored on the test rows under `test`."""
    from featbench import __version__

    test_rows, speakers, genders = tested
    return {
        **data.protocol, "fold": task.fold.index, "test_groups": " ".join(task.fold.test_groups), "seed": task.seed,
        **fitted, "n_test": len(test_rows), **view.setup.columns(), "family_config_hash": view.config_hash,
        "level": "sequence" if task.classifier in SEQUENCE_MODELS else "utterance", "classifier": task.classifier,
        **_scores(data, data.y[test_rows], pred, speakers, genders), "predict_seconds": predict_s,
        "featbench_version": __version__, **view.cost,
        "family_options": json.dumps(view.options, sort_keys=True, default=str),
        "train_condition": data.conditions.training.text, "test_condition": test,
    }


class ConvergenceCount:
    """Counts scikit-learn's ConvergenceWarnings of the fits run inside it (a row records them: results.NOT_CONVERGED)
    instead of letting them reach stderr; every other warning goes on to the filters outside."""

    def __enter__(self):
        from sklearn.exceptions import ConvergenceWarning

        self.category, self.n = ConvergenceWarning, 0
        self._catch = warnings.catch_warnings(record=True)
        self._caught = self._catch.__enter__()
        warnings.filterwarnings("always", category=ConvergenceWarning, append=True)  # each fit counted, after the ignores
        return self

    def __exit__(self, *exc):
        self._catch.__exit__(*exc)
        for w in self._caught:
            if issubclass(w.category, self.category):
                self.n += 1
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
        return False

    def said(self) -> str:
        """'; 3 fits stopped at their iteration limit (ConvergenceWarning)', or '' for none."""
        from featbench.results.columns import NOT_CONVERGED

        return f"; {self.n} {NOT_CONVERGED} (ConvergenceWarning)" if self.n else ""


@contextlib.contextmanager
def task_settings(torch_used: bool):
    """What every fit of a task runs under: one BLAS thread, one torch thread where torch fits (restored after),
    and the expected warnings silenced. `featbench fit` uses it too, so the same inputs give the same model."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1), warnings.catch_warnings():
        # Expected and harmless here: an MLP stopped at max_iter; a small validation split lacking a class.
        warnings.filterwarnings("ignore", message=".*Maximum iterations.*")
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        warnings.filterwarnings("ignore", message="A single label was found")
        warnings.filterwarnings("ignore", message="Liblinear failed to converge")  # LinearSVC capped at max_iter
        if not torch_used:
            yield
            return
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)


def run_task(context: TaskContext, task: GridTask) -> list[dict]:
    """The results rows of one task (one per budget)."""
    leaves = context.data.views[task.view].view.leaves  # an ensemble's members too (train.ensemble)
    torch_used = task.classifier in SEQUENCE_MODELS or context.data.design.pooling.learned  # train.attentive
    with task_settings(torch_used or any(leaf.mode == WEIGHTED for leaf in leaves)):
        return _rows(context, task)
