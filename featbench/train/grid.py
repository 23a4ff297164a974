"""One grid task: a view x classifier x fold x seed, trained and tested at each of its budgets.

`GridData` is everything the tasks share (sent once to each worker process); `TaskContext` adds what a
worker builds lazily (sequences read from the store), and lives only as long as the run.

>>> GridTask("fbank", "logreg", Fold(0, ("s1",), "leave-one-group-out"), 0, (8, "all")).budgets
(8, 'all')
"""
from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from featbench.row_kinds import RowKind
from featbench.train.protocol import Fold, budget_subset, validation_split
from featbench.train.views import View

SEQUENCE = "seq"


@dataclass(frozen=True)
class GridTask:
    """Train `classifier` on `view` for one fold and seed, at every budget in `budgets`."""

    view: str
    classifier: str
    fold: Fold
    seed: int
    budgets: tuple


@dataclass
class ViewData:
    """What a view contributes: its config hash and row kind, the utterance matrix (when an utterance-level
    classifier needs it), and where its sequences are (read lazily by sequence tasks)."""

    view: View
    config_hash: str
    rows: str
    X: np.ndarray | None = None
    X_file: str = ""  # where X waits as .npy for worker processes (memory-mapped there, not copied per worker)


@dataclass
class GridData:
    """Shared by every task of a run."""

    store: Path
    table: pd.DataFrame
    labels: list[str]
    views: dict[str, ViewData]
    protocol: dict
    budgets: tuple = ()
    seeds: tuple = ()
    seq_epochs: int = 30
    y: np.ndarray = field(init=False)
    index: dict = field(init=False)

    def __post_init__(self):
        self.y = self.table["label"].map({label: i for i, label in enumerate(self.labels)}).to_numpy()
        self.index = {u: i for i, u in enumerate(self.table["id"])}


@dataclass
class TaskContext:
    """A run's state inside one process: the shared data and the sequences of the last view used."""

    data: GridData
    sequences: dict = field(default_factory=dict)

    def sequences_of(self, name: str) -> list[np.ndarray]:
        if name not in self.sequences:
            from featbench.store import read_family

            view = self.data.views[name].view
            fs = read_family(self.data.store, view.family)
            cols = view.columns(fs.meta)
            self.sequences.clear()  # tasks come grouped by view: one view's frames in memory at a time
            self.sequences[name] = [fs.get(u) if cols is None else np.ascontiguousarray(fs.get(u)[:, cols])
                                    for u in self.data.table["id"]]
        return self.sequences[name]


def share_matrices(data: GridData, folder: str | Path) -> GridData:
    """A copy of `data` whose utterance matrices are .npy files in `folder`, for worker processes: each
    worker memory-maps them (read-only) instead of receiving its own pickled copy."""
    from dataclasses import replace

    views = {}
    for name, view in data.views.items():
        if view.X is None:
            views[name] = view
            continue
        path = Path(folder) / f"X{len(views):04d}.npy"
        np.save(path, view.X)
        views[name] = replace(view, X=None, X_file=str(path))
    return replace(data, views=views)


def make_context(data: GridData) -> TaskContext:
    """A process's context; utterance matrices shared as files are memory-mapped here."""
    from dataclasses import replace

    views = {name: replace(view, X=np.load(view.X_file, mmap_mode="r")) if view.X_file else view
             for name, view in data.views.items()}
    return TaskContext(replace(data, views=views))


def _fit_pooled(classifier: str, X, y, train_rows, fit_rows, val_rows, seed: int):
    from sklearn.metrics import balanced_accuracy_score

    from featbench.train.classifiers import CLASSIFIERS, build

    spec = CLASSIFIERS[classifier]
    hp, selection = spec.default, "default (too few speakers for validation)"
    if val_rows and len(set(y[fit_rows])) >= 2:
        best = -1.0
        for candidate in spec.grid:
            model = build(classifier, candidate, seed).fit(X[fit_rows], y[fit_rows])
            score = balanced_accuracy_score(y[val_rows], model.predict(X[val_rows]))
            if score > best:
                best, hp = score, candidate
        selection = f"grid on held-out speakers ({len(fit_rows)} fit / {len(val_rows)} val), val UA {best:.3f}"
    return build(classifier, hp, seed).fit(X[train_rows], y[train_rows]), hp, selection


