"""Run a corpus through feature families into a store: resumable, parallel, with an errors report.

A clip that cannot be used (unreadable, empty, too short, non-finite, silent) or whose extraction
fails is listed in ``<store>/errors.csv`` with its reason; the rest is extracted. Re-running skips
utterances whose features are stored with the same config and the same audio hash.

Families read audio or text (`FeatureFamily.input`). Audio is decoded only for clips an audio family
still needs. A text family reads each clip's transcript (the corpus table's ``transcript`` column or the
store's ``transcripts.csv``, by its ``source`` option; `check_transcripts`), and its per-clip hash is a
hash of that transcript, so a changed transcript is encoded again. A corpus without any transcript for
the chosen source is a configuration error before any clip; one clip without one is a per-clip failure.

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
from featbench.device import CPU, Device
from featbench.errors import FeatbenchError
from featbench.executors import Executor, resolve_executor
from featbench.foreign_code import foreign
from featbench.features import FAMILIES, InputKind, build_family
from featbench.features.plugins import setting_up
from featbench.features.text_family import text_hash
from featbench.transcript_inputs import check_transcripts, sources_note
from featbench.progress import LateBar, clip_note, progress_note, speed_text
from featbench.store import ERRORS_FILE, FamilyMeta, StoreWriter, write_corpus, write_errors
from featbench.store.files import TextRecord
from featbench.store.timings import RunTimings, check_timings


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
        timing = speed_text(self.audio_seconds, self.wall_seconds) if self.audio_seconds else f"in {self.wall_seconds:.1f} s"
        line = (f"{self.store}: {self.utterances} utterances, {self.already_done} already stored, "
                f"{self.extracted} extracted ({timing}), {self.failed} failed")
        if self.failed:
            line += f" (see {self.store / ERRORS_FILE})"
        return "\n".join([*self.messages, line])


@dataclass(frozen=True)
class ClipBatch:
    """One task: clips of similar length, each with the families it still needs, and the transcripts the
    text families among them read: (id, family, transcript, problem), where a problem ('' if none) is
    the reason a clip has no usable transcript."""

    items: tuple[tuple[str, str, tuple[str, ...]], ...]  # (id, path, family names)
    audio: AudioConfig
    texts: tuple[tuple[str, str, str, str], ...] = ()


def check_families(specs: list[tuple[str, dict]], audio: AudioConfig) -> dict:
    """{name: FamilyMeta} of every family, options validated and models opened: configuration errors
    (FeatbenchError) come from here, before any clip is touched. What needs the corpus and the store
    (the transcripts of text families) is checked by `check_transcripts`, which `run_extraction` calls
    before it opens the store."""
    metas = {}
    for name, options in specs:
        family = build_family(name, options, audio)
        with setting_up(name, "its declarations (columns, frame rate, config hash)", plugin=name not in FAMILIES):
            metas[name] = FamilyMeta.of(family)
    return metas


def build_families(specs: list[tuple[str, dict]], audio: AudioConfig, device: Device = CPU) -> dict:
    """{name: family}, options validated and heavy parts loaded (once per worker process), the neural ones on this
    worker's `device` (worker i of n GPUs: cuda:(i mod n), `Device.for_worker`)."""
    from featbench.worker_process import worker_index

    on = device.for_worker(worker_index()).activate()
    families = {name: build_family(name, options, audio) for name, options in specs}
    for name, family in families.items():
        family.use_device(on)
        with setting_up(name, "load()", plugin=name not in FAMILIES):
            family.load()
    return families


def _checked(family, array) -> np.ndarray:
    """One clip's features as the store keeps them (`family.storage`: dtype, pooled); a ValueError (a failure of
    that clip) for anything but real numbers of shape (rows, dim) with rows, non-finite values, or values the
    stored dtype cannot hold.

    >>> from featbench.features import build_family
    >>> _checked(build_family("fbank"), np.zeros((2, 3)))
    Traceback (most recent call last):
    ValueError: the family returned features of shape (2, 3), not (rows, 80)
    """
    array = np.asarray(array)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"the family returned {array.dtype} values, not real numbers")
    if array.ndim != 2 or array.shape[1] != family.dim:
        raise ValueError(f"the family returned features of shape {array.shape}, not (rows, {family.dim})")
    if not len(array):
        raise ValueError("the family returned no rows")
    if not np.all(np.isfinite(array)):
        raise ValueError("non-finite feature values")
    with np.errstate(over="ignore"):  # an overflow becomes inf, refused below in one line
        stored = family.storage.apply(array)
    if not np.all(np.isfinite(stored)):  # float64 beyond float32's range (float16's is refused by `cast`)
        raise ValueError(f"feature values beyond what {stored.dtype} holds (largest {np.finfo(stored.dtype).max:.3g})")
    return stored


