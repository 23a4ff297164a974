"""A generic CSV manifest: one row per utterance, paths relative to the CSV file.

Required columns: path, label (or emotion), speaker. Optional: id (default: path without suffix, or
with it where two paths differ only in their suffix), group (default: speaker), gender, duration,
transcript. Any other column (arousal, valence, ...) is kept as text in the corpus table and the
store's corpus.csv, for `featbench train --target`. Blank lines are skipped. Before any audio is read,
the manifest is checked for empty labels or speakers, control characters (a line break, a tab, a NUL) in ids,
labels, speakers, groups and genders, paths the system cannot use (a NUL, a name too long), missing audio
files, duplicate paths, and durations that are not a number of seconds; each is reported with its spreadsheet
row numbers (the header is row 1). A row with more fields than the header is refused, never cut short. Paths
may lead out of the manifest's folder (`../audio/a.wav`, `/data/a.wav`): the manifest says which files a corpus
holds.

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

import math
import re
import warnings
from pathlib import Path

import pandas as pd

from featbench.corpus._files import clip_ids
from featbench.errors import FeatbenchError

MAX_ROWS_SHOWN = 10
KNOWN = ("id", "path", "label", "speaker", "group", "gender", "duration", "transcript")  # the table's own columns
NAMES = ("id", "label", "speaker", "group", "gender")  # columns that name things: no control characters
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


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
    checked = [_path_state(base, p, require_files) for p in paths]
    resolved = pd.Series([r for r, _ in checked], index=frame.index)
    unusable = pd.Series([state.startswith("unusable") for _, state in checked], index=frame.index)
    missing = blank | pd.Series([state == "missing" for _, state in checked], index=frame.index)
    duplicate = resolved.duplicated(keep=False) & ~blank & ~unusable
    problems = []
    for column in ("label", "speaker"):
        if (empty := frame[column].str.strip() == "").any():
            problems.append(f"empty {column} in {rows_text(row_numbers(empty))}")
    for column in (c for c in NAMES if c in frame):
        if (control := frame[column].str.contains(_CONTROL)).any():
            problems.append(f"a control character in the {column} of {rows_text(row_numbers(control))} "
                            f"({frame[column][control].iloc[0]!r})")
    if unusable.any():
        problems.append(f"{checked[frame.index.get_loc(unusable.idxmax())][1]} in {rows_text(row_numbers(unusable))}")
    if missing.any():
        first = shown(paths[missing].iloc[0]) or "blank path"
        problems.append(f"missing audio file in {rows_text(row_numbers(missing))} ({first})")
    if duplicate.any():
        problems.append(f"duplicate path in {rows_text(row_numbers(duplicate))} ({shown(paths[duplicate].iloc[0])})")
    if "duration" in frame and (bad := frame["duration"].map(_bad_duration)).any():
        problems.append(f"duration not a number of seconds in {rows_text(row_numbers(bad))} "
                        f"({frame['duration'][bad].iloc[0]!r})")
    return problems


def shown(text: str) -> str:
    """`text` as a message quotes it: as it is, or as Python writes it where it holds a control character (so that
    a message stays one line).

    >>> shown("a.wav"), shown("a\\nb.wav")
    ('a.wav', "'a\\\\nb.wav'")
    """
    return repr(text) if _CONTROL.search(text) else text


def _path_state(base: Path, path: str, require_files: bool) -> tuple[str, str]:
    """(the resolved path, its state: 'ok', 'missing' (when files are required), or 'unusable path (...)' for a
    path the system refuses: a NUL, a name too long, a loop).

    >>> _path_state(Path("/tmp"), "a\\x00b.wav", True)[1]
    'unusable path (embedded null byte)'
    """
    try:
        resolved = (base / path).resolve()
        return str(resolved), "ok" if not require_files or resolved.is_file() else "missing"
    except (OSError, ValueError, RuntimeError) as err:  # RuntimeError: a symlink loop on older Pythons
        return f"{base / path}", f"unusable path ({getattr(err, 'strerror', None) or err})"


def _bad_duration(value: str) -> bool:
    """A duration given (not blank) that is not a finite number of seconds >= 0.

    >>> [_bad_duration(v) for v in ("", "2.5", "0", "inf", "-1", "abc", "nan")]
    [False, False, False, True, True, True, True]
    """
    if not value.strip():
        return False
    try:
        seconds = float(value)
    except ValueError:
        return True
    return not (math.isfinite(seconds) and seconds >= 0)


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
        with warnings.catch_warnings():  # a first row longer than the header: pandas would cut it short
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(manifest, dtype=str, keep_default_na=False, skip_blank_lines=False, index_col=False)
    except pd.errors.ParserWarning:
        raise FeatbenchError(f"{manifest}: the first row after the header has more fields than the header") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise FeatbenchError(f"{manifest}: not a readable CSV ({str(err).splitlines()[0]})") from err
    original_columns = [shown(str(c)) for c in frame.columns]
    twice = [c for c in frame.columns if re.fullmatch(r"(.*)\.1", str(c)) and str(c)[:-2] in frame]
    if twice:  # pandas names a repeated column 'label.1': which one would be the label?
        raise FeatbenchError(f"{manifest}: column '{shown(str(twice[0])[:-2])}' appears more than once")
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
