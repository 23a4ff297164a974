"""Where a study stands, cell by cell: done, running (the live run is on that step), failed (the step's last run
stopped on an error), missing; and what the missing cells cost, from recorded timings (the stores' timings.csv for
extraction, the results rows' fit and predict seconds for training). `plan` and `status` print it.

>>> Counts(done=3, missing=1).total, Counts(done=3, missing=1).text()
(4, '3 done, 1 missing')
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from featbench.locking import process_alive
from featbench.study.cells import (ExtractionCell, TrainingCell, done_keys, failed_clips, grid_cells, is_done, results_rows,
                                   stored_clips, stored_hashes, transcribed)
from featbench.study.resolve import Resolved
from featbench.study.state import read_state

DONE, RUNNING, FAILED, MISSING = "done", "running", "failed", "missing"


@dataclass
class Counts:
    done: int = 0
    running: int = 0
    failed: int = 0
    missing: int = 0

    @property
    def total(self) -> int:
        return self.done + self.running + self.failed + self.missing

    def add(self, state: str, n: int = 1) -> None:
        setattr(self, state, getattr(self, state) + n)

    def text(self) -> str:
        parts = [f"{getattr(self, s)} {s}" for s in (DONE, RUNNING, FAILED, MISSING) if getattr(self, s)]
        return ", ".join(parts) or "no cells"


@dataclass
class Line:
    """One line of the inventory: a step's part (a family of a corpus, a view x classifier of a grid)."""

    step: str
    what: str
    counts: Counts
    seconds: float | None  # CPU seconds of its missing cells (None: no timing recorded yet)
    missing: list = field(default_factory=list)  # the missing cells themselves (for --cells)
    elsewhere: dict = field(default_factory=dict)  # {config hash: missing cells whose row is held under it}


@dataclass
class Inventory:
    lines: list[Line]
    running_step: str | None
    failed_steps: dict[str, str]

    def counts(self, kind: str) -> Counts:
        total = Counts()
        for line in self.lines:
            if line.step.startswith(kind):
                for state in (DONE, RUNNING, FAILED, MISSING):
                    total.add(state, getattr(line.counts, state))
        return total

    def seconds(self) -> float | None:
        known = [line.seconds for line in self.lines if line.seconds is not None]
        return sum(known) if known else None

    def unknown(self) -> int:
        return sum(1 for line in self.lines if line.seconds is None and line.counts.total > line.counts.done)


def inventory(resolved: Resolved, with_cells: bool = False) -> Inventory:
    """Every cell of the study with its state, grouped into lines."""
    state = read_state(resolved.study.out)
    running = state.get("step") if process_alive(state.get("pid")) else None
    failed = dict(state.get("failed", {}))
    lines = _transcription_lines(resolved, running, failed)
    lines += _extraction_lines(resolved, running, failed, with_cells)
    lines += _training_lines(resolved, running, failed, with_cells)
    return Inventory(lines, running, failed)


def _state_of(step: str, running: str | None, failed: dict) -> str:
    return RUNNING if step == running else FAILED if step in failed else MISSING


def _transcription_lines(resolved: Resolved, running, failed) -> list[Line]:
    """One line per corpus with a `transcribe` model: its clips transcribed by that model (cells.transcribed)."""
    lines = []
    for name, corpus in resolved.study.corpora.items():
        if corpus.transcribe is None:
            continue
        step, table = f"transcribe {name}", resolved.tables[name]
        done, per_clip = transcribed(corpus, table)
        counts = Counts()
        counts.add(DONE, done)
        counts.add(_state_of(step, running, failed), len(table) - done)
        seconds = None if per_clip is None else per_clip * (len(table) - done)
        lines.append(Line(step, f"{corpus.transcribe.name} ({len(table)} clips)", counts, seconds))
    return lines


