"""Read what libhdf5 might never finish reading in a child process: a time limit, and Ctrl-C honoured.

Store files up to format 2 keep their strings (ids, audio hashes, attributes) in an HDF5 global heap.
Bytes damaged in a heap can make libhdf5 walk it forever, inside C, where no Python signal handler runs:
Ctrl-C is ignored and the store lock held. `read_bounded` runs such a read in a child process of its own
process group (a terminal's Ctrl-C reaches the caller only; the child dies with the caller, also on
kill -9), waits at most FEATBENCH_READ_TIMEOUT seconds (default 60) once the child has started, kills it on
expiry or on Ctrl-C, and returns what it read or raises what it raised. A read that did not finish, or a
child that crashed, is a CorruptStoreError naming the file.

>>> import os
>>> read_bounded("/no/such/store.h5", os.path.basename, "/no/such/store.h5")
'store.h5'
"""
from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable

from featbench.errors import CorruptStoreError, FeatbenchError

TIMEOUT_VARIABLE = "FEATBENCH_READ_TIMEOUT"
DEFAULT_TIMEOUT_S = 60.0
STARTUP_S = 120.0  # a child that has not even started after this long (a machine out of memory) is given up
_READY = "ready"


def timeout_s() -> float:
    """The time limit of one read: FEATBENCH_READ_TIMEOUT (seconds), or 60 (checked by `featbench.settings`)."""
    from featbench.settings import read_timeout_s

    return read_timeout_s()


def read_bounded(path: str | Path, function: Callable, *args) -> Any:
    """`function(*args)` (a module-level function reading the store file at `path`) run in a child process,
    at most `timeout_s()` seconds; its exception is raised here."""
    limit = timeout_s()
    child = subprocess.Popen([sys.executable, "-c", "from featbench.store.bounded import _serve; _serve()"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
                             **({"process_group": 0} if os.name == "posix" else {}))
    answers: queue.Queue = queue.Queue()
    listener = threading.Thread(target=_listen, args=(child.stdout, answers), daemon=True, name="featbench-reader")
    listener.start()
    try:
        child.stdin.write(pickle.dumps((os.getpid(), function, args)))
        child.stdin.close()
        if _next(answers, STARTUP_S) != (_READY,):
            raise FeatbenchError(f"{path}: could not start a process to read it (within {STARTUP_S:g} s)")
        answer = _next(answers, limit)
        if answer is None:
            raise CorruptStoreError(f"{path}: damaged store file (reading its HDF5 metadata did not finish within "
                                    f"{limit:g} s; or the disk is very slow: {TIMEOUT_VARIABLE} sets the limit)")
        if answer == ():
            child.wait(timeout=5)
            raise CorruptStoreError(f"{path}: damaged store file (the process reading it crashed: exit code "
                                    f"{child.returncode})")
        kind, value = answer
        if kind == "error":
            raise value
        return value
    except BrokenPipeError:
        raise FeatbenchError(f"{path}: the process started to read it ended at once") from None
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        listener.join(timeout=5)  # the pipe ends with the child
        child.stdout.close()


def _next(answers: queue.Queue, limit: float):
    """The child's next message, () when it ended without one, None when none came within `limit` seconds."""
    try:
        return answers.get(timeout=limit)
    except queue.Empty:
        return None


def _listen(stream, answers: queue.Queue) -> None:
    while True:
        try:
            answers.put(pickle.load(stream))
        except Exception:  # end of the stream (the child ended or was killed) or a torn message
            answers.put(())
            return


def _serve() -> None:
    """The child: read the request from stdin, answer on stdout (stray output goes to stderr)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the caller decides; it kills us when interrupted
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    parent, function, args = pickle.load(sys.stdin.buffer)
    from featbench.executors import _die_with_parent

    _die_with_parent(parent)
    pickle.dump((_READY,), channel)
    channel.flush()
    try:
        answer = ("value", function(*args))
    except Exception as err:
        answer = ("error", err)
    try:
        message = pickle.dumps(answer)
    except Exception:  # an exception that cannot travel: its text does
        message = pickle.dumps(("error", FeatbenchError(f"{type(answer[1]).__name__}: {answer[1]}")))
    channel.write(message)
    channel.flush()
