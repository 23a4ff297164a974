"""Read what libhdf5 might never finish reading in a child process: a time limit, and Ctrl-C honoured.

Store files up to format 2 keep their strings (ids, audio hashes, attributes) in an HDF5 global heap.
Bytes damaged in a heap can make libhdf5 walk it forever, inside C, where no Python signal handler runs:
Ctrl-C is ignored and the store lock held. `read_bounded` runs such a read in a child process
(`featbench.child_process`: a terminal's Ctrl-C reaches the caller only; the child dies with the caller, also
on kill -9), waits at most FEATBENCH_READ_TIMEOUT seconds (default 60) once the child has started, kills it on
expiry or on Ctrl-C, and returns what it read or raises what it raised. A read that did not finish, or a
child that crashed, is a CorruptStoreError naming the file.

FEATBENCH_READ_TIMEOUT is checked by `check_settings` when a store is opened (`verify`, `read_family`,
`StoreWriter`), before any file is read: a value that is not a number of seconds above 0 (``abc``, ``0``,
``inf``) is one line, never taken as damage.

>>> import os
>>> read_bounded("/no/such/store.h5", os.path.basename, "/no/such/store.h5")
'store.h5'
"""
from __future__ import annotations

from pathlib import Path
from typing import Any
from collections.abc import Callable

from featbench.child_process import ChildCrashed, ChildNotStarted, ChildTimeout, stream_in_child
from featbench.errors import CorruptStoreError, FeatbenchError

from featbench.settings import READ_TIMEOUT as TIMEOUT_VARIABLE  # noqa: E402



def timeout_s() -> float:
    """The time limit of one read: FEATBENCH_READ_TIMEOUT (seconds), or 60 (checked by `featbench.settings`)."""
    from featbench.settings import read_timeout_s

    return read_timeout_s()


def check_settings() -> None:
    """Check every FEATBENCH_* setting the store code reads (one line for a bad one), before a file is touched."""
    timeout_s()


def read_bounded(path: str | Path, function: Callable, *args) -> Any:
    """`function(*args)` (a module-level function reading the store file at `path`) run in a child process,
    at most `timeout_s()` seconds; its exception is raised here."""
    limit = timeout_s()
    try:
        return list(stream_in_child(function, *args, limit=limit))[0]
    except ChildNotStarted as err:
        raise FeatbenchError(f"{path}: could not start a process to read it ({err})") from None
    except ChildTimeout:
        raise CorruptStoreError(f"{path}: damaged store file (reading its HDF5 metadata did not finish within "
                                f"{limit:g} s; or the disk is very slow: {TIMEOUT_VARIABLE} sets the limit)") from None
    except ChildCrashed as err:
        raise CorruptStoreError(f"{path}: damaged store file (the process reading it crashed: exit code "
                                f"{err.returncode})") from None
