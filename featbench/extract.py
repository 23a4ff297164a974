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

import os
import time
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from featbench.audio import AudioConfig, AudioProblem, file_hash, load
from featbench.errors import FeatbenchError
from featbench.executors import run_tasks
from featbench.features import build_family
from featbench.store import ERRORS_FILE, FamilyMeta, StoreWriter, write_corpus, write_errors


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


@dataclass(frozen=True)
class ClipBatch:
    """One task: clips of similar length, each with the families it still needs."""

    items: tuple[tuple[str, str, tuple[str, ...]], ...]  # (id, path, family names)
    audio: AudioConfig


def check_families(specs: list[tuple[str, dict]], audio: AudioConfig) -> dict:
    """{name: FamilyMeta} of every family, options validated and models opened: configuration errors
    (FeatbenchError) come from here, before any clip is touched."""
    return {name: FamilyMeta.of(build_family(name, options, audio)) for name, options in specs}


def build_families(specs: list[tuple[str, dict]], audio: AudioConfig) -> dict:
    """{name: family}, options validated and heavy parts loaded (once per worker process)."""
    families = {name: build_family(name, options, audio) for name, options in specs}
    for family in families.values():
        family.load()
    return families


def _checked(array: np.ndarray) -> np.ndarray:
    if array.size and not np.all(np.isfinite(array)):
        raise ValueError("non-finite feature values")
    return array


def _per_clip(err: Exception) -> str:
    """The reason recorded for a clip; configuration errors are not per-clip failures and go up."""
    if isinstance(err, FeatbenchError):
        raise err
    return f"{type(err).__name__}: {err}"


def extract_batch(families: dict, batch: ClipBatch) -> list[tuple[str, str, tuple]]:
    """[(id, path, (arrays by family, error reason by family, seconds of audio))] for a batch of clips.

    Families see the usable clips together (`extract_batch`); if a batch fails, its clips are extracted
    one by one so that the failure is reported against the clip that caused it.
    """
    signals, results = {}, {}
    for uid, path, needed in batch.items:
        try:
            signals[uid] = load(path, batch.audio)
            results[uid] = ({}, {}, signals[uid].size / batch.audio.sample_rate)
        except AudioProblem as err:
            results[uid] = ({}, {name: str(err) for name in needed}, 0.0)
    for name in dict.fromkeys(n for _, _, needed in batch.items for n in needed):
        family = families[name]
        group = [uid for uid, _, needed in batch.items if name in needed and uid in signals]
        try:
            arrays = [_checked(a) for a in family.extract_batch([signals[u] for u in group], batch.audio.sample_rate)]
        except Exception as err:  # retried clip by clip below, where the failing clip's error is recorded
            _per_clip(err)
            arrays = None
        for k, uid in enumerate(group):
            try:
                results[uid][0][name] = arrays[k] if arrays is not None else _checked(family.extract(signals[uid], batch.audio.sample_rate))
            except Exception as err:  # one family failing on one clip must not stop the run; reported per clip
                results[uid][1][name] = _per_clip(err)
    return [(uid, path, results[uid]) for uid, path, _ in batch.items]


def _progress_note(report: ExtractionReport, seconds_todo: float, first_audio: float, elapsed: float, n_done: int) -> str:
    """Speed in audio seconds per second and the ETA from the audio still to do, once a few batches are done
    (clips differ in length, so clips per second would mislead).

    >>> _progress_note(ExtractionReport(Path("s"), audio_seconds=30.0), 120.0, 10.0, 10.0, 5)
    '2.0x realtime, ETA 0:45, 0 failed'
    """
    rate = (report.audio_seconds - first_audio) / max(elapsed, 1e-9)
    if n_done < 4 or rate <= 0:
        return f"ETA after a few clips, {report.failed} failed"
    left = max(seconds_todo - report.audio_seconds, 0.0) / rate
    return f"{rate:.1f}x realtime, ETA {int(left // 60)}:{int(left % 60):02d}, {report.failed} failed"


