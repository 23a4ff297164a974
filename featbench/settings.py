"""The environment variables featbench reads, parsed and checked in one place.

Each is used as documented here or refused in one line naming the variable and its valid values. The command
line checks them all at start, before any work (`Settings.from_environ`); code reads the typed values through
the functions below, never through ``os.environ``.

- ``FEATBENCH_READ_TIMEOUT``: the seconds one store read may take (`featbench.store.bounded`), a number above 0
  and at most 86400; unset: 60.
- ``FEATBENCH_PLUGIN_TIMEOUT``: the seconds one plug-in's import may take (`featbench.features.plugin_probe`),
  likewise; unset: 60.
- ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``: the threads of a BLAS/OpenMP pool, a whole
  number from 1 to 1024; unset: 1 (the command line sets them; featbench parallelises with processes).
- ``TMPDIR``, ``TEMP``, ``TMP`` (read by Python's `tempfile`): an existing folder this user can write to; unset:
  Python's choice (/tmp).

An empty value counts as unset. Python would quietly fall back to /tmp from a TMPDIR it cannot use, and
OpenMP prints a warning and goes on for a thread count it cannot read: featbench refuses both instead.

>>> read_timeout_s({"FEATBENCH_READ_TIMEOUT": "2.5"}), read_timeout_s({})
(2.5, 60.0)
>>> read_timeout_s({"FEATBENCH_READ_TIMEOUT": "inf"})  # doctest: +ELLIPSIS
Traceback (most recent call last):
featbench.errors.FeatbenchError: FEATBENCH_READ_TIMEOUT='inf': give the seconds one store read may take, a number ...
>>> Settings.from_environ({"OMP_NUM_THREADS": "4", "MKL_NUM_THREADS": ""}).threads
{'OMP_NUM_THREADS': 4}
>>> Settings.from_environ({"OPENBLAS_NUM_THREADS": "²"})
Traceback (most recent call last):
featbench.errors.FeatbenchError: OPENBLAS_NUM_THREADS='²': give a whole number of threads from 1 to 1024 (unset: 1)
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field

from featbench.errors import FeatbenchError
from featbench.options import is_whole

READ_TIMEOUT = "FEATBENCH_READ_TIMEOUT"
DEFAULT_READ_TIMEOUT_S = 60.0
PLUGIN_TIMEOUT = "FEATBENCH_PLUGIN_TIMEOUT"
DEFAULT_PLUGIN_TIMEOUT_S = 60.0
MAX_TIMEOUT_S = 86400.0  # a day: longer is a typo, and threading's waits overflow on inf
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
MAX_THREADS = 1024
TEMP_VARIABLES = ("TMPDIR", "TEMP", "TMP")  # the ones Python's tempfile reads, in its order


@dataclass(frozen=True)
class Settings:
    """Every variable featbench reads, typed; `threads` and `temp_dirs` hold only the variables that are set."""

    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S
    plugin_timeout_s: float = DEFAULT_PLUGIN_TIMEOUT_S
    threads: dict[str, int] = field(default_factory=dict)
    temp_dirs: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """All of them from `environ` (default os.environ); the first bad one is a one-line FeatbenchError."""
        environ = os.environ if environ is None else environ
        return cls(read_timeout_s(environ), plugin_timeout_s(environ), thread_counts(environ), temp_dirs(environ))


def read_timeout_s(environ: Mapping[str, str] | None = None) -> float:
    """FEATBENCH_READ_TIMEOUT: how long one bounded store read may take (`featbench.store.bounded`), or 60."""
    return _seconds(environ, READ_TIMEOUT, DEFAULT_READ_TIMEOUT_S, "one store read may take")


def plugin_timeout_s(environ: Mapping[str, str] | None = None) -> float:
    """FEATBENCH_PLUGIN_TIMEOUT: how long one plug-in's import may take (`featbench.features.plugin_probe`), or 60.

    >>> plugin_timeout_s({"FEATBENCH_PLUGIN_TIMEOUT": "5"})
    5.0
    """
    return _seconds(environ, PLUGIN_TIMEOUT, DEFAULT_PLUGIN_TIMEOUT_S, "one plug-in's import may take")


def _seconds(environ: Mapping[str, str] | None, name: str, default: float, what: str) -> float:
    """A time limit in seconds: a number above 0 and at most a day, `default` when unset; else one line."""
    text = _value(environ, name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_TIMEOUT_S:  # also refuses nan
        raise _refusal(
            name, text, f"give the seconds {what}, a number above 0 and at most {MAX_TIMEOUT_S:g} (unset: {default:g})"
        )
    return value


def thread_counts(environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """The BLAS/OpenMP thread variables that are set, as numbers from 1 to 1024.

    >>> thread_counts({"OMP_NUM_THREADS": "2"})
    {'OMP_NUM_THREADS': 2}
    """
    counts = {}
    for name in THREAD_VARIABLES:
        text = _value(environ, name)
        if not text:
            continue
        if not is_whole(text) or not 1 <= int(text) <= MAX_THREADS:
            raise _refusal(name, text, f"give a whole number of threads from 1 to {MAX_THREADS} (unset: 1)")
        counts[name] = int(text)
    return counts


def default_threads(environ: MutableMapping[str, str] | None = None) -> None:
    """Set every BLAS/OpenMP thread variable that is unset (or empty) to 1: featbench parallelises with
    processes; a user's own setting wins.

    >>> env = {"OMP_NUM_THREADS": "", "MKL_NUM_THREADS": "3"}; default_threads(env); sorted(env.items())
    [('MKL_NUM_THREADS', '3'), ('OMP_NUM_THREADS', '1'), ('OPENBLAS_NUM_THREADS', '1')]
    """
    environ = os.environ if environ is None else environ
    for name in THREAD_VARIABLES:
        if not environ.get(name):
            environ[name] = "1"


def temp_dirs(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The temp dir variables that are set, each an existing folder this user can write to and search.

    >>> temp_dirs({"TMPDIR": "/no/such/folder"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: TMPDIR='/no/such/folder': not a folder this user can write to; give an ...
    """
    found = {}
    for name in TEMP_VARIABLES:
        text = _value(environ, name)
        if not text:
            continue
        if "\0" in text or not os.path.isdir(text) or not os.access(text, os.W_OK | os.X_OK):
            raise _refusal(
                name, text, "not a folder this user can write to; give an existing writable folder, or unset it"
            )
        found[name] = text
    return found


def _value(environ: Mapping[str, str] | None, name: str) -> str:
    return (os.environ if environ is None else environ).get(name) or ""


def _refusal(name: str, text: str, valid: str) -> FeatbenchError:
    """One line naming the variable, its value (shortened, control characters escaped) and its valid values."""
    shown = text if len(text) <= 60 else f"{text[:60]}..."
    return FeatbenchError(f"{name}={shown!r}: {valid}")
