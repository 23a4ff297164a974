"""Speech recognition into a store: Whisper transcripts in ``<store>/transcripts.csv``, resumable, kill -9 safe.

A local Hugging Face Whisper folder (weights, tokenizer, feature extractor and generation config, e.g.
``../shared/models/whisper-base``) transcribes every clip of a corpus table: greedy decoding (one beam, no
sampling, no temperature fallback), task "transcribe", audio decoded as for `featbench extract`
(featbench.audio.load, 16 kHz). Unusable clips go to ``errors.csv`` (family ``transcribe``); the run goes on.

- Language: forced (``language="en"``, or a name such as "english") or detected per clip from its first 30 s,
  and stored per clip. A clip is done when this model (fingerprint) has its text for the current audio
  (hash) and, if a language is forced, in that language; forcing another one transcribes it again.
- Long clips (> 30 s) are transcribed whole, one at a time, with Whisper's sequential long-form decoding
  (each next 30 s window starts at the last timestamp the model predicted, so no word is cut at a fixed
  boundary), greedy, not conditioned on the previous window's text.
- Batches: Whisper pads every clip to 30 s of log-Mel frames, so clips of any length up to 30 s batch
  without padding of their own. Batches are cut from the whole table in id order, whatever is already
  stored, so a resumed run decodes the same batches as an uninterrupted one and gets identical text.
- Rows are appended one write per batch as batches finish (featbench.append_only) with the store folder
  locked (transcribe and extract never write one store at once): kill -9 loses the batches in flight only.
- Word error rate: where the corpus table's ``transcript`` column holds a reference (RAVDESS sentences,
  IEMOCAP, a csv manifest), the report gives the WER of this model's stored transcripts (`word_error_rate`).

>>> from featbench.corpus import load_corpus
>>> table = load_corpus("ravdess", "../shared/data/ravdess", ["neutral"]).head(4)          # doctest: +SKIP
>>> report = run_transcription(table, "../shared/models/whisper-base", "store", language="en")  # doctest: +SKIP
>>> report.transcribed, report.failed, report.wer_clips                                      # doctest: +SKIP
(4, 0, 4)
>>> word_error_rate(["Kids are talking by the door"], ["Kids are talking by the door."])
0.0
"""
from __future__ import annotations

import os
import re
import time
import unicodedata
from collections import Counter
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterable

import numpy as np
import pandas as pd

from featbench.asr_model import AsrModel, check_asr_model, load_asr, quiet_transformers
from featbench.audio import AudioConfig, AudioProblem, file_hash, load
from featbench.device import CPU, Device, place_like
from featbench.errors import FeatbenchError
from featbench.executors import Executor, resolve_executor
from featbench.progress import LateBar, progress_note, speed_text
from featbench.store import ERRORS_FILE, StoreWriter, TranscriptsFile, transcripts_path, write_corpus
from featbench.store.transcripts import model_transcripts, write_transcription_errors

FAMILY = "transcribe"  # the family column of errors.csv
SAMPLE_RATE = 16000
WINDOW_SECONDS = 30.0  # Whisper's input window
AUDIO = AudioConfig(sample_rate=SAMPLE_RATE)


# ---------------------------------------------------------------------------------------------- word error rate

def normalise_text(text: str) -> str:
    """Lower-case, apostrophes dropped, other punctuation and symbols turned into spaces, whitespace collapsed.

    >>> normalise_text("  Kids are talking -- by the DOOR! Don't.")
    'kids are talking by the door dont'
    """
    text = unicodedata.normalize("NFKC", str(text)).lower()
    text = re.sub(r"['\u2019`]", "", text)
    text = "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in text)
    return " ".join(text.split())


def word_error_rate(references: Iterable[str], hypotheses: Iterable[str]) -> float:
    """Corpus-level word error rate (word edits over reference words, with jiwer) after `normalise_text`.

    Pairs whose reference is empty after normalisation are left out; NaN when no pair is left.

    >>> word_error_rate(["Kids are talking by the door", "Dogs are sitting by the door"],
    ...                 ["kids are talking by the door.", "Dogs are sitting by a door"])
    0.08333333333333333
    >>> word_error_rate([""], ["anything"])
    nan
    """
    import jiwer

    pairs = [(normalise_text(r), normalise_text(h)) for r, h in zip(references, hypotheses)]
    pairs = [(r, h) for r, h in pairs if r]
    if not pairs:
        return float("nan")
    return float(jiwer.wer([r for r, _ in pairs], [h for _, h in pairs]))


