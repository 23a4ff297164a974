"""Checks every results reader makes at the file edge: numbers that are numbers (finite, of a sane size, whole where
they count), JSON columns without infinite numbers, and rows that share a resume key (`drop_repeated`).

A number featbench writes is never infinite nor above `LIMIT` in size; a cell that is (``1e309`` reads as infinity)
is one error line naming the file, the line and the column, before any arithmetic can overflow.

>>> rows = pd.DataFrame({c: ["1"] for c in NUMERIC}).assign(ua="1e309")
>>> numbers_of("r.csv", rows, [2])
Traceback (most recent call last):
featbench.errors.FeatbenchError: r.csv: malformed results file (line 2: ua is '1e309', not a finite number of at most 1e+15)
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError
from featbench.results.columns import KEY, NUMERIC, RESULT_COLUMNS

LIMIT = 1e15
"""The largest size of any number in a results row (counts, seconds, scores, JSON values): far above any real one,
far below float64's overflow when thousands of them are summed."""
WHOLE = ["n_classes", "n_folds", "fold", "seed", "n_train", "n_test", "normalisation_clips"]
"""Numeric columns that count: whole numbers."""
JSON_COLUMNS = ["hparams", "confusion", "labels", "choice", "ua_by_speaker", "ua_by_gender", "family_options", "test_classes",
                "correct_by_speaker"]


def _first(path, bad: np.ndarray, rows: pd.DataFrame, columns: list[str], lines: list[int], why: str) -> None:
    """Raise for the first True cell of `bad` (rows x columns), in file order."""
    if bad.any():
        i, j = min(zip(*np.nonzero(bad)))
        raise FeatbenchError(f"{path}: malformed results file (line {lines[i]}: {columns[j]} is "
                             f"'{_short(rows[columns[j]].iloc[i])}', {why})")


def shown(value, limit: int = 0) -> str:
    r"""`value` as text for a one-line message: control characters escaped, cut to `limit` characters (0: whole).

    >>> shown("a\nb"), shown("x" * 50, 10), shown("日本")
    ('a\\nb', 'xxxxxxx...', '日本')
    """
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))
    return text if not limit or len(text) <= limit else text[:limit - 3] + "..."


def _short(text) -> str:
    return shown(text, 40)


def numbers_of(path, rows: pd.DataFrame, lines: list[int]) -> pd.DataFrame:
    """The NUMERIC columns of text `rows` as floats (empty cells: NaN); a cell that is not a number, not finite,
    larger than LIMIT, or not whole in a WHOLE column is one error line (`lines`: each row's line in the file)."""
    text = rows[NUMERIC]
    numbers = text.apply(pd.to_numeric, errors="coerce")  # int64 where a column holds whole numbers only
    values, empty = numbers.to_numpy(dtype=float), (text == "").to_numpy()
    _first(path, np.isnan(values) & ~empty, text, NUMERIC, lines, "not a number")
    with np.errstate(invalid="ignore"):
        _first(path, ~(np.abs(values) <= LIMIT) & ~empty, text, NUMERIC, lines,
               f"not a finite number of at most {LIMIT:g}")
        whole = numbers[WHOLE].to_numpy(dtype=float)
        _first(path, (whole != np.round(whole)) & ~np.isnan(whole), text, WHOLE, lines, "not a whole number")
    return numbers


def _sane(value) -> bool:
    """True when every number inside a parsed JSON value is finite and at most LIMIT in size."""
    if isinstance(value, float):
        return math.isfinite(value) and abs(value) <= LIMIT
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) <= LIMIT
    if isinstance(value, dict):
        return all(_sane(v) for v in value.values())
    if isinstance(value, list):
        return all(_sane(v) for v in value)
    return True


def check_json(path, rows: pd.DataFrame, lines: list[int]) -> None:
    """Refuse a JSON column holding an infinite or huge number (``1e309``, ``Infinity``). Other damage (not JSON,
    the wrong shape) is the report's to judge (report.rows), column by column."""
    for column in JSON_COLUMNS:
        for i, text in enumerate(rows[column]):
            if not text or not any(c in text for c in "0123456789I"):
                continue
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                continue  # not JSON: report.rows names it where JSON is needed
            if not _sane(value):
                raise FeatbenchError(f"{path}: malformed results file (line {lines[i]}: {column} holds a number that "
                                     f"is not finite or is above {LIMIT:g})")


def drop_repeated(rows: pd.DataFrame, where: list[str]) -> tuple[pd.DataFrame, list[str], list[int]]:
    """Rows that share a resume key (KEY): identical in every column, the same row recorded twice (a file given
    twice, rows copied between files): kept once, with a note; otherwise two results of one run that disagree,
    refused in one line naming both (`where[i]`: 'FILE line N' of row i). Returns (rows, notes, the kept rows'
    positions).

    >>> row = dict.fromkeys(RESULT_COLUMNS, "x")
    >>> rows, notes, kept = drop_repeated(pd.DataFrame([row, row]), ["r.csv line 2", "r.csv line 3"])
    >>> len(rows), kept, notes[0]
    (1, [0], 'r.csv line 3 repeats r.csv line 2 (every column the same): read once')
    >>> drop_repeated(pd.DataFrame([row, row | {"ua": "0.43"}]), ["a.csv line 2", "b.csv line 7"])
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: a.csv line 2 and b.csv line 7 hold the same row (view x, classifier x, budget x, fold x, seed x; the same resume key) with different ua (x | 0.43); keep one of them
    """
    if rows.empty:
        return rows, [], []
    positions = pd.RangeIndex(len(rows))
    rows = rows.set_axis(positions)
    full = [c for c in RESULT_COLUMNS if c in rows]
    kept = ~rows.duplicated(full, keep="first").to_numpy()
    notes = []
    if not kept.all():
        firsts = rows.reset_index().groupby(full, dropna=False, sort=False)["index"].transform("first").to_numpy()
        repeats = np.flatnonzero(~kept)
        more = f" (and {len(repeats) - 1} more repeated rows)" if len(repeats) > 1 else ""
        notes.append(f"{where[repeats[0]]} repeats {where[firsts[repeats[0]]]} (every column the same): read once{more}")
    unique = rows[kept]
    clash = unique.duplicated(KEY, keep=False).to_numpy()
    if clash.any():
        part = unique[clash]
        group = part.groupby(KEY, dropna=False, sort=False).ngroup().to_numpy()
        first, other = (part[group == group[0]].iloc[k] for k in (0, 1))
        column = next(c for c in full if not (first[c] == other[c] or (pd.isna(first[c]) and pd.isna(other[c]))))
        key = ", ".join(f"{c} {_short(first[c])}" for c in ("view", "classifier", "budget", "fold", "seed"))
        raise FeatbenchError(f"{where[first.name]} and {where[other.name]} hold the same row ({key}; the same resume "
                             f"key) with different {column} ({_short(first[column])} | {_short(other[column])}); keep "
                             "one of them")
    return unique, notes, np.flatnonzero(kept).tolist()
