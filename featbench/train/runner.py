"""The grid runner: view x classifier x budget x fold x seed -> one tidy results row each.

Rows are appended to the results CSV (see featbench.results) as each (view, classifier, fold, seed)
task finishes; a re-run skips rows already there, so an interrupted grid resumes. Same inputs and
seeds give the same scores, whatever the number of workers. What the tasks share is read and checked
first (train.prepare); the Experiment that defines a grid lives in train.experiment.

>>> Experiment(Path("store"), ["fbank"], ["logreg"], [8, "all"], [0]).n_folds is None
True
"""
from __future__ import annotations

import os
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path

from featbench.device import CPU, Device
from featbench.executors import Executor, resolve_executor
from featbench.results import ResultsFile, row_key
from featbench.results.columns import NOT_CONVERGED
from featbench.train.experiment import Experiment
from featbench.train.grid import GridData, GridTask, make_context, run_task, share_matrices
from featbench.train.pooling import pooled_matrix
from featbench.train.prepare import load_table, prepare_grid
from featbench.train.shared import SHARED_PREFIX, remove_stale_shared

__all__ = ["SHARED_PREFIX", "Experiment", "TrainReport", "load_table", "pooled_matrix", "prepare_grid",
           "remove_stale_shared", "run_training"]


@dataclass
class TrainReport:
    out: Path
    rows_before: int = 0
    rows_added: int = 0
    tasks: int = 0
    wall_seconds: float = 0.0
    dropped_ids: int = 0
    not_converged: int = 0  # rows whose fits stopped at their iteration limit (results.NOT_CONVERGED)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        note = f", {self.dropped_ids} utterances missing from some family were left out" if self.dropped_ids else ""
        return "\n".join([*self.notes, f"{self.out}: {self.rows_added} rows added ({self.tasks} tasks) in "
                          f"{self.wall_seconds:.1f} s, {self.rows_before} were already there{note}"])


def _missing_tasks(data: GridData, folds: list, classifiers: list[str], done: set) -> list[GridTask]:
    """The tasks whose rows are not all in the file: each fits the budgets some test condition still lacks, once,
    and scores the test conditions some budget still lacks (the runner keeps only the rows not yet there)."""
    tests = [c.text for c in data.conditions.tests]
    tasks = []
    for setup, view in data.views.items():
        for classifier in classifiers:
            for fold in folds:
                for seed in data.seeds:
                    probe = {**data.protocol, **view.setup.columns(), "family_config_hash": view.config_hash,
                             "classifier": classifier, "fold": fold.index, "seed": seed}
                    missing = [(b, t) for b in data.budgets for t in tests
                               if row_key({**probe, "budget": b, "test_condition": t}) not in done]
                    if missing:
                        tasks.append(GridTask(setup, classifier, fold, seed, tuple(dict.fromkeys(b for b, _ in missing)),
                                              tuple(dict.fromkeys(t for _, t in missing))))
    return tasks


def run_training(exp: Experiment, out: str | Path, executor: Executor | None = None, progress: bool = True, *,
                 jobs: int | None = None, cluster: Executor | None = None, device: Device = CPU) -> TrainReport:
    """Run the grid of `exp` on `executor` (default `Local()`, this process; the deprecated `jobs=N` is
    `Local(N)`, `cluster=c` is `c`), appending rows to the CSV `out`; the sequence model, fusion and layer
    weights fit on `device` (each worker on its own GPU, `featbench.train.grid`). Returns a TrainReport.

    Local worker processes memory-map the utterance matrices from temporary .npy files; the workers of a
    cluster get them sent once each, and sequence tasks read frames from the store path, which must therefore
    be the same path on every worker (a shared filesystem). Rows are written by this process only.
    """
    from tqdm import tqdm

    start = time.perf_counter()
    executor = resolve_executor(executor, jobs, cluster, caller="run_training")
    remove_stale_shared()
    data, folds, dropped, classifiers = prepare_grid(exp)
    data = replace(data, device=device)
    report = TrainReport(out=Path(out), dropped_ids=dropped)
    with ResultsFile(out) as results:
        results.check_protocol(data.protocol)  # before any task: compare reads one protocol per file
        report.rows_before, report.notes = results.n_rows, list(results.notes) + list(data.notes)
        tasks = _missing_tasks(data, folds, classifiers, results.keys)
        report.tasks = len(tasks)
        with tqdm(total=len(tasks), unit="task", disable=not progress, desc="train", mininterval=0.5) as bar, \
                tempfile.TemporaryDirectory(prefix=f"{SHARED_PREFIX}{os.getpid()}-") as shared:
            sent = share_matrices(data, shared) if executor.local_processes(len(tasks)) > 1 else data
            with closing(executor.run(run_task, tasks, setup=make_context, setup_args=(sent,),
                                      resources=device.resources())) as done:
                for rows in done:  # each row carries its view's Setup columns (train.grid._row)
                    rows = [row for row in rows if row_key(row) not in results.keys]  # another test condition's
                    results.append(rows)
                    report.rows_added += len(rows)
                    report.not_converged += sum(NOT_CONVERGED in str(row["hp_selection"]) for row in rows)
                    bar.update()
    if report.not_converged:
        report.notes.append(f"{report.not_converged} of {report.rows_added} rows: {NOT_CONVERGED} (scikit-learn's "
                            "ConvergenceWarning, counted in each row's hp_selection; their scores are those of the last "
                            "iteration)")
    report.wall_seconds = time.perf_counter() - start
    return report
