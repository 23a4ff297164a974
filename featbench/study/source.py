"""A study file read: its TOML as plain data (`tomllib`, `tomli` before Python 3.11), bounded in size, and the
line of every key, so that each refusal names `file:line`.

TOML parsers give no positions for values, so `Lines` scans the text once: a table header (`[a.b]`, `[[a]]`, with
the index of each array-of-tables entry) opens a path, and each `key =` line (bare, quoted or dotted keys) records
the line of path + key. A path that was not found falls back to its nearest recorded parent (the table's header).

>>> text = '[study]\\nname = "x"\\n\\n[[grids]]\\nname = "a"\\n[[grids]]\\ncorpus = "b"\\n'
>>> lines = Lines(text)
>>> lines.of(("study", "name")), lines.of(("grids", 1, "corpus")), lines.of(("grids", 1, "budgets"))
(2, 7, 6)
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from featbench.errors import FeatbenchError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MAX_BYTES = 1 << 20  # a study file is a page of settings, not data: 1 MiB at most
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")
_PART = re.compile(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""")


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(p.strip("\"'") for p in _PART.findall(dotted))


class Lines:
    """The line (1-based) of each key path in a TOML text; arrays of tables are indexed from 0."""

    def __init__(self, text: str):
        self.at: dict[tuple, int] = {}
        counts: dict[tuple, int] = {}
        table: tuple = ()
        in_string = False
        for number, line in enumerate(text.splitlines(), start=1):
            if line.count('"""') % 2 or line.count("'''") % 2:
                in_string = not in_string  # a multi-line string opens or closes here
                continue
            if in_string:
                continue
            header = _HEADER.match(line)
            if header:
                path = _parts(header.group(2))
                if header.group(1) == "[[":
                    counts[path] = counts.get(path, -1) + 1
                    table = (*path, counts[path])
                else:
                    table = path
                self.at.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                self.at.setdefault((*table, *_parts(key.group(1))), number)

    def of(self, path: tuple) -> int:
        """The line of `path`, or of its nearest recorded parent (1 if none)."""
        path = tuple(path)
        while path:
            if path in self.at:
                return self.at[path]
            path = path[:-1]
        return 1


@dataclass(frozen=True)
class Source:
    """A study file's data and where each key was written."""

    path: Path
    data: dict
    lines: Lines

    def error(self, where: tuple, message: str) -> FeatbenchError:
        """A one-line refusal naming this file and the line of `where` (control characters a value brought in
        are shown escaped, so the refusal stays one line)."""
        message = _CONTROL.sub(lambda m: repr(m.group())[1:-1], message)
        return FeatbenchError(f"{self.path}:{self.lines.of(where)}: {message}")


def read_source(path: str | Path) -> Source:
    """The study file at `path` parsed, or a one-line FeatbenchError (missing, too large, not UTF-8, not TOML)."""
    path = Path(path)
    if not path.is_file():
        raise FeatbenchError(f"{path}: no such study file")
    if path.stat().st_size > MAX_BYTES:
        raise FeatbenchError(f"{path}: {path.stat().st_size} bytes; a study file holds at most {MAX_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise FeatbenchError(f"{path}: not UTF-8 text (byte {err.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        line = getattr(err, "lineno", None) or _line_in(str(err))
        raise FeatbenchError(f"{path}:{line}: not valid TOML ({str(err).split(' (at ')[0]})") from None
    return Source(path, data, Lines(text))


def _line_in(message: str) -> int:
    found = re.search(r"line (\d+)", message)
    return int(found.group(1)) if found else 1