def _extraction_lines(resolved: Resolved, running, failed, with_cells) -> list[Line]:
    from featbench.store.timings import extraction_seconds_per_audio_hour, read_timings

    lines = []
    for name, corpus in resolved.study.corpora.items():
        step, table = f"extract {name}", resolved.tables[name]
        timings = read_timings(corpus.store) if (corpus.store / "timings.csv").is_file() else None
        hours = float(table["duration"].fillna(0).sum()) / 3600
        failures = failed_clips(corpus)
        for stored, config in resolved.hashes[name].items():
            cell = ExtractionCell(name, stored.split("~")[0], stored.partition("~")[2] or "clean", stored, config,
                                  len(table), stored_clips(corpus, stored, config), failures)
            counts = Counts()
            counts.add(DONE, min(cell.done_clips, cell.clips))
            counts.add(_state_of(step, running, failed), max(cell.clips - cell.done_clips, 0))
            rate = extraction_seconds_per_audio_hour(timings, stored, config) if timings is not None else None
            seconds = 0.0 if cell.done else None if rate is None else rate * hours * (1 - cell.done_clips / cell.clips)
            lines.append(Line(step, f"{stored} ({cell.clips} clips, {failures} failed in errors.csv)" if failures
                              else f"{stored} ({cell.clips} clips)", counts, seconds, [cell] if with_cells and not cell.done else []))
    return lines


def _training_lines(resolved: Resolved, running, failed, with_cells) -> list[Line]:
    cache: dict = {}
    lines = []
    everything = pd.concat([results_rows(g.results, cache) for g in resolved.study.grids])  # timings of any grid
    for grid in resolved.study.grids:
        step, shape = f"train {grid.name}", resolved.shapes[grid.name]
        keys = done_keys(grid.results, cache)
        hashes = resolved.hashes[grid.corpus]
        by_entry: dict[tuple, list[TrainingCell]] = {}
        layers = {f: meta.layer_numbers for f, meta in resolved.metas[grid.corpus].items()}
        for cell in grid_cells(grid, shape, hashes, layers):
            by_entry.setdefault((cell.view, cell.classifier), []).append(cell)
        for (view, classifier), cells in by_entry.items():
            counts, missing, elsewhere = Counts(), [], {}
            for cell in cells:
                if is_done(cell, keys, grid, shape):
                    counts.add(DONE)
                    continue
                counts.add(_state_of(step, running, failed))
                missing.append(cell)
                for config in stored_hashes(cell, keys, grid, shape) - {cell.config_hash}:
                    elsewhere[config] = elsewhere.get(config, 0) + 1
            per_row = _seconds_per_row(results_rows(grid.results, cache), everything, view, classifier)
            lines.append(Line(step, f"{view} x {classifier}", counts,
                              None if per_row is None and missing else (per_row or 0.0) * len(missing),
                              missing if with_cells else [], elsewhere))
    return lines


def _seconds_per_row(own: pd.DataFrame, everything: pd.DataFrame, view: str, classifier: str) -> float | None:
    """Mean fit + predict seconds of one row of this view x classifier: from the grid's own results file, else from
    any grid's of the study (a `selected` Whisper entry costs minutes a row, a hand-crafted one seconds: the entry's
    own rows say more than its file's); failing that, any entry's rows (the file's, else the study's); None
    without rows.

    >>> rows = pd.DataFrame({"view": ["a", "b"], "classifier": ["svm", "svm"], "fit_seconds": ["1", "9"],
    ...                      "predict_seconds": ["0", "1"]})
    >>> _seconds_per_row(rows.iloc[:1], rows, "b", "svm"), _seconds_per_row(rows.iloc[:1], rows, "c", "svm")
    (10.0, 1.0)
    """
    for rows, same_entry in ((own, True), (everything, True), (own, False), (everything, False)):
        if rows.empty:
            continue
        seconds = pd.to_numeric(rows["fit_seconds"], errors="coerce").fillna(0) + \
            pd.to_numeric(rows["predict_seconds"], errors="coerce").fillna(0)
        part = seconds[(rows["view"] == view) & (rows["classifier"] == classifier)] if same_entry else seconds
        if len(part):
            return float(part.mean())
    return None
