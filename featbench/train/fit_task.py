"""One fit task: the rows a fold, budget and seed train on (through the run's `train.transfer.Design`), and an
utterance-level classifier entry (or an ensemble of entries, train.ensemble) fitted on them. A grid task (`train.grid`) and `featbench fit` (`model.fit`)
both call `fit_task`, so a saved model is trained on exactly the rows of the benchmark row it stands for;
sequence models pick their rows with `task_rows` too.

>>> rows = TaskRows(["a", "b", "c"], ["a", "b"], ["c"], ["a", "b", "c"], {"a": 0, "b": 1, "c": 2})
>>> rows.train_rows, rows.fit_rows, rows.val_rows
([0, 1, 2], [0, 1], [2])
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from featbench.device import CPU, Device
from featbench.train.protocol import Fold


@dataclass
class TaskRows:
    """The utterance ids a fold, budget and seed train on (`train_ids`; `fit_ids` / `val_ids` choose the layer,
    classifier and hyper-parameters; `counted`: the budgeted ones examples_per_class counts), and their rows."""

    train_ids: list[str]
    fit_ids: list[str]
    val_ids: list[str]
    counted: list[str]
    index: dict = field(repr=False)

    def _rows(self, ids: list[str]) -> list[int]:
        return [self.index[u] for u in ids]

    @property
    def train_rows(self) -> list[int]:
        return self._rows(self.train_ids)

    @property
    def fit_rows(self) -> list[int]:
        return self._rows(self.fit_ids)

    @property
    def val_rows(self) -> list[int]:
        return self._rows(self.val_ids)


def task_rows(data, fold: Fold, budget, seed: int) -> TaskRows:
    """The rows of `data` (a train.grid.GridData) that `fold`, `budget` and `seed` train and validate on, as
    `data.design` picks them; never one of the fold's test rows (a RuntimeError: a bug)."""
    table = data.table
    train_ids, counted = data.design.training_ids(table, fold, budget, seed)
    fit_ids, val_ids = data.design.validation_ids(table, fold, train_ids, seed)
    if set(train_ids + val_ids) & set(table["id"][np.asarray(fold.test_mask(table))]):  # never: a bug
        raise RuntimeError(f"fold {fold.index}: test utterances among the training or validation ones")
    return TaskRows(train_ids, fit_ids, val_ids, counted, data.index)


@dataclass
class FittedTask:
    """A fitted entry (train.entry.FittedEntry), the rows it was trained and validated on, and its fit time."""

    fitted: object
    rows: TaskRows
    fit_seconds: float


def fit_task(data, view, classifier: str, fold: Fold, budget, seed: int, device: Device = CPU,
             X: np.ndarray | None = None) -> FittedTask:
    """Fit the utterance-level entry `classifier` on `view` (a train.grid.ViewData of `data`) for one fold, budget
    and seed; `X`: the matrix it reads (default: the view's, as `train.conditions.mixed_matrix` mixes it under the
    training condition; a grid task passes the one it read once for all its budgets)."""
    from featbench.train.conditions import mixed_matrix
    from featbench.train.ensemble import fit_ensemble
    from featbench.train.entry import fit_entry
    from featbench.train.views import ENSEMBLE

    if X is None:
        X = mixed_matrix(view.matrices, data.conditions.training, data.table["id"], seed)
    rows = task_rows(data, fold, budget, seed)
    start = time.perf_counter()
    fitted: object
    if view.view.mode == ENSEMBLE:  # late fusion of its members' probabilities
        fitted = fit_ensemble(classifier, view.view, X, data.y, rows.train_rows, rows.fit_rows, rows.val_rows, seed,
                              data.design.held_out, device)
    else:
        fitted = fit_entry(classifier, view.view, X, data.y, rows.train_rows, rows.fit_rows, rows.val_rows, seed,
                           bool(data.target), data.design.held_out, device)
    return FittedTask(fitted, rows, time.perf_counter() - start)