def _per_clip(err: Exception) -> str:
    """The reason recorded for a clip; configuration errors are not per-clip failures and go up."""
    if isinstance(err, FeatbenchError):
        raise err
    return f"{type(err).__name__}: {err}"


def extract_batch(families: dict, batch: ClipBatch) -> list[tuple[str, str, tuple]]:
    """[(id, path, (arrays by family, error reason by family, seconds of audio, row tokens by text family, seconds
    each family's extractor spent on the clip: its time on the batch shared among the clips it extracted))].

    Families see the usable clips together (`extract_batch`, `extract_text_batch`); if a batch fails, its
    clips are extracted one by one so that the failure is reported against the clip that caused it. A
    clip's audio is decoded only when an audio family needs it.
    """
    signals, results, seconds = {}, {}, {}
    for uid, path, needed in batch.items:
        results[uid] = ({}, {}, {})
        audio_needed = [n for n in needed if families[n].input is InputKind.AUDIO]
        if not audio_needed:
            continue  # text only: the audio is never decoded
        try:
            signals[uid] = load(path, batch.audio)
            seconds[uid] = signals[uid].size / batch.audio.sample_rate
        except AudioProblem as err:
            results[uid][1].update({name: str(err) for name in audio_needed})
    texts = {(uid, name): (text, problem) for uid, name, text, problem in batch.texts}
    spent: dict[str, dict[str, float]] = {uid: {} for uid, _, _ in batch.items}
    for name in dict.fromkeys(n for _, _, needed in batch.items for n in needed):
        start = time.perf_counter()
        _extract_family(families[name], name, batch, signals, texts, results)
        done = [uid for uid, _, _ in batch.items if name in results[uid][0]]
        spent.update({uid: {**spent[uid], name: (time.perf_counter() - start) / len(done)} for uid in done})
    return [(uid, path, (results[uid][0], results[uid][1], seconds.get(uid, 0.0), results[uid][2], spent[uid]))
            for uid, path, _ in batch.items]


def _extract_family(family, name: str, batch: ClipBatch, signals: dict, texts: dict, results: dict) -> None:
    """One family over a batch: its arrays (and row tokens) into `results[uid]`, or each clip's failure."""
    if family.input is InputKind.TEXT:
        _extract_texts(family, name, batch, texts, results)
        return
    group = [uid for uid, _, needed in batch.items if name in needed and uid in signals]
    try:
        with foreign(f"family '{name}'"):  # its sys.exit() or own KeyboardInterrupt: the clip's failure
            arrays = [_checked(family, a) for a in family.extract_batch([signals[u] for u in group], batch.audio.sample_rate)]
        if len(arrays) != len(group):
            raise ValueError(f"extract_batch returned {len(arrays)} arrays for {len(group)} clips")
    except Exception as err:  # retried clip by clip below, where the failing clip's error is recorded
        _per_clip(err)
        arrays = None
    for k, uid in enumerate(group):
        try:
            with foreign(f"family '{name}'"):
                results[uid][0][name] = arrays[k] if arrays is not None else _checked(family, family.extract(signals[uid], batch.audio.sample_rate))
        except Exception as err:  # one family failing on one clip must not stop the run; reported per clip
            results[uid][1][name] = _per_clip(err)


