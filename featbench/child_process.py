"""Run code that might never return in a child process: each of its results within a time limit, Ctrl-C honoured.

Some calls can hang where no Python signal handler runs, or end the process they run in: libhdf5 walking a
damaged global heap (`featbench.store.bounded`), a plug-in's import (`featbench.features.plugin_probe`), a
family under ``featbench families --check`` (`featbench.conformance`). `stream_in_child` runs such a call in
a child process of its own process group (a terminal's Ctrl-C reaches the caller only; the child dies with
the caller, also on kill -9). The call is a module-level function: a generator, whose items come back one by
one, or a plain function, whose value is the one item. Each item must come within `limit` seconds of the
previous one (the first: of the child's start, its imports done); on expiry the child is killed and
ChildTimeout raised, a child that ended without answering is ChildCrashed, and an exception the call raised
is raised here. Ctrl-C (or the caller stopping early) kills the child.

>>> import os
>>> list(stream_in_child(os.path.basename, "/no/such/file.h5", limit=60))
['file.h5']
"""
from __future__ import annotations

import inspect
import os
import pickle
import queue
import subprocess
import sys
import threading
from typing import Any
from collections.abc import Callable, Iterator

from featbench.errors import FeatbenchError

STARTUP_S = 120.0  # a child that has not even started after this long (a machine out of memory) is given up
_READY, _ITEM, _ERROR, _END = "ready", "item", "error", "end"


class ChildTimeout(Exception):
    """The next result did not come within `seconds`."""

    def __init__(self, seconds: float):
        super().__init__(f"no answer within {seconds:g} s")
        self.seconds = seconds


class ChildCrashed(Exception):
    """The child ended without answering (a crash, os._exit, killed): `returncode`."""

    def __init__(self, returncode: int | None):
        super().__init__(f"the child process ended without an answer (exit code {returncode})")
        self.returncode = returncode


class ChildNotStarted(Exception):
    """The child did not start (within `STARTUP_S`, or it ended at once)."""


def stream_in_child(function: Callable, *args, limit: float, interrupts: bool = False, quiet: bool = False) -> Iterator[Any]:
    """Yield what `function(*args)` gives (each item of a generator, or the one value), computed in a child process.
    `interrupts`: the child keeps Python's SIGINT handler (code that raises SIGINT itself sees it); else it
    ignores SIGINT. `quiet`: the child's stderr is discarded. See the module's docstring."""
    child = subprocess.Popen([sys.executable, "-c", "from featbench.child_process import _serve; _serve()"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL if quiet else None,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
                             **({"process_group": 0} if os.name == "posix" else {}))
    answers: queue.Queue = queue.Queue()
    listener = threading.Thread(target=_listen, args=(child.stdout, answers), daemon=True, name="featbench-child")
    listener.start()
    try:
        try:
            child.stdin.write(pickle.dumps((os.getpid(), interrupts, function, args)))
            child.stdin.close()
        except BrokenPipeError:
            raise ChildNotStarted("the child process ended at once") from None
        if _next(answers, STARTUP_S) != (_READY,):
            raise ChildNotStarted(f"the child process did not start within {STARTUP_S:g} s")
        while True:
            answer = _next(answers, limit)
            if answer is None:
                raise ChildTimeout(limit)
            if answer == ():
                child.wait(timeout=5)
                raise ChildCrashed(child.returncode)
            if answer[0] == _END:
                return
            if answer[0] == _ERROR:
                raise answer[1]
            yield answer[1]
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


def _send(channel, message: tuple) -> None:
    try:
        data = pickle.dumps(message)
    except Exception:  # a value or an exception that cannot travel: its text does
        data = pickle.dumps((_ERROR, FeatbenchError(f"{type(message[1]).__name__}: {message[1]}")))
    channel.write(data)
    channel.flush()


def _serve() -> None:
    """The child: read the request from stdin, answer on stdout (stray output goes to stderr)."""
    import signal

    channel = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    parent, interrupts, function, args = pickle.load(sys.stdin.buffer)
    if not interrupts:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the caller decides; it kills us when interrupted
    from featbench.executors import _die_with_parent

    _die_with_parent(parent)
    _send(channel, (_READY,))
    try:
        result = function(*args)
        for item in (result if inspect.isgenerator(result) else [result]):
            _send(channel, (_ITEM, item))
    except Exception as err:
        _send(channel, (_ERROR, err))
    _send(channel, (_END,))
