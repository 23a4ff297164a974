"""What a store's features cost: ``timings.csv`` (appended by `extract`, one row per run and family: the clips it
extracted, their audio in seconds and the seconds the family's extractor took on them, decoding excluded), and
`feature_costs`, which adds the family file's size per hour of its clips' audio. Stores made before featbench 0.3.0
have no timings: their extraction cost is unknown (''), their size per hour is still measured.

>>> import tempfile
>>> store = tempfile.mkdtemp()
>>> record_timings(store, [{"family": "fbank", "config_hash": "h", "clips": 2, "audio_seconds": 7.2,
...                         "extract_seconds": 0.04, "featbench_version": "0.3.0"}])
>>> extraction_seconds_per_audio_hour(read_timings(store), "fbank", "h"), extraction_seconds_per_audio_hour(read_timings(store), "raw", "h")
(20.0, None)
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from featbench.append_only import AppendOnlyCsv, read_text

TIMINGS_FILE = "timings.csv"
TIMING_COLUMNS = ["family", "config_hash", "clips", "audio_seconds", "extract_seconds", "featbench_version"]
EXTRACT, STORE = "extract_seconds_per_audio_hour", "store_mb_per_audio_hour"  # results.COST_COLUMNS


class TimingsFile(AppendOnlyCsv):
    """The single writer of a store's timings.csv (locked, repaired on open, rows appended in one write)."""

    columns = TIMING_COLUMNS
    key = ["family", "config_hash"]
    what = "timings file"


def record_timings(store: str | Path, rows: list[dict]) -> None:
    """Append one row per family of a run (TIMING_COLUMNS)."""
    if rows:
        with TimingsFile(Path(store) / TIMINGS_FILE) as timings:
            timings.append(rows)


class RunTimings:
    """What one extraction run spends per family: clips extracted, their seconds of audio (the corpus table's
    `duration`) and seconds of extraction (`add` each clip's); `record` appends them to the store's timings.csv."""

    def __init__(self, table: pd.DataFrame):
        self.durations = pd.to_numeric(table.set_index("id")["duration"], errors="coerce").fillna(0.0).to_dict()
        self.spent: dict[str, list] = {}

    def add(self, uid: str, took: dict[str, float]) -> None:
        """One clip: {family: seconds its extractor spent on it}."""
        for name, seconds in took.items():
            clips, audio, total = self.spent.get(name, (0, 0.0, 0.0))
            self.spent[name] = [clips + 1, audio + self.durations.get(uid, 0.0), total + seconds]

    def record(self, store: str | Path, config_hashes: dict[str, str]) -> None:
        """Append one row per family that extracted a clip (`config_hashes`: family -> its configuration's hash)."""
        from featbench import __version__

        record_timings(store, [dict(family=name, config_hash=config_hashes[name], clips=n, audio_seconds=round(a, 3),
                                    extract_seconds=round(t, 4), featbench_version=__version__)
                               for name, (n, a, t) in self.spent.items()])


def read_timings(store: str | Path) -> pd.DataFrame:
    """Every timing row of a store (numbers as numbers); empty where there is no timings.csv."""
    path = Path(store) / TIMINGS_FILE
    if not path.is_file():
        return pd.DataFrame(columns=TIMING_COLUMNS)
    text = read_text(path, "timings file")
    rows = TimingsFile(path).parse(text[:text.rfind("\n") + 1])
    for column in ("clips", "audio_seconds", "extract_seconds"):
        rows[column] = pd.to_numeric(rows[column], errors="coerce")
    return rows


def check_timings(store: str | Path) -> None:
    """A one-line FeatbenchError when the store's timings.csv is not one `extract` can append to (not UTF-8, another
    file's columns, a damaged line): called before any clip, so the refusal costs no work."""
    read_timings(store)


def extraction_seconds_per_audio_hour(timings: pd.DataFrame, family: str, config_hash: str) -> float | None:
    """Seconds of extraction per hour of audio of a family as configured (all its runs); None without timings."""
    part = timings[(timings["family"] == family) & (timings["config_hash"] == config_hash)]
    audio = float(part["audio_seconds"].sum())
    return round(float(part["extract_seconds"].sum()) / audio * 3600, 3) if audio > 0 else None


def feature_costs(store: str | Path, feature_sets: list) -> dict[str, float | str]:
    """{EXTRACT: seconds of extraction per hour of audio, STORE: megabytes in the store per hour of audio} of a view
    made of `feature_sets` (store.FeatureSet; summed over them), '' where one of them does not say."""
    from featbench.store.reader import family_path
    from featbench.store.tables import read_corpus

    corpus = read_corpus(store)
    durations = pd.to_numeric(corpus.set_index("id")["duration"], errors="coerce") if "duration" in corpus else None
    timings, extract, size = read_timings(store), 0.0, 0.0
    for fs in feature_sets:
        seconds = extraction_seconds_per_audio_hour(timings, fs.meta.family, fs.meta.config_hash)
        extract = None if seconds is None or extract is None else extract + seconds
        hours = float(durations.reindex(list(fs.ids)).sum()) / 3600 if durations is not None else 0.0
        path = family_path(store, fs.meta.family)
        size = size + path.stat().st_size / 1e6 / hours if size is not None and hours > 0 and path.is_file() else None
    return {EXTRACT: "" if extract is None else round(extract, 3), STORE: "" if size is None else round(size, 3)}
