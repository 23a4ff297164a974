"""Formula-safe CSV cells: a cell that a spreadsheet would run as a formula is written as text, and read back as
it was.

A cell starting with ``= + - @``, a tab or a carriage return is a formula (or a DDE command) to Excel, LibreOffice
and Google Sheets, so a label, speaker or corpus named ``=HYPERLINK(...)`` would run when someone opens a CSV that
featbench wrote. Following OWASP's advice ("CSV injection"), `escape_cell` puts a single quote before such a cell:
spreadsheets show the quote-led cell as text. Plain numbers (``-0.25``, ``-3e-05``) stay numbers. A cell that already
starts with quotes before one of those characters gets one more quote, so `unescape_cell` (strip one leading quote
where quotes are followed by one of those characters) gives back every value exactly: featbench's own files
(results rows) are written escaped and read back unescaped, byte for byte the values that were written.

>>> [escape_cell(v) for v in ["=1+2", "-0.25", "-x", "'=x", "'plain", "@SUM(A1)", "happy"]]
["'=1+2", '-0.25', "'-x", "''=x", "'plain", "'@SUM(A1)", 'happy']
>>> all(unescape_cell(escape_cell(v)) == v for v in ["=1+2", "-0.25", "-x", "'=x", "''-1", "'plain", "\\tx", ""])
True
"""
from __future__ import annotations

import re

import pandas as pd

TRIGGERS = "=+-@\t\r"
"""The first characters that make a spreadsheet read a cell as a formula (OWASP's list)."""

_ESCAPE = re.compile(r"'*[=+\-@\t\r]")  # a cell that needs one more leading quote
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")  # a cell written with one
_NUMBER = re.compile(r"-(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")  # a negative number: a number, not a formula


def escape_cell(value: str) -> str:
    """`value` as a formula-safe cell: a single quote before it if a spreadsheet would run it (see the module's doc)."""
    if _ESCAPE.match(value) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def unescape_cell(cell: str) -> str:
    """The value `escape_cell` made `cell` of."""
    return cell[1:] if _ESCAPED.match(cell) else cell


def escape_row(row: dict) -> dict:
    """A row whose text cells are formula-safe (numbers are left as they are).

    >>> escape_row({"label": "=cmd", "ua": -0.5, "speaker": "-1"})
    {'label': "'=cmd", 'ua': -0.5, 'speaker': '-1'}
    """
    return {k: escape_cell(v) if isinstance(v, str) else v for k, v in row.items()}


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` for a CSV that people open: formula-safe column names and text cells; numeric columns
    unchanged (a negative score stays a number).

    >>> escape_frame(pd.DataFrame({"=x": ["@a", "b"], "n": [-1.5, 2.0]})).to_dict("list")
    {"'=x": ["'@a", 'b'], 'n': [-1.5, 2.0]}
    """
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = [escape_cell(v) if isinstance(v, str) else v for v in out[column]]
    out.columns = [escape_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def write_people_csv(frame: pd.DataFrame, path, **options) -> None:
    """`frame.to_csv(path, index=False, **options)` with formula-safe cells (`escape_frame`): for the CSV files that
    featbench writes for people (report tables, predictions) and never reads back as data."""
    escape_frame(frame).to_csv(path, index=False, **options)
