"""Speech-recognition transcripts kept in a store: ``<store>/transcripts.csv``, one row per clip and ASR
model, appended as clips finish (kill -9 safe, resumable: see featbench.append_only).

Columns: id, text, language (the language decoded or detected), model (the folder's name),
model_fingerprint (featbench.features.pretrained_options.fingerprint of the model folder), audio_hash
(the clip's file hash: a changed clip is transcribed again), seconds (audio duration), featbench_version.
The resume key is (id, model_fingerprint, audio_hash).

>>> import tempfile
>>> store = tempfile.mkdtemp()
>>> row = {"id": "a", "text": "Kids are talking by the door.", "language": "en", "model": "whisper-base",
...        "model_fingerprint": "f1", "audio_hash": "h1", "seconds": 3.2, "featbench_version": "0"}
>>> with TranscriptsFile(transcripts_path(store)) as log:
...     log.append([row])
>>> read_transcripts(store)[["id", "text"]].values.tolist()
[['a', 'Kids are talking by the door.']]
"""
from __future__ import annotations

import contextlib
import csv
from pathlib import Path

import pandas as pd

from featbench.append_only import AppendOnlyCsv, read_text, split_tail

TRANSCRIPTS_FILE = "transcripts.csv"
TRANSCRIPT_COLUMNS = ["id", "text", "language", "model", "model_fingerprint", "audio_hash", "seconds", "featbench_version"]


LONGEST_FIELD = 2 ** 31 - 1  # the csv module's own limit is 131,072 characters: an hour of speech says more


@contextlib.contextmanager
def _long_fields():
    """Within the block the csv module reads fields of any length (a transcript of a long recording)."""
    previous = csv.field_size_limit(LONGEST_FIELD)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


class TranscriptsFile(AppendOnlyCsv):
    """The single writer of ``<store>/transcripts.csv``; it reads transcripts of any length."""

    columns = TRANSCRIPT_COLUMNS
    key = ["id", "model_fingerprint", "audio_hash"]
    what = "transcripts file"

    def parse(self, text: str) -> pd.DataFrame:
        with _long_fields():
            return super().parse(text)

    def _open_rows(self) -> None:
        with _long_fields():
            super()._open_rows()


def transcripts_path(store: str | Path) -> Path:
    return Path(store) / TRANSCRIPTS_FILE


def _rows(store: str | Path) -> pd.DataFrame:
    """Every complete row of the store's transcripts (all text); a torn last line (a killed run) is ignored."""
    path = transcripts_path(store)
    complete = split_tail(read_text(path, "transcripts file"))[0] if path.is_file() else ""
    return TranscriptsFile(path).parse(complete) if complete else pd.DataFrame(columns=TRANSCRIPT_COLUMNS)


def read_transcripts(store: str | Path) -> pd.DataFrame:
    """The transcripts of a store (all text), the last row per id, whatever model wrote it; an empty frame
    when the store has none."""
    return _rows(store).drop_duplicates("id", keep="last").reset_index(drop=True)


def model_transcripts(store: str | Path, model_fingerprint: str) -> pd.DataFrame:
    """The last row per id written by one model (all text); an empty frame when that model wrote none
    (what a run of a new model resumes from).

    >>> import tempfile
    >>> model_transcripts(tempfile.mkdtemp(), "f1").empty
    True
    """
    rows = _rows(store)
    rows = rows[rows["model_fingerprint"] == model_fingerprint]
    return rows.drop_duplicates("id", keep="last").reset_index(drop=True)


def write_transcription_errors(store: str | Path, errors: list[dict], family: str = "transcribe") -> Path:
    """Replace the `family` rows of ``errors.csv`` with `errors`, keeping the rows other commands wrote
    (an extraction's failures survive a transcription run).

    >>> import tempfile
    >>> from featbench.store.tables import write_errors
    >>> d = tempfile.mkdtemp()
    >>> _ = write_errors(d, [dict(id="a", path="a.wav", family="fbank", reason="silent clip")])
    >>> _ = write_transcription_errors(d, [dict(id="b", path="b.wav", family="transcribe", reason="missing file")])
    >>> pd.read_csv(Path(d) / "errors.csv")[["id", "family"]].values.tolist()
    [['a', 'fbank'], ['b', 'transcribe']]
    """
    from featbench.store.tables import ERROR_COLUMNS, ERRORS_FILE, write_errors

    path = Path(store) / ERRORS_FILE
    kept: list[dict] = []
    if path.is_file():
        try:
            earlier = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
            earlier = pd.DataFrame(columns=ERROR_COLUMNS)  # unreadable: replaced, as write_errors would
        if list(earlier.columns) == ERROR_COLUMNS:
            kept = earlier[earlier["family"] != family].to_dict("records")
    return write_errors(store, kept + list(errors))
