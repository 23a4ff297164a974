"""Results files: `ResultsFile`, the one writer (locked, each task's rows appended in one write, a torn last
line from a killed run dropped and repaired), `read_results` (every reader; files of schema 1-4 converted on
reading: schema 1-2's display names split, every older row's recording conditions 'clean' (schema 1-3) and its
pooling 'mean+std' (schema 1-4)) and `upgrade_file` (rewrite a file of schema 1-4 as schema 5).

>>> read_results([]).rows.columns.tolist() == RESULT_COLUMNS
True
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from featbench.append_only import AppendOnlyCsv, csv_text, read_text, split_tail
from featbench.csv_cells import escape_row, unescape_cell
from featbench.errors import FeatbenchError
from featbench.results.columns import (CLEAN, CONDITION_COLUMNS, CORE_COLUMNS, COSTED_COLUMNS, KEY, LEGACY,
                                       LEGACY_COLUMNS, MEAN_STD, NUMERIC, OLDEST_COLUMNS, PROTOCOL_COLUMNS, RESULT_COLUMNS,
                                       SCHEMA, SCHEMA3_COLUMNS, SCHEMA4_COLUMNS)
from featbench.results.checks import check_json, drop_repeated, numbers_of
from featbench.results.legacy import upgrade_rows


@dataclass
class ResultsTable:
    """Rows read back from one or more results files, with notes about repaired files; `lines` and `path` (of one
    file): the line each row was read from."""

    rows: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    schema: int | str = SCHEMA  # of the file read (LEGACY: converted on reading)
    lines: list[int] = field(default_factory=list)
    path: Path | None = None
    origin: list[str] = field(default_factory=list)  # of combined tables: 'FILE line N' of each row

    @property
    def where(self) -> list[str]:
        """'FILE line N' for each row."""
        return self.origin or [f"{self.path} line {n}" for n in self.lines]


def _schema_of(path: Path, header: list[str]) -> int | str:
    """SCHEMA, 4, 3 or LEGACY for the header's columns (an older version's are a prefix of LEGACY_COLUMNS), else an
    error."""
    if header == RESULT_COLUMNS:
        return SCHEMA
    if header == SCHEMA4_COLUMNS:
        return 4
    if header in (SCHEMA3_COLUMNS, COSTED_COLUMNS, CORE_COLUMNS):
        return 3
    if len(header) >= len(OLDEST_COLUMNS) and header == LEGACY_COLUMNS[:len(header)]:
        return LEGACY
    raise FeatbenchError(f"{path}: not a featbench results file (its columns differ from every featbench version's)")


def _records(path: Path, text: str) -> tuple[list[list[str]], list[int]]:
    """The CSV records of `text` and the line each starts on (a quoted cell may hold a line break)."""
    reader = csv.reader(io.StringIO(text))
    records, starts, end = [], [], 0
    try:
        for fields in reader:
            records.append(fields)
            starts.append(end + 1)
            end = reader.line_num
    except csv.Error as err:
        raise FeatbenchError(f"{path}: malformed results file (line {end + 1}: {err})") from None
    return records, starts


def _parse(path: Path, text: str, dtype) -> tuple[pd.DataFrame, int | str, list[int]]:
    """Complete lines -> (schema 5 rows, the file's schema, each row's line); a wrong header, a line with the wrong
    number of fields, a number that is not one (results.checks) is one error line naming the file and the line.
    Cells are read back as `ResultsFile` wrote them (csv_cells: formula-safe, unescaped here)."""
    records, starts = _records(path, text.removeprefix("\ufeff"))  # a spreadsheet's byte-order mark: not a cell
    if not records:
        return pd.DataFrame(columns=RESULT_COLUMNS), SCHEMA, []
    columns, lines = records[0], starts[1:]
    schema = _schema_of(path, columns)
    for number, fields in zip(lines, records[1:]):
        if len(fields) != len(columns):
            raise FeatbenchError(f"{path}: malformed results file (line {number} has {len(fields)} fields, "
                                 f"expected {len(columns)})")
    rows = pd.DataFrame([[unescape_cell(c) for c in f] for f in records[1:]], columns=columns, dtype=object)
    rows = upgrade_rows(rows) if schema == LEGACY else rows.reindex(columns=RESULT_COLUMNS, fill_value="")
    if schema not in (SCHEMA, 4):  # rows from before recording conditions: heard clean, trained and tested
        rows[CONDITION_COLUMNS] = CLEAN
    if schema != SCHEMA:  # rows from before --pooling: frames pooled to mean and std
        rows["pooling"] = MEAN_STD
    numbers = numbers_of(path, rows, lines)
    check_json(path, rows, lines)
    if dtype is not str:
        rows[NUMERIC] = numbers
        rows["speakers_confounded"] = rows["speakers_confounded"] == "True"
    return rows, schema, lines


def read_results_file(path: str | Path, dtype=None) -> ResultsTable:
    """Rows of one results file. A 0-byte file has no rows; an incomplete last line is dropped with a note; a row
    repeated identically is read once, with a note; two rows of one resume key that differ are one error line
    naming both (results.checks.drop_repeated)."""
    path = Path(path)
    if not path.is_file():
        raise FeatbenchError(f"{path}: results file not found")
    complete, torn = split_tail(read_text(path, "results file"))
    notes = [f"{path}: dropped an incomplete last line (a run was interrupted while writing it)"] if torn.strip() else []
    rows, schema, lines = _parse(path, complete, dtype)
    rows, repeated, kept = drop_repeated(rows, ResultsTable(rows, lines=lines, path=path).where)
    return ResultsTable(rows.reset_index(drop=True), notes + repeated, schema, [lines[i] for i in kept], path)


def combine(tables: list[ResultsTable]) -> ResultsTable:
    """The rows of several files' tables as one (rows repeated across files read once, with a note; rows of one
    resume key that differ refused, naming both files and lines), with every file's notes."""
    frames = [t.rows for t in tables if not t.rows.empty]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)
    where = [w for t in tables if not t.rows.empty for w in t.where]
    rows, repeated, kept = drop_repeated(rows, where)
    return ResultsTable(rows.reset_index(drop=True), [n for t in tables for n in t.notes] + repeated,
                        origin=[where[i] for i in kept])


