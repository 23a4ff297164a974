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

from pathlib import Path

import pandas as pd

from featbench.append_only import AppendOnlyCsv, read_text, split_tail
from featbench.errors import FeatbenchError

TRANSCRIPTS_FILE = "transcripts.csv"
TRANSCRIPT_COLUMNS = ["id", "text", "language", "model", "model_fingerprint", "audio_hash", "seconds", "featbench_version"]


class TranscriptsFile(AppendOnlyCsv):
    """The single writer of ``<store>/transcripts.csv``."""

    columns = TRANSCRIPT_COLUMNS
    key = ["id", "model_fingerprint", "audio_hash"]
    what = "transcripts file"


def transcripts_path(store: str | Path) -> Path:
    return Path(store) / TRANSCRIPTS_FILE


def read_transcripts(store: str | Path, model_fingerprint: str | None = None) -> pd.DataFrame:
    """The transcripts of a store (all text), the last row per id (of one model when a fingerprint is given);
    an empty frame when the store has none. A torn last line (a killed run) is ignored."""
    path = transcripts_path(store)
    if not path.is_file():
        return pd.DataFrame(columns=TRANSCRIPT_COLUMNS)
    complete, _ = split_tail(read_text(path, "transcripts file"))
    rows = TranscriptsFile(path).parse(complete) if complete else pd.DataFrame(columns=TRANSCRIPT_COLUMNS)
    if model_fingerprint is not None:
        rows = rows[rows["model_fingerprint"] == model_fingerprint]
    if rows.empty and model_fingerprint is not None and path.stat().st_size and complete:
        fingerprints = ", ".join(sorted(TranscriptsFile(path).parse(complete)["model_fingerprint"].unique()))
        raise FeatbenchError(f"{path}: no transcripts by the model with fingerprint {model_fingerprint} "
                             f"(present: {fingerprints or 'none'})")
    return rows.drop_duplicates("id", keep="last").reset_index(drop=True)
