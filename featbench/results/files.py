"""Results files: `ResultsFile`, the one writer (locked, each task's rows appended in one write, a torn last
line from a killed run dropped and repaired), `read_results` (every reader; schema 1-2 files converted on
reading) and `upgrade_file` (rewrite a schema 1-2 file as schema 3).

>>> read_results([]).rows.columns.tolist() == RESULT_COLUMNS
True
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from featbench.append_only import AppendOnlyCsv, csv_text, read_text, split_tail
from featbench.errors import FeatbenchError
from featbench.results.columns import (CORE_COLUMNS, COSTED_COLUMNS, KEY, LEGACY, LEGACY_COLUMNS, NUMERIC,
                                       OLDEST_COLUMNS, PROTOCOL_COLUMNS, RESULT_COLUMNS, SCHEMA)
from featbench.results.legacy import upgrade_rows


@dataclass
class ResultsTable:
    """Rows read back from one or more results files, with notes about repaired files."""

    rows: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    schema: int | str = SCHEMA  # of the file read (LEGACY: converted on reading)


def _schema_of(path: Path, header: list[str]) -> int | str:
    """SCHEMA or LEGACY for the header's columns (an older version's are a prefix of LEGACY_COLUMNS), else an error."""
    if header in (RESULT_COLUMNS, COSTED_COLUMNS, CORE_COLUMNS):
        return SCHEMA
    if len(header) >= len(OLDEST_COLUMNS) and header == LEGACY_COLUMNS[:len(header)]:
        return LEGACY
    raise FeatbenchError(f"{path}: not a featbench results file (its columns differ from every featbench version's)")


def _parse(path: Path, text: str, dtype) -> tuple[pd.DataFrame, int | str]:
    """Complete lines -> (schema 3 rows, the file's schema); a wrong header, a line with the wrong number of fields
    or a score that is not a number is one error line naming the file and the line."""
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as err:
        raise FeatbenchError(f"{path}: malformed results file ({err})") from None
    if not lines:
        return pd.DataFrame(columns=RESULT_COLUMNS), SCHEMA
    columns = lines[0]
    schema = _schema_of(path, columns)
    for number, fields in enumerate(lines[1:], start=2):
        if len(fields) != len(columns):
            raise FeatbenchError(f"{path}: malformed results file (line {number} has {len(fields)} fields, "
                                 f"expected {len(columns)})")
    rows = pd.DataFrame(lines[1:], columns=columns, dtype=object)
    rows = upgrade_rows(rows) if schema == LEGACY else rows.reindex(columns=RESULT_COLUMNS, fill_value="")
    numbers = rows[NUMERIC].apply(pd.to_numeric, errors="coerce")
    bad = numbers.isna() & (rows[NUMERIC] != "")
    if bad.to_numpy().any():
        line, column = next((i + 2, c) for i, c in zip(*np.nonzero(bad.to_numpy())) for c in [NUMERIC[c]])
        raise FeatbenchError(f"{path}: malformed results file (line {line}: {column} is not a number)")
    if dtype is not str:
        rows[NUMERIC] = numbers
        rows["speakers_confounded"] = rows["speakers_confounded"] == "True"
    return rows, schema


def read_results_file(path: str | Path, dtype=None) -> ResultsTable:
    """Rows of one results file. A 0-byte file has no rows; an incomplete last line is dropped with a note."""
    path = Path(path)
    if not path.is_file():
        raise FeatbenchError(f"{path}: results file not found")
    complete, torn = split_tail(read_text(path, "results file"))
    notes = [f"{path}: dropped an incomplete last line (a run was interrupted while writing it)"] if torn.strip() else []
    rows, schema = _parse(path, complete, dtype)
    return ResultsTable(rows, notes, schema)


def read_results(paths: str | Path | list[str | Path], dtype=None) -> ResultsTable:
    """Concatenated rows of several results files (see read_results_file)."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    tables = [read_results_file(p, dtype) for p in paths]
    frames = [t.rows for t in tables if not t.rows.empty]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)
    return ResultsTable(rows, [n for t in tables for n in t.notes])