def _fit_sequence(seqs, y, train_rows, fit_rows, val_rows, data: GridData, view: ViewData, seed: int):
    from featbench.train.sequence import SequenceClassifier

    model = SequenceClassifier(n_classes=len(data.labels), raw=view.rows == RowKind.WAVEFORM.value, seed=seed,
                               max_epochs=data.seq_epochs)
    if val_rows and len(set(y[fit_rows])) >= 2:
        model.fit([seqs[i] for i in fit_rows], y[fit_rows], [seqs[i] for i in val_rows], y[val_rows])
        selection = f"early stopping on held-out speakers ({len(fit_rows)} fit / {len(val_rows)} val)"
    else:
        model.fit([seqs[i] for i in train_rows], y[train_rows])
        selection = "fixed epochs (too few speakers for validation)"
    return model, {"epochs": model.epochs_}, selection


def _rows(context: TaskContext, task: GridTask) -> list[dict]:
    from featbench import __version__
    from featbench.train.metrics import scores

    data, view = context.data, context.data.views[task.view]
    table, y, index = data.table, data.y, data.index
    test_rows = [index[u] for u in table["id"][task.fold.test_mask(table)]]
    sequence = task.classifier == SEQUENCE
    inputs = context.sequences_of(task.view) if sequence else view.X
    rows = []
    for budget in task.budgets:
        train_ids = budget_subset(table, task.fold, budget, task.seed)
        fit_ids, val_ids = validation_split(table, train_ids, task.seed)
        train_rows, fit_rows, val_rows = ([index[u] for u in ids] for ids in (train_ids, fit_ids, val_ids))
        start = time.perf_counter()
        if sequence:
            model, hp, selection = _fit_sequence(inputs, y, train_rows, fit_rows, val_rows, data, view, task.seed)
        else:
            model, hp, selection = _fit_pooled(task.classifier, inputs, y, train_rows, fit_rows, val_rows, task.seed)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        pred = model.predict([inputs[i] for i in test_rows] if sequence else inputs[test_rows])
        predict_s = time.perf_counter() - start
        s = scores(y[test_rows], pred, len(data.labels))
        rows.append({
            **data.protocol, "fold": task.fold.index, "test_groups": " ".join(task.fold.test_groups), "seed": task.seed,
            "budget": str(budget), "examples_per_class": len(train_ids) / len(data.labels), "n_train": len(train_ids),
            "n_test": len(test_rows), "family": task.view, "family_config_hash": view.config_hash,
            "level": "sequence" if sequence else "utterance", "classifier": task.classifier,
            "hparams": json.dumps(hp, sort_keys=True), "hp_selection": selection, "metric": "UA (balanced accuracy)",
            "ua": s["ua"], "wa": s["wa"], "macro_f1": s["macro_f1"], "confusion": json.dumps(s["confusion"]),
            "labels": json.dumps(data.labels), "fit_seconds": round(fit_s, 4), "predict_seconds": round(predict_s, 4),
            "featbench_version": __version__,
        })
    return rows


def run_task(context: TaskContext, task: GridTask) -> list[dict]:
    """The results rows of one task (one per budget)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1), warnings.catch_warnings():
        # Expected and harmless here: an MLP stopped at max_iter; a small validation split lacking a class.
        warnings.filterwarnings("ignore", message=".*Maximum iterations.*")
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        warnings.filterwarnings("ignore", message="A single label was found")
        if task.classifier == SEQUENCE:
            import torch

            torch.set_num_threads(1)
        return _rows(context, task)
