"""Append-only CSV files that survive Ctrl-C and kill -9: results rows, transcripts.

One writer at a time (a lock on the resolved file); the header is checked before a byte is changed; a
torn last line left by a killed run is dropped on opening (or completed, when it is a whole row that
only lacks its newline); each call to `append` is one write, so a run killed between calls leaves only
whole rows. Subclasses name their `columns`, resume `key` and `what` they are, and may validate rows in
`parse`.

>>> import tempfile, os
>>> class Log(AppendOnlyCsv):
...     columns, key, what = ["id", "text"], ["id"], "log"
>>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
>>> with Log(path) as log:
...     log.append([{"id": "a", "text": "hello, world"}])
>>> with open(path, "a") as f:
...     _ = f.write("b")  # killed in the middle of a line
>>> with Log(path) as log:
...     sorted(log.keys), log.notes[0].endswith("interrupted while writing it)")
([('a',)], True)
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pandas as pd

from featbench.csv_cells import escape_row
from featbench.errors import FeatbenchError
from featbench.locking import exclusive


def read_text(path: Path, what: str) -> str:
    """A file's text, or a one-line error when it is not UTF-8."""
    try:
        return Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise FeatbenchError(f"{path}: not a featbench {what} (not UTF-8 text)") from None


def split_tail(text: str) -> tuple[str, str]:
    """(complete lines, the torn remainder after the last newline)."""
    cut = text.rfind("\n") + 1
    return text[:cut], text[cut:]


def csv_text(rows: list[dict], columns: list[str]) -> str:
    r"""Rows as CSV lines (no header), in `columns` order. A row with a carriage return in a cell is written with
    every cell quoted: the csv module quotes only the line terminator ('\n'), and a bare '\r' would not read back.

    >>> csv_text([{"a": "x\ry", "b": 1}, {"a": "z", "b": 2}], ["a", "b"])
    '"x\ry","1"\nz,2\n'
    """
    buffer = io.StringIO()
    plain = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    quoted = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in rows:
        (quoted if any(isinstance(v, str) and "\r" in v for v in row.values()) else plain).writerow(row)
    return buffer.getvalue()


class AppendOnlyCsv:
    """The single writer of one append-only CSV. Attributes after opening: `keys` (resume keys present, as
    text), `n_rows`, `notes` (repairs made)."""

    columns: list[str] = []
    key: list[str] = []
    what: str = "file"
    formula_safe: bool = False  # True: text cells written formula-safe (csv_cells.escape_row); parse must unescape

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.keys: set[tuple[str, ...]] = set()
        self.n_rows = 0
        self.notes: list[str] = []
        self._lock = None
        self._fd = -1

    def _csv_rows(self, text: str) -> list[list[str]]:
        """The CSV rows of `text`; one error for what the csv module cannot read (a bare carriage return)."""
        reader = csv.reader(io.StringIO(text))
        try:
            return list(reader)
        except csv.Error as err:
            detail = "a line break outside quotes" if "new-line" in str(err) else str(err)
            raise FeatbenchError(f"{self.path}: malformed {self.what} (line {reader.line_num}: {detail})") from None

    def parse(self, text: str) -> pd.DataFrame:
        """Complete lines (header first) -> rows as text; a header or a line that does not fit is one error."""
        lines = self._csv_rows(text)
        if not lines:
            return pd.DataFrame(columns=self.columns)
        if lines[0] != self.columns:
            raise FeatbenchError(f"{self.path}: not a featbench {self.what}; choose another output file")
        for number, fields in enumerate(lines[1:], start=2):
            if len(fields) != len(self.columns):
                raise FeatbenchError(f"{self.path}: malformed {self.what} (line {number} has {len(fields)} fields, "
                                     f"expected {len(self.columns)})")
        return pd.DataFrame(lines[1:], columns=self.columns)

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            lock = exclusive(self.path, self.what)
            lock.__enter__()
            self._lock = lock
            self._open_rows()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _open_rows(self) -> None:
        """Check the file is ours before changing a byte; then drop (or complete) a torn last line."""
        text = read_text(self.path, self.what)
        complete, torn = split_tail(text)
        header = ",".join(self.columns)
        if not complete:
            if not header.startswith(text.strip()):  # not empty, not the start of our header: someone's file
                raise FeatbenchError(f"{self.path}: not a featbench {self.what}; choose another output file")
            os.truncate(self.path, 0)  # empty, or a header cut short by a killed run
            self._write(header + "\n")
            return
        rows = self.parse(complete)
        if torn:
            fields = next(iter(self._csv_rows(torn)), [])
            header = ",".join(self.columns)  # as parsing the file found it
            if len(fields) == len(self.columns) and self.parse(header + "\n" + torn + "\n").shape[0] == 1:
                self._write("\n")  # a whole row that only lacks its newline (an edited file): kept
                rows = self.parse(complete + torn + "\n")
            else:
                os.truncate(self.path, len(complete.encode("utf-8")))
                self.notes.append(f"{self.path}: dropped an incomplete last line (a run was interrupted while writing it)")
        self.keys = set(map(tuple, rows[self.key].to_numpy().tolist()))
        self.n_rows = len(rows)

    def _write(self, text: str) -> None:
        data = text.encode("utf-8")
        while data:  # one write() for all but pathological cases (signals, full disks)
            data = data[os.write(self._fd, data):]

    def append(self, rows: list[dict]) -> None:
        """Append rows (dicts with every column) in one write."""
        if rows:
            self._write(csv_text([escape_row(r) for r in rows] if self.formula_safe else rows, self.columns))
            self.keys.update(tuple(str(r[c]) for c in self.key) for r in rows)
            self.n_rows += len(rows)

    def __exit__(self, *exc) -> None:
        if self._lock is not None:
            self._lock.__exit__(None, None, None)
            self._lock = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
