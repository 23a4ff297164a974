"""The transcripts an extraction's text families read: which clips have one, from the corpus table or the
store's ASR transcripts, and whether an ASR transcript still fits its audio file.

>>> text_families([("fbank", {}), ("text", {})])
['text']
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from featbench.audio import AudioConfig, file_hash
from featbench.features import InputKind, build_family
from featbench.features.text_family import TextSource, Transcript, choose_transcripts
from featbench.store import read_transcripts


def text_families(specs: list[tuple[str, dict]]) -> list[str]:
    """Names of the families in `specs` that read transcripts (built-in or plug-in; an unknown name is a one-line
    FeatbenchError)."""
    from featbench.features import family_class

    return [name for name, _ in specs if family_class(name).input is InputKind.TEXT]


def check_transcripts(table: pd.DataFrame, specs: list[tuple[str, dict]], store: str | Path,
                      audio: AudioConfig = AudioConfig(), file_hashes: dict | None = None) -> dict[str, dict[str, Transcript]]:
    """{text family: {id: Transcript}} for every utterance of `table`, by each text family's ``source``:
    the table's ``transcript`` column and the store's ``transcripts.csv`` (`read_transcripts`).

    A corpus with no transcript at all for a family's source raises FeatbenchError (one line, nothing
    read or written); a clip without one gets a Transcript with a `problem`, recorded as its failure. An
    ASR transcript made from an earlier version of a clip's audio file (its audio hash differs) is such a
    problem. `file_hashes` ({path: hash}) is filled and reused, so that no audio file is hashed twice.
    """
    names = text_families(specs)
    if not names:
        return {}
    file_hashes = {} if file_hashes is None else file_hashes
    ids = list(table["id"])
    corpus = dict(zip(table["id"], table["transcript"] if "transcript" in table else [""] * len(table)))
    paths = dict(zip(table["id"], table["path"]))
    rows = read_transcripts(store)
    rows = rows[rows["id"].isin(set(ids))]
    options = dict(specs)
    chosen = {}
    for name in names:
        source = getattr(build_family(name, options[name], audio), "source", TextSource.AUTO)
        asr = {}
        for row in rows.itertuples():
            if source is TextSource.CORPUS or (source is TextSource.AUTO and str(corpus[row.id]).strip()):
                continue  # the ASR transcript is not read for this clip: no need to check it
            asr[row.id] = (row.text, row.model, _stale(paths[row.id], row.audio_hash, file_hashes))
        chosen[name] = choose_transcripts(source, ids, corpus, asr, family=name, store=str(store))
    return chosen


def _stale(path: str, audio_hash: str, file_hashes: dict) -> str:
    """Why an ASR transcript no longer fits its clip ('' when it does, or when the file cannot be hashed)."""
    if not audio_hash or not os.path.isfile(path):
        return ""
    if path not in file_hashes:
        file_hashes[path] = file_hash(path)
    if file_hashes[path] != audio_hash:
        return "the ASR transcript was made from an earlier version of the audio file; run `featbench transcribe` again"
    return ""


def sources_note(name: str, transcripts: dict[str, Transcript]) -> str:
    """One line: how many transcripts came from where.

    >>> sources_note("text", {"a": Transcript("Hi.", "corpus"), "b": Transcript("", "asr", "no ASR transcript")})
    'text: transcripts from corpus for 1 clip, none for 1'
    """
    counts: dict[str, int] = {}
    for t in transcripts.values():
        key = "none" if t.problem else t.source
        counts[key] = counts.get(key, 0) + 1
    parts = [f"from {k} for {n} clip{'s' * (n != 1)}" for k, n in sorted(counts.items()) if k != "none"]
    if "none" in counts:
        parts.append(f"none for {counts['none']}")
    return f"{name}: transcripts " + ", ".join(parts)
