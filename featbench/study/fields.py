"""Reading one TOML table of a study file field by field: each value checked for its type, each unknown key refused,
every refusal one line with the file's line number and the valid values.

>>> from featbench.study.source import Lines, Source
>>> from pathlib import Path
>>> src = Source(Path("s.toml"), {"study": {"name": "x", "jobz": 2}}, Lines('[study]\\nname = "x"\\njobz = 2\\n'))
>>> t = Table(src, ("study",), src.data["study"], {"name", "jobs"})
>>> t.text("name")
'x'
>>> t.done()
Traceback (most recent call last):
featbench.errors.FeatbenchError: s.toml:3: [study] has no key 'jobz'; valid keys: jobs, name
"""
from __future__ import annotations

from typing import Any

from featbench.study.source import Source

_MISSING = object()


class Table:
    """One table of the file at `path`, with the keys it may hold (`allowed`)."""

    def __init__(self, source: Source, path: tuple, data: Any, allowed: set[str]):
        self.source, self.path, self.allowed = source, path, allowed
        if not isinstance(data, dict):
            raise source.error(path, f"{self.name} must be a table, not {type(data).__name__}")
        self.data = data

    @property
    def name(self) -> str:
        shown = ".".join(f"{p}" if isinstance(p, str) else f"[{p}]" for p in self.path)
        return f"[{shown.replace('.[', '[')}]"

    def error(self, key: str | None, message: str):
        return self.source.error((*self.path, key) if key else self.path, message)

    def has(self, key: str) -> bool:
        return key in self.data

    def value(self, key: str, kinds: tuple, what: str, default: Any = _MISSING) -> Any:
        """The value of `key` if it is one of `kinds` (bool is no int); `default` when absent (required if none)."""
        if key not in self.data:
            if default is _MISSING:
                raise self.error(None, f"{self.name} needs '{key}' ({what})")
            return default
        value = self.data[key]
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            raise self.error(key, f"{self.name} {key} = {_shown(value)}: expected {what}")
        return value

    def text(self, key: str, default: Any = _MISSING) -> Any:
        value = self.value(key, (str,), "a string", default)
        if isinstance(value, str) and not value.strip():
            raise self.error(key, f"{self.name} {key} is empty")
        return value

    def integer(self, key: str, default: Any = _MISSING, minimum: int = 0, maximum: int | None = None) -> Any:
        value = self.value(key, (int,), f"a whole number >= {minimum}", default)
        if isinstance(value, int) and (value < minimum or maximum is not None and value > maximum):
            within = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
            raise self.error(key, f"{self.name} {key} = {str(value)[:40]}: expected a whole number {within}")
        return value

    def file_path(self, key: str, base, default: Any = _MISSING):
        """A path relative to `base` (absolute kept; '..' folded away as text, links untouched), each part a name a
        file system can hold."""
        import os
        from pathlib import Path

        value = self.text(key, default)
        if value is None:
            return None
        long = [p for p in Path(value).parts if len(p.encode("utf-8", "surrogateescape")) > 255]
        if "\0" in value or long:
            raise self.error(key, f"{self.name} {key}: not a path a file system can hold "
                                  f"({'a NUL byte' if not long else 'a part over 255 bytes'})")
        return Path(os.path.normpath(Path(base) / value))

    def flag(self, key: str, default: bool = False) -> bool:
        return self.value(key, (bool,), "true or false", default)

    def texts(self, key: str, default: Any = _MISSING) -> Any:
        """A list of strings (a single string is taken as a list of one)."""
        value = self.value(key, (list, str), "a list of strings", default)
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            bad = [v for v in value if not isinstance(v, str) or not v.strip()]
            if bad:
                raise self.error(key, f"{self.name} {key}: {_shown(bad[0])} is not a non-empty string")
        return value

    def choice(self, key: str, valid: list[str], default: Any = _MISSING) -> Any:
        value = self.text(key, default)
        if value is not default and value not in valid:
            raise self.error(key, f"{self.name} {key} = {_shown(value)}: choose from {', '.join(valid)}")
        return value

    def done(self) -> None:
        """Refuse the first key this table may not hold."""
        for key in self.data:
            if key not in self.allowed:
                raise self.error(key, f"{self.name} has no key '{key}'; valid keys: {', '.join(sorted(self.allowed))}")


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