def _extract_texts(family, name: str, batch: ClipBatch, texts: dict, results: dict) -> None:
    """One text family over a batch: rows and row tokens into `results[uid]`, or the clip's failure."""
    group = []
    for uid, _, needed in batch.items:
        if name in needed:
            text, problem = texts.get((uid, name), ("", "no transcript"))
            if problem or not text.strip():
                results[uid][1][name] = problem or "empty transcript"
            else:
                group.append(uid)
    if not group:
        return
    try:
        together = [texts[(u, name)][0] for u in group]
        with foreign(f"family '{name}'"):
            arrays = [_checked(family, a) for a in family.extract_text_batch(together)]
            tokens = family.row_tokens(together)
        if len(arrays) != len(group) or len(tokens) != len(group):
            raise ValueError(f"{len(arrays)} arrays and {len(tokens)} token lists for {len(group)} transcripts")
    except Exception as err:  # retried clip by clip below, where the failing clip's error is recorded
        _per_clip(err)
        arrays = tokens = None
    for k, uid in enumerate(group):
        try:
            text = texts[(uid, name)][0]
            with foreign(f"family '{name}'"):
                array = arrays[k] if arrays is not None else _checked(family, family.extract_text([text])[0])
                row_tokens = tokens[k] if tokens is not None else family.row_tokens([text])[0]
            if len(row_tokens) != len(array):
                raise ValueError(f"{len(array)} rows but {len(row_tokens)} tokens")
            results[uid][0][name], results[uid][2][name] = array, list(row_tokens)
        except Exception as err:  # reported per clip, the run goes on
            results[uid][1][name] = _per_clip(err)


def run_extraction(table: pd.DataFrame, specs: list[tuple[str, dict]], store: str | Path,
                   audio: AudioConfig = AudioConfig(), executor: Executor | None = None, progress: bool = True,
                   flush_utterances: int = 64, batch_size: int = 1, metas: dict | None = None, *,
                   jobs: int | None = None, cluster: Executor | None = None, device: Device = CPU) -> ExtractionReport:
    """Extract every family in `specs` ([(name, options)]) for every utterance of `table` into `store`.

    The batches run on `executor` (`featbench.executors`: default `Local()`, this process; the deprecated
    `jobs=N` is `Local(N)`, `cluster=c` is `c`), this process the only writer. batch_size > 1 hands clips of
    similar duration to the families in batches (pretrained encoders batch where that is exact; the
    stored arrays do not depend on it beyond float rounding). Finished utterances reach the disk
    every `flush_utterances` utterances (or 64 MB), so a killed run loses at most that much work.
    Options, models, transcripts (`check_transcripts`) and the store are checked before any clip: a
    configuration error raises FeatbenchError and is never recorded as a per-clip failure (`metas`, from
    `check_families`, saves checking twice). The per-clip hash of an audio family is its file's hash,
    that of a text family its transcript's (`text_hash`). Neural families run on `device` (checked by the
    caller, `Executor.check_device`; where the features were computed is no part of their identity).
    Returns an ExtractionReport.
    """
    start = time.perf_counter()
    executor = resolve_executor(executor, jobs, cluster, caller="run_extraction")
    store = Path(store)
    report = ExtractionReport(store=store, utterances=len(table))
    metas = metas or check_families(specs, audio)  # the run's families live in the executor, built once there
    file_hashes: dict[str, str] = {}
    transcripts = check_transcripts(table, specs, store, audio, file_hashes)  # before the store is opened
    check_timings(store)  # appended to after the work: refused before it
    notes = [sources_note(name, chosen) for name, chosen in transcripts.items()]
    by_audio = any(n not in transcripts for n in metas)
    with StoreWriter(store, flush_utterances=flush_utterances) as writer:
        done = {name: writer.prepare(meta) for name, meta in metas.items()}
        write_corpus(store, table)
        hashes = _clip_hashes(table, metas, transcripts, file_hashes)
        todo = _todo(table, metas, done, hashes)
        report.already_done = len(table) - len(todo)
        if batch_size > 1:
            todo = _by_length(todo, table, transcripts, by_audio)
        batches = _batches(todo, transcripts, audio, batch_size)
        seconds_todo = float(table.set_index("id").loc[[item[0] for item in todo], "duration"].fillna(0.0).sum())
        bar, stack, timings = LateBar(len(todo), "extract", progress), ExitStack(), RunTimings(table)
        try:
            results = stack.enter_context(closing(executor.run(extract_batch, batches, setup=build_families,
                                                               setup_args=(specs, audio, device),
                                                               resources=device.resources())))
            _follow(results, _Recorder(writer, report, transcripts, hashes, timings), bar, seconds_todo, by_audio)
        finally:
            stack.close()  # workers end here, on success, error or Ctrl-C
            bar.close()
            writer.flush()  # keep every finished utterance, also on Ctrl-C
            write_errors(store, report.errors)
        for name in metas:
            writer.consolidate(name, list(table["id"]), hashes[name])
        timings.record(store, {name: meta.config_hash for name, meta in metas.items()})
        report.messages = notes + writer.messages
    report.wall_seconds = time.perf_counter() - start
    return report


