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

import dataclasses
import os
import time
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from featbench.audio import AudioConfig, AudioProblem, file_hash, load
from featbench.device import CPU, Device
from featbench.executors import Executor, resolve_executor
from featbench.extract_conditions import ConditionPlan, build_workshop, extract_conditioned, plan_conditions
from featbench.extract_steps import ClipBatch, build_families, extract_family  # noqa: F401 (re-exported)
from featbench.features import FAMILIES, InputKind, build_family
from featbench.features.plugins import setting_up
from featbench.features.text_family import text_hash
from featbench.transcript_inputs import check_transcripts, sources_note
from featbench.progress import LateBar, clip_note, progress_note, speed_text
from featbench.store import ERRORS_FILE, FamilyMeta, StoreWriter, write_corpus, write_errors
from featbench.store.conditions import read_conditions, write_conditions
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
        extract_family(families[name], name, batch, signals, texts, results)
        done = [uid for uid, _, _ in batch.items if name in results[uid][0]]
        spent.update({uid: {**spent[uid], name: (time.perf_counter() - start) / len(done)} for uid in done})
    return [(uid, path, (results[uid][0], results[uid][1], seconds.get(uid, 0.0), results[uid][2], spent[uid]))
            for uid, path, _ in batch.items]


def run_extraction(table: pd.DataFrame, specs: list[tuple[str, dict]], store: str | Path,
                   audio: AudioConfig = AudioConfig(), executor: Executor | None = None, progress: bool = True,
                   flush_utterances: int = 64, batch_size: int = 1, metas: dict | None = None, *,
                   jobs: int | None = None, cluster: Executor | None = None, device: Device = CPU,
                   conditions=None, condition_seed: int = 0, n_folds: int | None = None) -> ExtractionReport:
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
    `conditions` (None: clean, as before) extracts every family under every condition, seeded by
    `condition_seed`, on the folds of `n_folds` (`featbench.extract_conditions`). Returns an ExtractionReport.
    """
    start = time.perf_counter()
    executor = resolve_executor(executor, jobs, cluster, caller="run_extraction")
    store = Path(store)
    report = ExtractionReport(store=store, utterances=len(table))
    metas = metas or check_families(specs, audio)  # the run's families live in the executor, built once there
    file_hashes: dict[str, str] = {}
    transcripts = check_transcripts(table, specs, store, audio, file_hashes)  # before the store is opened
    plan = plan_conditions(conditions, table, metas, transcripts, condition_seed, n_folds)  # None: clean alone
    _check_records(store, plan)  # timings.csv and conditions.json, written to later: refused before any clip
    notes, by_audio = [sources_note(n, chosen) for n, chosen in transcripts.items()], any(n not in transcripts for n in metas)
    units = plan.metas if plan else metas  # {stored name: FamilyMeta}
    with StoreWriter(store, flush_utterances=flush_utterances) as writer:
        done = {name: writer.prepare(meta) for name, meta in units.items()}
        write_corpus(store, table)
        hashes = _clip_hashes(table, metas, transcripts, file_hashes)
        if plan:  # the conditions recorded before any of their clips is stored
            hashes = _recorded(plan, table, store, hashes, file_hashes)
        todo = _todo(table, units, done, hashes)
        report.already_done = len(table) - len(todo)
        if batch_size > 1:
            todo = _by_length(todo, table, transcripts, by_audio)
        batches = _batches(todo, transcripts, audio, batch_size)
        seconds_todo = float(table.set_index("id").loc[[item[0] for item in todo], "duration"].fillna(0.0).sum())
        bar, stack, timings = LateBar(len(todo), "extract", progress), ExitStack(), RunTimings(table)
        work, setup, setup_args = _work(plan, specs, audio, device)
        try:
            results = stack.enter_context(closing(executor.run(work, batches, setup=setup, setup_args=setup_args,
                                                               resources=device.resources())))
            _follow(results, _Recorder(writer, report, transcripts, hashes, timings), bar, seconds_todo, by_audio)
        finally:
            stack.close()  # workers end here, on success, error or Ctrl-C
            bar.close()
            writer.flush()  # keep every finished utterance, also on Ctrl-C
            write_errors(store, report.errors)
        for name in units:
            writer.consolidate(name, list(table["id"]), hashes[name])
        timings.record(store, {name: meta.config_hash for name, meta in units.items()})
        report.messages = notes + writer.messages
    report.wall_seconds = time.perf_counter() - start
    return report


def _check_records(store: Path, plan: ConditionPlan | None) -> None:
    """Refuse (one line) a store whose timings.csv, or conditions.json in a run under conditions, is damaged."""
    check_timings(store)
    if plan is not None:
        read_conditions(store)


def _work(plan: ConditionPlan | None, specs: list, audio: AudioConfig, device: Device) -> tuple:
    """(work, setup, setup args) of the executor: plain extraction, or extraction under the plan's conditions."""
    if plan is None:
        return extract_batch, build_families, (specs, audio, device)
    return extract_conditioned, build_workshop, (specs, audio, device, dataclasses.replace(plan, metas={}))


def _recorded(plan: ConditionPlan, table: pd.DataFrame, store: Path, hashes: dict, file_hashes: dict) -> dict:
    """The per-clip hashes of the plan's stored families, after its conditions are written to conditions.json."""
    write_conditions(store, plan.records(table, store))
    return plan.hashes(table, hashes, file_hashes)


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