def run_extraction(table: pd.DataFrame, specs: list[tuple[str, dict]], store: str | Path,
                   audio: AudioConfig = AudioConfig(), jobs: int = 1, progress: bool = True,
                   flush_utterances: int = 64, batch_size: int = 1, metas: dict | None = None) -> ExtractionReport:
    """Extract every family in `specs` ([(name, options)]) for every utterance of `table` into `store`.

    jobs > 1 uses that many worker processes (each single-threaded). batch_size > 1 hands clips of
    similar duration to the families in batches (pretrained encoders batch where that is exact; the
    stored arrays do not depend on it). Finished utterances reach the disk
    every `flush_utterances` utterances (or 64 MB), so a killed run loses at most that much work.
    Options, models and the store are checked before any clip: a configuration error raises
    FeatbenchError and is never recorded as a per-clip failure (`metas`, from `check_families`, saves
    checking twice). Returns an ExtractionReport.
    """
    from tqdm import tqdm

    start = time.perf_counter()
    store = Path(store)
    report = ExtractionReport(store=store, utterances=len(table))
    metas = metas or check_families(specs, audio)  # the run's families live in the executor, built once there
    with StoreWriter(store, flush_utterances=flush_utterances) as writer:
        done = {name: writer.prepare(meta) for name, meta in metas.items()}
        write_corpus(store, table)
        hashes, todo = {}, []
        for row in table.itertuples():
            hashes[row.id] = file_hash(row.path) if os.path.isfile(row.path) else "missing"
            needed = tuple(n for n in metas if done[n].get(row.id) != hashes[row.id])
            if needed:
                todo.append((row.id, row.path, needed))
        report.already_done = len(table) - len(todo)
        if batch_size > 1:  # similar durations together, so that padding inside a batch stays small
            duration = dict(zip(table["id"], table["duration"].fillna(0.0)))
            todo.sort(key=lambda item: duration[item[0]])
        batches = [ClipBatch(tuple(todo[i:i + batch_size]), audio) for i in range(0, len(todo), max(batch_size, 1))]
        workers = jobs if jobs > 1 and len(batches) > 1 else 1

        def record(uid: str, path: str, result: tuple[dict, dict, float]) -> None:
            arrays, errors, seconds = result
            for name, array in arrays.items():
                writer.add(name, uid, hashes[uid], array)
            for name, reason in errors.items():
                report.errors.append(dict(id=uid, path=path, family=name, reason=reason))
            report.failed += bool(errors)
            report.extracted += not errors
            report.audio_seconds += seconds

        bar, stack = None, ExitStack()
        seconds_todo = float(table.set_index("id").loc[[item[0] for item in todo], "duration"].fillna(0.0).sum())
        try:
            results = stack.enter_context(closing(run_tasks(extract_batch, batches, workers, setup=build_families,
                                                            setup_args=(specs, audio))))
            for n_done, items in enumerate(results, start=1):
                for item in items:
                    record(*item)
                if bar is None:  # models are loaded and compiled by now: the rate and ETA count from here
                    bar = tqdm(total=len(todo), unit="clip", disable=not progress, dynamic_ncols=True, desc="extract",
                               mininterval=0.5, bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]")
                    clock, first_audio = time.perf_counter(), report.audio_seconds
                bar.update(len(items))
                bar.set_postfix_str(_progress_note(report, seconds_todo, first_audio, time.perf_counter() - clock,
                                                   n_done), refresh=False)
        finally:
            stack.close()  # workers end here, on success, error or Ctrl-C
            if bar is not None:
                bar.close()
            writer.flush()  # keep every finished utterance, also on Ctrl-C
            write_errors(store, report.errors)
        for name in metas:
            writer.consolidate(name, list(table["id"]), hashes)
        report.messages = writer.messages
    report.wall_seconds = time.perf_counter() - start
    return report