def _clip_hashes(table: pd.DataFrame, metas: dict, transcripts: dict, file_hashes: dict) -> dict[str, dict[str, str]]:
    """{family: {id: per-clip hash}}: an audio family's is its file's hash ('missing' without a file, each file
    hashed once through `file_hashes`), a text family's its transcript's ('' for a clip without one)."""
    audio_families = [n for n in metas if n not in transcripts]
    hashes: dict[str, dict[str, str]] = {name: {} for name in metas}
    for row in table.itertuples():
        if audio_families:
            if row.path not in file_hashes:
                file_hashes[row.path] = file_hash(row.path) if os.path.isfile(row.path) else "missing"
            for name in audio_families:
                hashes[name][row.id] = file_hashes[row.path]
        for name, chosen in transcripts.items():
            hashes[name][row.id] = "" if chosen[row.id].problem else text_hash(chosen[row.id].text)
    return hashes


def _todo(table: pd.DataFrame, metas: dict, done: dict, hashes: dict) -> list[tuple[str, str, tuple[str, ...]]]:
    """[(id, path, families)] of the clips that some family has not stored with their current hash, in table order."""
    todo = []
    for row in table.itertuples():
        needed = tuple(n for n in metas if done[n].get(row.id) != hashes[n][row.id])
        if needed:
            todo.append((row.id, row.path, needed))
    return todo


def _by_length(todo: list, table: pd.DataFrame, transcripts: dict, by_audio: bool) -> list:
    """`todo` with similar lengths together, so that padding inside a batch stays small: by duration, or in a
    text-only run by the longest of a clip's transcripts."""
    if by_audio:
        duration = dict(zip(table["id"], table["duration"].fillna(0.0)))
        return sorted(todo, key=lambda item: duration[item[0]])
    return sorted(todo, key=lambda item: max(len(chosen[item[0]].text) for chosen in transcripts.values()))


def _batches(todo: list, transcripts: dict, audio: AudioConfig, batch_size: int) -> list[ClipBatch]:
    """`todo` cut into ClipBatches of `batch_size` clips, each with the transcripts its text families read."""
    def batch_of(items: list) -> ClipBatch:
        texts = tuple((uid, name, transcripts[name][uid].text, transcripts[name][uid].problem)
                      for uid, _, needed in items for name in needed if name in transcripts)
        return ClipBatch(tuple(items), audio, texts)

    return [batch_of(todo[i:i + batch_size]) for i in range(0, len(todo), max(batch_size, 1))]


@dataclass
class _Recorder:
    """Where a finished clip goes: its arrays to the store (under the hash that marks them done), its failures and
    its seconds of audio to the report."""

    writer: StoreWriter
    report: ExtractionReport
    transcripts: dict
    hashes: dict
    timings: RunTimings  # what each family's extraction took (store.timings)

    def __call__(self, uid: str, path: str, result: tuple[dict, dict, float, dict, dict]) -> None:
        arrays, errors, seconds, tokens, took = result
        self.timings.add(uid, took)
        for name, array in arrays.items():
            text = None
            if name in tokens:
                chosen = self.transcripts[name][uid]
                text = TextRecord(tuple(tokens[name]), chosen.text, chosen.source)
            self.writer.add(name, uid, self.hashes[name][uid], array, text=text)
        for name, reason in errors.items():
            self.report.errors.append(dict(id=uid, path=path, family=name, reason=reason))
        self.report.failed += bool(errors)
        self.report.extracted += not errors
        self.report.audio_seconds += seconds


def _follow(results, record: _Recorder, bar: LateBar, seconds_todo: float, by_audio: bool) -> None:
    """Record each batch as it finishes and move the bar: audio seconds per second, or in a text-only run clips
    per second."""
    report = record.report
    for n_done, items in enumerate(results, start=1):
        for item in items:
            record(*item)
        if bar.start():  # models are loaded and compiled by now: the rate and ETA count from here
            first_audio, first_clips = report.audio_seconds, len(items)
        bar.update(len(items))
        elapsed = bar.elapsed
        note = (progress_note(report, seconds_todo, first_audio, elapsed, n_done) if by_audio else
                clip_note(report.failed, bar.total, bar.n, first_clips, elapsed, n_done))
        bar.note(note)
