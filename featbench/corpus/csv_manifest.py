"""A generic CSV manifest: one row per utterance, paths relative to the CSV file.

Required columns: path, label (or emotion), speaker. Optional: id (default: path without suffix, or
with it where two paths differ only in their suffix), group (default: speaker), gender, duration,
transcript. Any other column (arousal, valence, ...) is kept as text in the corpus table and the
store's corpus.csv, for `featbench train --target`. Blank lines are skipped. Before any audio is read,
the manifest is checked for empty labels, missing audio files and duplicate paths; each is reported with
its spreadsheet row numbers (the header is row 1).

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "m.csv").write_text("path,emotion,speaker\\na.wav,sad,s1\\n")
>>> _ = (d / "a.wav").write_bytes(b"")
>>> load(d / "m.csv")[0]["label"], load(d / "m.csv")[0]["path"] == str(d / "a.wav")
('sad', True)
>>> _ = (d / "m.csv").write_text("path,emotion,speaker,arousal\\na.wav,sad,s1,2.5\\n")
>>> load(d / "m.csv")[0]["arousal"]
'2.5'
>>> _ = (d / "m.csv").write_text("path,emotion,speaker\\na.wav,sad,s1\\nb.wav,,s1\\na.wav,sad,s2\\n")
>>> load(d / "m.csv")  # doctest: +ELLIPSIS
Traceback (most recent call last):
featbench.errors.FeatbenchError: .../m.csv: empty label in row 3; missing audio file in row 3 (b.wav); duplicate path in rows 2, 4 (a.wav)
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from featbench.corpus._files import clip_ids
from featbench.errors import FeatbenchError

MAX_ROWS_SHOWN = 10
KNOWN = ("id", "path", "label", "speaker", "group", "gender", "duration", "transcript")  # the table's own columns


def rows_text(rows: list[int], limit: int = MAX_ROWS_SHOWN) -> str:
    """'row 3', 'rows 3, 7', or the first `limit` numbers and 'and N more'.

    >>> rows_text([3]), rows_text([3, 7]), rows_text(list(range(2, 15)), limit=3)
    ('row 3', 'rows 3, 7', 'rows 2, 3, 4 and 10 more')
    """
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"{'row' if len(rows) == 1 else 'rows'} {shown}{more}"


def manifest_problems(frame: pd.DataFrame, base: Path, require_files: bool = True) -> list[str]:
    """Empty labels, missing audio files (blank paths always; absent files when require_files) and
    duplicate paths, one phrase per kind found. The frame's index + 2 is the spreadsheet row."""
    def row_numbers(mask) -> list[int]:
        return [int(i) + 2 for i in frame.index[mask]]

    paths = frame["path"]
    blank = paths.str.strip() == ""
    resolved = pd.Series([str((base / p).resolve()) for p in paths], index=frame.index)
    missing = blank | (~resolved.map(lambda p: Path(p).is_file()) if require_files else False)
    duplicate = resolved.duplicated(keep=False) & ~blank
    problems = []
    if (empty_label := frame["label"].str.strip() == "").any():
        problems.append(f"empty label in {rows_text(row_numbers(empty_label))}")
    if missing.any():
        problems.append(f"missing audio file in {rows_text(row_numbers(missing))} ({paths[missing].iloc[0] or 'blank path'})")
    if duplicate.any():
        problems.append(f"duplicate path in {rows_text(row_numbers(duplicate))} ({paths[duplicate].iloc[0]})")
    return problems


def read_manifest(manifest: Path) -> tuple[Path, pd.DataFrame]:
    """Find the manifest (a .csv file, or a folder holding exactly one) and read it as strings, with the
    label column named 'label'; all-blank lines are dropped but keep their place in the row numbering."""
    if manifest.is_dir():
        candidates = sorted(manifest.glob("*.csv"))
        if len(candidates) != 1:
            raise FeatbenchError(f"{manifest}: expected one .csv manifest in the folder, found {len(candidates)}")
        manifest = candidates[0]
    if not manifest.is_file():
        raise FeatbenchError(f"{manifest}: manifest not found")
    try:
        frame = pd.read_csv(manifest, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise FeatbenchError(f"{manifest}: not a readable CSV ({str(err).splitlines()[0]})") from err
    original_columns = list(frame.columns)
    if "label" not in frame and "emotion" in frame:
        frame = frame.rename(columns={"emotion": "label"})
    for column in ("path", "label", "speaker"):
        if column not in frame:
            raise FeatbenchError(f"{manifest}: no column '{column}' (columns: {', '.join(original_columns)})")
    frame = frame.fillna("")
    return manifest, frame[~(frame == "").all(axis=1)]


def load(manifest: Path, require_files: bool = True) -> list[dict]:
    """Utterance rows of a manifest; a manifest problem is a one-line FeatbenchError naming its rows.

    require_files=False leaves absent audio files to extraction, which lists them in errors.csv.
    """
    manifest, frame = read_manifest(manifest)
    problems = manifest_problems(frame, manifest.parent, require_files)
    if problems:
        raise FeatbenchError(f"{manifest}: {'; '.join(problems)}")
    base = manifest.parent
    records = frame.to_dict("records")
    default_ids = iter(clip_ids([r["path"] for r in records if not r.get("id")]))
    rows = []
    for record in records:
        row = dict(id=record.get("id") or next(default_ids), path=str(base / record["path"]),
                   label=record["label"], speaker=record["speaker"])
        for optional in ("group", "gender", "duration", "transcript"):
            if record.get(optional, "") != "":
                row[optional] = record[optional]
        row.update((column, value) for column, value in record.items() if column not in row and column not in KNOWN)
        rows.append(row)
    return rows