def read_results(paths: str | Path | list[str | Path], dtype=None) -> ResultsTable:
    """Concatenated rows of several results files (see read_results_file and combine)."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    return combine([read_results_file(p, dtype) for p in paths])


def upgrade_file(path: str | Path) -> ResultsTable:
    """Rewrite a results file of schema 1-4 as schema 5 (the same rows and values, pooling 'mean+std', conditions
    'clean' where schema 1-3 had none, under the writer's lock, replaced in one rename); returns the rows written and the notes of what was left out (a torn last
    line, a row repeated identically). A schema 5 file is a one-line error (nothing to do).

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "old.csv")
    >>> row = dict.fromkeys(LEGACY_COLUMNS, "1") | {"family": "fbank [+demo]", "budget": "8"}
    >>> _ = open(path, "w").write(",".join(LEGACY_COLUMNS) + "\\n" + csv_text([row], LEGACY_COLUMNS))
    >>> len(upgrade_file(path).rows), read_results(path).rows[["family", "design", "test_condition", "pooling"]].values.tolist()
    (1, [['fbank', 'transfer', 'clean', 'mean+std']])
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
                rows = [escape_row(r) for r in table.rows.to_dict("records")]
                f.write(",".join(RESULT_COLUMNS) + "\n" + csv_text(rows, RESULT_COLUMNS))
            os.chmod(temporary, os.stat(path).st_mode & 0o777)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return table


class ResultsFile(AppendOnlyCsv):
    """The single writer of a results CSV: locked (on the resolved file, kill -9 safe), repaired on open,
    rows appended in one write per call so a killed run never leaves half a row.

    Attributes after opening: `keys` (resume keys present), `n_rows`, `notes` (repairs made). A file of schema 4
    (no `pooling` column) is appended to in its own columns, with rows pooled to mean and std only.
    """

    columns = RESULT_COLUMNS
    key = KEY
    what = "results file"
    formula_safe = True  # cells written with csv_cells.escape_row, read back by _parse

    def parse(self, text: str) -> pd.DataFrame:
        rows, schema, lines = _parse(self.path, text, str)  # refuses a file whose header is not ours, untouched
        rows, repeated, _ = drop_repeated(rows, ResultsTable(rows, lines=lines, path=self.path).where)
        self.notes.extend(repeated)
        if schema == 4:
            self.columns = SCHEMA4_COLUMNS  # appended to as it is: every row it takes is mean+std pooled (append)
        elif schema != SCHEMA:
            raise FeatbenchError(f"{self.path}: results schema {schema} (an older featbench), and new rows are schema "
                                 f"{SCHEMA}; `featbench results upgrade {self.path}` rewrites it, or write to a new file")
        self.protocols = rows[PROTOCOL_COLUMNS].drop_duplicates().to_dict("records")  # see check_protocol
        return rows

    def append(self, rows: list[dict]) -> None:
        """Append rows in one write, in this file's columns; a row pooled otherwise than to mean and std into a file of
        schema 4 (which cannot say so) is one line, nothing written."""
        if self.columns is SCHEMA4_COLUMNS and any(str(r.get("pooling", MEAN_STD)) != MEAN_STD for r in rows):
            raise FeatbenchError(f"{self.path}: results schema 4 has no pooling column, and this run's rows are "
                                 f"{rows[0].get('pooling')} pooled; `featbench results upgrade {self.path}` rewrites it as "
                                 f"schema {SCHEMA}, or write to a new file")
        if rows:  # the keys of all KEY columns (a schema 4 file's rows are keyed mean+std, as _parse reads them)
            self._write(csv_text([escape_row({c: r.get(c, "") for c in self.columns}) for r in rows], self.columns))
            self.keys.update(tuple(str(r.get(c, "")) for c in KEY) for r in rows)
            self.n_rows += len(rows)

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