def upgrade_file(path: str | Path) -> int:
    """Rewrite a results file of schema 1-2 as schema 3 (the same rows and values, under the writer's lock, replaced
    in one rename); returns the number of rows. A schema 3 file is a one-line error (nothing to do).

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "old.csv")
    >>> row = dict.fromkeys(LEGACY_COLUMNS, "1") | {"family": "fbank [+demo]", "budget": "8"}
    >>> _ = open(path, "w").write(",".join(LEGACY_COLUMNS) + "\\n" + csv_text([row], LEGACY_COLUMNS))
    >>> upgrade_file(path), read_results(path).rows[["family", "design", "other_corpus"]].values.tolist()
    (1, [['fbank', 'transfer', 'demo']])
    """
    import os
    import tempfile

    from featbench.locking import exclusive

    path = Path(path)
    if not path.is_file():
        raise FeatbenchError(f"{path}: results file not found")
    path = path.resolve()  # a link stays a link to the upgraded file
    with exclusive(path, "results file"):
        table = read_results_file(path, str)
        if table.schema == SCHEMA:
            raise FeatbenchError(f"{path}: already results schema {SCHEMA}; nothing to upgrade")
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(",".join(RESULT_COLUMNS) + "\n" + csv_text(table.rows.to_dict("records"), RESULT_COLUMNS))
            os.chmod(temporary, os.stat(path).st_mode & 0o777)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return len(table.rows)


class ResultsFile(AppendOnlyCsv):
    """The single writer of a results CSV: locked (on the resolved file, kill -9 safe), repaired on open,
    rows appended in one write per call so a killed run never leaves half a row.

    Attributes after opening: `keys` (resume keys present), `n_rows`, `notes` (repairs made).
    """

    columns = RESULT_COLUMNS
    key = KEY
    what = "results file"

    def parse(self, text: str) -> pd.DataFrame:
        rows, schema = _parse(self.path, text, str)  # refuses a file whose header is not ours, untouched
        for older in (CORE_COLUMNS, COSTED_COLUMNS):  # a schema 3 file without costs or details: appended to as it is
            if text.startswith(",".join(older) + "\n"):
                self.columns = older
        if schema != SCHEMA:
            raise FeatbenchError(f"{self.path}: results schema {schema} (an older featbench), and new rows are schema "
                                 f"{SCHEMA}; `featbench results upgrade {self.path}` rewrites it, or write to a new file")
        self.protocols = rows[PROTOCOL_COLUMNS].drop_duplicates().to_dict("records")  # see check_protocol
        return rows

    def append(self, rows: list[dict]) -> None:
        """Append rows in one write, in this file's columns."""
        super().append([{c: r.get(c, "") for c in self.columns} for r in rows])

    def check_protocol(self, protocol: dict) -> None:
        """Refuse rows of another protocol (the `PROTOCOL_COLUMNS` that `protocol` names) than the file's rows:
        `compare` could not read the file back. One line naming both.

        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "r.csv")
        >>> row = dict.fromkeys(RESULT_COLUMNS, "x") | dict.fromkeys(NUMERIC, 0) | {"classes": "happy,sad"}
        >>> with ResultsFile(path) as results:
        ...     results.append([row])
        >>> with ResultsFile(path) as results:
        ...     results.check_protocol({"classes": "happy,sad"})  # the same: appended to
        ...     results.check_protocol({"classes": "angry,sad"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        featbench.errors.FeatbenchError: ...: its rows are of another protocol (classes=happy,sad) than this run's (classes=angry,sad); ...
        """
        columns = [c for c in PROTOCOL_COLUMNS if c in protocol]
        ours = {c: str(protocol[c]) for c in columns}
        for theirs in getattr(self, "protocols", []):
            theirs = {c: str(theirs[c]) for c in columns}
            if theirs != ours:
                differ = [c for c in columns if theirs[c] != ours[c]]
                raise FeatbenchError(f"{self.path}: its rows are of another protocol ({_describe(theirs, differ)}) than "
                                     f"this run's ({_describe(ours, differ)}); write to another results file, `compare` "
                                     "reads one protocol at a time")


def _describe(protocol: dict, columns: list[str]) -> str:
    return ", ".join(f"{c}={protocol[c]}" for c in columns)
