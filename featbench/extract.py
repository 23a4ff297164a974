"""Run a corpus through feature families into a store: resumable, parallel, with an errors report.

A clip that cannot be used (unreadable, empty, too short, non-finite, silent) or whose extraction
fails is listed in ``<store>/errors.csv`` with its reason; the rest is extracted. Re-running skips
utterances whose features are stored with the same config and the same audio hash.

>>> import tempfile
>>> from featbench.corpus import load_corpus
>>> d = tempfile.mkdtemp()
>>> table = load_corpus("demo", d + "/corpus").head(4)
>>> report = run_extraction(table, [("egemaps-func", {})], d + "/store", progress=False)
>>> report.extracted, report.failed, report.partial
(4, 0, False)
>>> run_extraction(table, [("egemaps-func", {})], d + "/store", progress=False).extracted
0
"""
from __future__ import annotations

import csv
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from featbench.audio import AudioConfig, AudioProblem, file_hash, load
from featbench.features import build_family
from featbench.store import FamilyMeta, StoreWriter

CORPUS_FILE = "corpus.csv"
ERRORS_FILE = "errors.csv"

_WORKER_FAMILIES: dict = {}


@dataclass
class ExtractionReport:
    """What a run did. `partial` is True when any utterance could not be extracted."""

    store: Path
    utterances: int = 0
    already_done: int = 0
    extracted: int = 0
    failed: int = 0
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    errors: list[dict] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        return self.failed > 0

    def summary(self) -> str:
        speed = self.audio_seconds / self.wall_seconds if self.wall_seconds else 0.0
        line = (f"{self.store}: {self.utterances} utterances, {self.already_done} already stored, "
                f"{self.extracted} extracted ({self.audio_seconds:.0f} s of audio in {self.wall_seconds:.1f} s, "
                f"{speed:.1f} s audio/s), {self.failed} failed")
        if self.failed:
            line += f" (see {self.store / ERRORS_FILE})"
        return "\n".join([*self.messages, line])


def _limit_threads(threads: int):
    """Pin BLAS/OpenMP (and torch, if loaded) to `threads`: processes, not threads, are the unit of
    parallelism. Returns the threadpoolctl limiter, whose restore_original_limits() undoes it."""
    import sys

    from threadpoolctl import threadpool_limits

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    return threadpool_limits(threads)


def _init_worker(specs: list[tuple[str, dict]], audio: AudioConfig, threads: int) -> None:
    _limit_threads(threads)
    _WORKER_FAMILIES.clear()
    _WORKER_FAMILIES.update({name: build_family(name, options, audio) for name, options in specs})


def _checked(array: np.ndarray) -> np.ndarray:
    if array.size and not np.all(np.isfinite(array)):
        raise ValueError("non-finite feature values")
    return array


def _extract_batch(items: list[tuple[str, str, list[str]]], audio: AudioConfig) -> list[tuple[str, str, tuple]]:
    """[(id, path, (arrays by family, error reason by family, seconds of audio))] for a batch of clips.

    Families see the usable clips together (`extract_batch`); if a batch fails, its clips are extracted
    one by one so that the failure is reported against the clip that caused it.
    """
    signals, results = {}, {}
    for uid, path, needed in items:
        try:
            signals[uid] = load(path, audio)
            results[uid] = ({}, {}, signals[uid].size / audio.sample_rate)
        except AudioProblem as err:
            results[uid] = ({}, {name: str(err) for name in needed}, 0.0)
    for name in dict.fromkeys(n for _, _, needed in items for n in needed):
        family = _WORKER_FAMILIES[name]
        group = [uid for uid, _, needed in items if name in needed and uid in signals]
        try:
            arrays = [_checked(a) for a in family.extract_batch([signals[u] for u in group], audio.sample_rate)]
        except Exception:  # retried clip by clip below, where the failing clip's error is recorded
            arrays = None
        for k, uid in enumerate(group):
            try:
                results[uid][0][name] = arrays[k] if arrays is not None else _checked(family.extract(signals[uid], audio.sample_rate))
            except Exception as err:  # one family failing on one clip must not stop the run; reported per clip
                results[uid][1][name] = f"{type(err).__name__}: {err}"
    return [(uid, path, results[uid]) for uid, path, _ in items]