# ---------------------------------------------------------------------------------------------- decoding

def _generate_kwargs(spec: AsrModel, languages: list[str]) -> dict:
    """Greedy decoding, task transcribe, one language per clip (English-only models take neither)."""
    kwargs = dict(num_beams=1, do_sample=False)
    if spec.multilingual:
        kwargs.update(task="transcribe", language=languages)
    return kwargs


def _detect(model, spec: AsrModel, encoder_outputs) -> list[str]:
    """The language token the model predicts first for each clip (the forced one if given)."""
    n = encoder_outputs.last_hidden_state.shape[0]
    if spec.language is not None or not spec.multilingual:
        return [spec.language or "en"] * n
    ids = model.detect_language(encoder_outputs=encoder_outputs)
    names = {v: k.strip("<|>") for k, v in model.generation_config.lang_to_id.items()}
    return [names[int(i)] for i in ids]


def _one_line(text: str) -> str:
    """Stored text: whitespace (newlines included) collapsed to single spaces, so that a row is one line.

    >>> _one_line(" Kids are talking" + chr(10) + "by  the door. ")
    'Kids are talking by the door.'
    """
    return " ".join(text.split())


def transcribe_signals(loaded: tuple, signals: list[np.ndarray]) -> list[tuple[str, str]]:
    """[(text, language)] for 16 kHz signals of at most 30 s, decoded together: one encoder pass serves language
    detection and decoding, and one decoder call per batch (transformers would otherwise start a second
    window after a stray timestamp token, which only untrained models emit)."""
    import torch

    model, processor, spec = loaded
    features = processor.feature_extractor(signals, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
    features = place_like(features, model)  # on the model's device (--device)
    with torch.no_grad(), quiet_transformers():
        encoded = model.get_encoder()(features)
        languages = _detect(model, spec, encoded)
        tokens = model.generate(encoder_outputs=encoded, force_unique_generate_call=True,  # one window, one call
                                **_generate_kwargs(spec, languages))
    texts = processor.batch_decode(tokens.cpu(), skip_special_tokens=True)
    return [(_one_line(text), language) for text, language in zip(texts, languages)]


def transcribe_long(loaded: tuple, signal: np.ndarray) -> tuple[str, str]:
    """(text, language) of one clip longer than 30 s: Whisper's sequential long-form decoding, greedy, with
    timestamps (they move each next window), not conditioned on the previous window's text; the language
    is detected from the first 30 s."""
    import torch

    model, processor, spec = loaded
    window = int(WINDOW_SECONDS * SAMPLE_RATE)
    first = processor.feature_extractor(signal[:window], sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
    whole = processor.feature_extractor(signal, sampling_rate=SAMPLE_RATE, return_tensors="pt", truncation=False,
                                        padding="longest", return_attention_mask=True)
    with torch.no_grad(), quiet_transformers():
        language = _detect(model, spec, model.get_encoder()(place_like(first, model)))[0]
        kwargs = _generate_kwargs(spec, [language])
        if spec.multilingual:
            kwargs["language"] = language
        tokens = model.generate(place_like(whole.input_features, model), return_timestamps=True,
                                attention_mask=place_like(whole.attention_mask, model),
                                condition_on_prev_tokens=False, temperature=0.0, **kwargs)
    sequences = tokens["sequences"] if isinstance(tokens, dict) else tokens
    return _one_line(processor.batch_decode(sequences.cpu(), skip_special_tokens=True)[0]), language


@dataclass(frozen=True)
class ClipBatch:
    """One task: (id, path) of clips transcribed together."""

    items: tuple[tuple[str, str], ...]


def _reason(err: Exception) -> str:
    """The reason recorded for a clip; configuration errors are not per-clip failures and go up."""
    if isinstance(err, FeatbenchError):
        raise err
    return f"{type(err).__name__}: {err}"


def transcribe_batch(loaded: tuple, batch: ClipBatch) -> list[tuple[str, str, tuple | str]]:
    """[(id, path, (text, language, seconds) or the reason it failed)] for a batch of clips.

    Clips up to 30 s are decoded together; if that fails they are decoded one by one, so that a failure
    is reported against the clip that caused it. Longer clips go one at a time (`transcribe_long`).
    """
    signals, results = {}, {}
    for uid, path in batch.items:
        try:
            signals[uid] = load(path, AUDIO)
        except AudioProblem as err:
            results[uid] = str(err)
    window = int(WINDOW_SECONDS * SAMPLE_RATE)
    short = [uid for uid in signals if len(signals[uid]) <= window]
    try:
        decoded = dict(zip(short, transcribe_signals(loaded, [signals[u] for u in short]))) if short else {}
    except Exception as err:  # retried clip by clip below, where the failing clip's error is recorded
        _reason(err)
        decoded = {}
    for uid, signal in signals.items():
        try:
            if uid not in decoded:
                long = len(signal) > window
                decoded[uid] = transcribe_long(loaded, signal) if long else transcribe_signals(loaded, [signal])[0]
            results[uid] = (*decoded[uid], len(signal) / SAMPLE_RATE)
        except Exception as err:  # one clip failing must not stop the run; reported per clip
            results[uid] = _reason(err)
    return [(uid, path, results[uid]) for uid, path in batch.items]


# ---------------------------------------------------------------------------------------------- the run

@dataclass
class TranscriptionReport:
    """What a run did. `partial` is True when any clip could not be transcribed; `wer` is the word error rate
    of this model's stored transcripts of the table's clips that have a reference (`wer_clips` of them;
    NaN when none has)."""

    store: Path
    model: str = ""
    utterances: int = 0
    already_done: int = 0
    transcribed: int = 0
    failed: int = 0
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    languages: Counter = field(default_factory=Counter)
    wer: float = float("nan")
    wer_clips: int = 0
    errors: list[dict] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        return self.failed > 0

    def summary(self) -> str:
        """Counts, speed, languages, word error rate and where the failures are listed, one line each.

        >>> print(TranscriptionReport(Path("s"), "whisper-base", 6, 0, 6, 0, 21.0, 14.0, Counter(en=6), 0.05, 6).summary())
        s: 6 utterances, 0 already transcribed, 6 transcribed by whisper-base (21 s of audio in 14.0 s, 1.5x realtime), 0 failed
        languages: en 6
        word error rate 0.050 over 6 clips with a reference transcript
        """
        line = (f"{self.store}: {self.utterances} utterances, {self.already_done} already transcribed, {self.transcribed} "
                f"transcribed by {self.model} ({speed_text(self.audio_seconds, self.wall_seconds)}), {self.failed} failed")
        if self.failed:
            line += f" (see {self.store / ERRORS_FILE})"
        lines = [*self.messages, line]
        if self.languages:
            lines.append("languages: " + ", ".join(f"{k} {n}" for k, n in self.languages.most_common()))
        if self.wer_clips:
            lines.append(f"word error rate {self.wer:.3f} over {self.wer_clips} clip{'s' if self.wer_clips != 1 else ''} "
                         "with a reference transcript")
        else:
            lines.append("no word error rate: no clip has both a reference (the corpus table's transcript column) "
                         "and a stored transcript")
        return "\n".join(lines)


def _row(spec: AsrModel, uid: str, audio_hash: str, text: str, language: str, seconds: float) -> dict:
    from featbench import __version__

    return dict(id=uid, text=text, language=language, model=spec.name, model_fingerprint=spec.fingerprint,
                audio_hash=audio_hash, seconds=f"{seconds:.3f}", featbench_version=__version__)


def _done(stored: pd.DataFrame, spec: AsrModel, hashes: dict[str, str]) -> set[str]:
    """Ids whose transcript by this model is stored for the current audio (and in the forced language)."""
    done = stored[stored["audio_hash"] == stored["id"].map(hashes)]
    if spec.language is not None:
        done = done[done["language"] == spec.language]
    return set(done["id"])


def _score(report: TranscriptionReport, table: pd.DataFrame, stored: pd.DataFrame) -> None:
    """The word error rate of the stored transcripts of the table's clips that have a reference."""
    text = dict(zip(stored["id"], stored["text"]))
    scored = [(ref, text[uid]) for uid, ref in zip(table["id"], table["transcript"]) if str(ref).strip() and uid in text]
    report.wer_clips = len(scored)
    report.wer = word_error_rate(*zip(*scored)) if scored else float("nan")


def run_transcription(table: pd.DataFrame, model: str | Path | AsrModel, store: str | Path, language: str | None = None,
                      executor: Executor | None = None, batch_size: int = 8, progress: bool = True, *,
                      jobs: int | None = None, cluster: Executor | None = None, device: Device = CPU) -> TranscriptionReport:
    """Transcribe every clip of `table` (the utterance table) with a Whisper folder into ``<store>/transcripts.csv``.

    `model` is a folder (checked here with `language`) or the AsrModel from `check_asr_model` (which holds
    the language). Clips already transcribed by this model (same fingerprint, same audio hash, and the same
    language when one is forced) are skipped. The batches run on `executor` (`featbench.executors`: default
    `Local()`, this process; the deprecated `jobs=N` is `Local(N)`, `cluster=c` is `c`); Whisper on `device`.
    The store folder is locked for the run, the corpus table is merged into ``corpus.csv``, failures are
    listed in ``errors.csv`` (family ``transcribe``; other commands' rows are kept). Returns a
    TranscriptionReport.
    """
    start = time.perf_counter()
    executor = resolve_executor(executor, jobs, cluster, caller="run_transcription")
    spec = model if isinstance(model, AsrModel) else check_asr_model(model, language)
    store = Path(store)
    report = TranscriptionReport(store=store, model=spec.name, utterances=len(table))
    with StoreWriter(store), TranscriptsFile(transcripts_path(store)) as log:
        report.messages += log.notes
        write_corpus(store, table)
        hashes = {row.id: file_hash(row.path) if os.path.isfile(row.path) else "missing" for row in table.itertuples()}
        done = _done(model_transcripts(store, spec.fingerprint), spec, hashes)
        report.already_done = len(done)
        batches = _batches(table, done, batch_size)
        todo = [uid for b in batches for uid, _ in b.items]
        seconds_todo = float(table.set_index("id").loc[todo, "duration"].fillna(0.0).sum())
        bar, stack = LateBar(len(todo), FAMILY, progress), ExitStack()
        try:
            results = stack.enter_context(closing(executor.run(transcribe_batch, batches, setup=load_asr,
                                                               setup_args=(spec, device), resources=device.resources())))
            for n_done, outcome in enumerate(results, start=1):
                log.append(_record(outcome, spec, hashes, report))  # one write: a killed run leaves whole rows
                if bar.start():  # the model is loaded by now: the rate and ETA count from here
                    first_audio = report.audio_seconds
                bar.update(len(outcome))
                bar.note(progress_note(report, seconds_todo, first_audio, bar.elapsed, n_done))
        finally:
            stack.close()  # workers end here, on success, error or Ctrl-C
            bar.close()
            write_transcription_errors(store, report.errors, FAMILY)
        _score(report, table, model_transcripts(store, spec.fingerprint))
    report.wall_seconds = time.perf_counter() - start
    return report


def _batches(table: pd.DataFrame, done: set[str], batch_size: int) -> list[ClipBatch]:
    """The ClipBatches of the clips not `done`: cut from the whole table in id order, whatever is already stored, so
    that a resumed run decodes the same batches as an uninterrupted one."""
    items = list(zip(table["id"], table["path"]))
    size = max(batch_size, 1)
    batches = [ClipBatch(tuple(i for i in items[k:k + size] if i[0] not in done)) for k in range(0, len(items), size)]
    return [b for b in batches if b.items]


def _record(outcome: list, spec: AsrModel, hashes: dict[str, str], report: TranscriptionReport) -> list[dict]:
    """The transcript rows of a finished batch; its failures, languages and seconds of audio go to `report`."""
    rows = []
    for uid, path, result in outcome:
        if isinstance(result, str):
            report.errors.append(dict(id=uid, path=path, family=FAMILY, reason=result))
            continue
        text, lang, seconds = result
        rows.append(_row(spec, uid, hashes[uid], text, lang, seconds))
        report.languages[lang] += 1
        report.audio_seconds += seconds
    report.transcribed += len(rows)
    report.failed += len(outcome) - len(rows)
    return rows
