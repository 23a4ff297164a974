"""The exception types the CLI turns into a one-line message and exit code 1.

>>> str(FeatbenchError("corpus.csv: no column 'label'"))
"corpus.csv: no column 'label'"
"""
from __future__ import annotations


class FeatbenchError(Exception):
    """A user-facing error: bad input, bad option, locked store. The message is one line."""


class StoreLockedError(FeatbenchError):
    """Another process is writing the same feature store (or results file)."""


class CorruptStoreError(FeatbenchError):
    """Clips of a store file fail their checksum: `ids` of `family` in `store` are damaged."""

    def __init__(self, message: str, store=None, family: str = "", ids: list[str] | None = None):
        super().__init__(message)
        self.store, self.family, self.ids = store, family, list(ids or [])

    def __reduce__(self):  # keeps the attributes when sent back from a worker process
        return (type(self), (str(self), self.store, self.family, self.ids))


def one_line(err: BaseException) -> str:
    """An exception as one line: its type and the first line of its message (a third party's error, reported
    without its traceback).

    >>> one_line(ValueError("bad shape\\nmore detail")), one_line(KeyError())
    ('ValueError: bad shape', 'KeyError')
    """
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__