def _write_errors(path: Path, errors: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "path", "family", "reason"])
        writer.writeheader()
        writer.writerows(errors)


def run_extraction(table: pd.DataFrame, specs: list[tuple[str, dict]], store: str | Path,
                   audio: AudioConfig = AudioConfig(), jobs: int = 1, progress: bool = True,
                   flush_utterances: int = 64, batch_size: int = 1) -> ExtractionReport:
    """Extract every family in `specs` ([(name, options)]) for every utterance of `table` into `store`.

    jobs > 1 uses that many worker processes (each single-threaded). batch_size > 1 hands clips of
    similar duration to the families in batches (pretrained encoders batch where that is exact; the
    stored arrays do not depend on it). Finished utterances reach the disk
    every `flush_utterances` utterances (or 64 MB), so a killed run loses at most that much work.
    Returns an ExtractionReport.
    """
    from tqdm import tqdm

    start = time.perf_counter()
    store = Path(store)
    report = ExtractionReport(store=store, utterances=len(table))
    families = {name: build_family(name, options, audio) for name, options in specs}  # validates options early
    with StoreWriter(store, flush_utterances=flush_utterances) as writer:
        table.to_csv(store / CORPUS_FILE, index=False)
        done = {name: writer.prepare(FamilyMeta.of(fam)) for name, fam in families.items()}
        hashes, todo = {}, []
        for row in table.itertuples():
            hashes[row.id] = file_hash(row.path) if os.path.isfile(row.path) else "missing"
            needed = [n for n in families if done[n].get(row.id) != hashes[row.id]]
            if needed:
                todo.append((row.id, row.path, needed))
        report.already_done = len(table) - len(todo)
        if batch_size > 1:  # similar durations together, so that padding inside a batch stays small
            duration = dict(zip(table["id"], table["duration"].fillna(0.0)))
            todo.sort(key=lambda item: duration[item[0]])
        batches = [todo[i:i + max(batch_size, 1)] for i in range(0, len(todo), max(batch_size, 1))]
        pool, limiter = None, None
        if jobs > 1 and len(batches) > 1:
            import multiprocessing

            pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_init_worker, initargs=(specs, audio, 1))
        else:
            limiter = _limit_threads(1)
            _WORKER_FAMILIES.clear()
            _WORKER_FAMILIES.update(families)
        bar = tqdm(total=len(todo), unit="clip", disable=not progress, dynamic_ncols=True, desc="extract", mininterval=0.5)

        def record(uid: str, path: str, result: tuple[dict, dict, float]) -> None:
            arrays, errors, seconds = result
            for name, array in arrays.items():
                writer.add(name, uid, hashes[uid], array)
            for name, reason in errors.items():
                report.errors.append(dict(id=uid, path=path, family=name, reason=reason))
            report.failed += bool(errors)
            report.extracted += not errors
            report.audio_seconds += seconds
            bar.update()
            bar.set_postfix_str(f"{report.audio_seconds / max(time.perf_counter() - start, 1e-9):.1f}x realtime, {report.failed} failed", refresh=False)

        try:
            if pool is None:
                for batch in batches:
                    for item in _extract_batch(batch, audio):
                        record(*item)
            else:
                pending = set()
                for batch in batches:
                    pending.add(pool.submit(_extract_batch, batch, audio))
                    if len(pending) >= 4 * jobs:
                        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for future in finished:
                            for item in future.result():
                                record(*item)
                for future in pending:
                    for item in future.result():
                        record(*item)
        finally:
            bar.close()
            if pool is not None:
                pool.shutdown(cancel_futures=True)
            if limiter is not None:
                limiter.restore_original_limits()
            writer.flush()  # keep every finished utterance, also on Ctrl-C
            _write_errors(store / ERRORS_FILE, report.errors)
        for name in families:
            writer.consolidate(name, list(table["id"]), hashes)
        report.messages = writer.messages
    report.wall_seconds = time.perf_counter() - start
    return report
