"""The Ctrl-C checks of `featbench.conformance`: an interrupt inside a family's code must come out as
KeyboardInterrupt, and an extraction interrupted mid-run must keep whole clips only.

Python delivers Ctrl-C between two lines of Python code. `Interrupter` (a `sys.settrace` function) raises
KeyboardInterrupt at a chosen line of the family's own package, as if Ctrl-C had been pressed there; a
family that catches it (a bare ``except:``, ``except BaseException`` without raising again) or turns it into
another exception (which extraction would record as a failed clip and go on) fails the check, named with
the file and line. Code running in C (a model's forward pass) is not interrupted by this check.

>>> tracer = Interrupter((__file__,), at=None)
>>> _traced(lambda: sum([1, 2]), tracer), tracer.count
(3, 0)
"""
from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from pathlib import Path
from collections.abc import Callable

import numpy as np

from featbench.conformance.arrays import SAME, same
from featbench.errors import one_line

POINTS = {"load": 4, "extract": 8, "extract_batch": 4}  # at most this many lines to interrupt, spread over the call
_CHECKS = {str(p) for p in Path(__file__).parent.glob("*.py")}  # the checks' own lines are never interrupted


class Interrupter:
    """A trace function: counts the lines run in files under `prefixes` (`count`) and raises KeyboardInterrupt
    at line number `at` (from 1; None: only count), remembering where (`where`)."""

    def __init__(self, prefixes: tuple[str, ...], at: int | None = None):
        self.prefixes, self.at, self.count, self.where = prefixes, at, 0, ""

    def __call__(self, frame, event, arg):
        filename = frame.f_code.co_filename
        return self._line if filename.startswith(self.prefixes) and filename not in _CHECKS else None

    def _line(self, frame, event, arg):
        if event == "line":
            self.count += 1
            if self.count == self.at:
                self.where = f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno} ({frame.f_code.co_name})"
                ctrl_c()
        return self._line


class CallInterrupter:
    """A trace function that raises KeyboardInterrupt when `code` is called for the `nth` time."""

    def __init__(self, code, nth: int):
        self.code, self.nth, self.calls = code, nth, 0

    def __call__(self, frame, event, arg):
        if event == "call" and frame.f_code is self.code:
            self.calls += 1
            if self.calls == self.nth:
                ctrl_c()
        return None


def ctrl_c() -> None:
    """Raise KeyboardInterrupt as a Ctrl-C does: a real SIGINT, through this process's handlers (which may record
    it, as `featbench.foreign_code` and `InterruptGuard` do), where a handler is installed; else directly."""
    if callable(signal.getsignal(signal.SIGINT)) and threading.current_thread() is threading.main_thread():
        signal.raise_signal(signal.SIGINT)  # the handler runs now, inside this call
    raise KeyboardInterrupt  # no handler, or one that only recorded it (a deferring InterruptGuard)


def _traced(call: Callable, tracer):
    """`call()` with `tracer` as this thread's trace function (the previous one restored after)."""
    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        return call()
    finally:
        sys.settrace(previous)


def family_files(family) -> tuple[str, ...]:
    """Where the family's own code lives: its top-level package's folder (or its module's file)."""
    top = sys.modules[type(family).__module__.partition(".")[0]]
    path = Path(top.__file__)
    return (str(path.parent) + os.sep,) if path.name == "__init__.py" else (str(path),)


def _attempt(call: Callable, prefixes: tuple[str, ...], at: int, what: str) -> str | None:
    """Interrupt `call` at its line `at`: '' when KeyboardInterrupt came out, a phrase when it did not, None when
    the call ran fewer lines than that."""
    tracer = Interrupter(prefixes, at)
    try:
        _traced(call, tracer)
    except KeyboardInterrupt:
        return ""
    except Exception as err:
        if not tracer.where:
            raise  # the family's own failure, not an interrupt: the checks before this one name it
        return f"a Ctrl-C at {tracer.where} came out of {what} as {one_line(err)}"
    return f"a Ctrl-C at {tracer.where} was swallowed ({what} returned normally)" if tracer.where else None


def check_interrupts(probe) -> tuple[bool, str]:
    """Interrupt `load()`, `extract()` (one clip) and `extract_batch()` (two clips) at up to POINTS lines each."""
    prefixes = family_files(probe.family)
    loaded = probe.fresh()
    made = {"load": lambda: probe.fresh(load=False).load,  # a new instance each time: load() starts from scratch
            "extract": lambda: functools.partial(probe.one, loaded, probe.inputs[0]),
            "extract_batch": lambda: functools.partial(probe.many, loaded, probe.inputs[:2])}
    tried, problems = 0, []
    for what, make in made.items():
        counter = Interrupter(prefixes)
        _traced(make(), counter)
        for at in sorted({int(round(x)) for x in np.linspace(1, counter.count, POINTS[what])} if counter.count else ()):
            problem = _attempt(make(), prefixes, at, f"{what}()")
            tried += problem is not None
            if problem:
                problems.append(problem)
    if problems:
        return False, f"{problems[0]} ({len(problems)} of {tried} interrupted lines)"
    return True, f"interrupted at {tried} lines inside load(), extract() and extract_batch(): KeyboardInterrupt each time"


def check_interrupted_extraction(probe) -> tuple[bool, str]:
    """`run_extraction` of the three clips, interrupted when the family starts on the second: the store must hold
    the first clip whole (as extracted uninterrupted) and nothing else, and the rerun must do the other two."""
    from featbench.corpus.table import make_table
    from featbench.extract import run_extraction

    ids = [p.stem for p in probe.paths]
    table = make_table([dict(id=uid, path=str(path), label="x", speaker="s", transcript=probe.inputs[k] if probe.text else "")
                        for k, (uid, path) in enumerate(zip(ids, probe.paths))], name="synthetic clips")
    store, specs = probe.paths[0].parent / "store", [(probe.name, probe.options)]
    method = type(probe.family).extract_text_batch if probe.text else type(probe.family).extract_batch
    tracer = CallInterrupter(method.__code__, nth=2)
    try:
        _traced(lambda: run_extraction(table, specs, store, probe.audio, progress=False), tracer)
    except KeyboardInterrupt:
        pass
    else:
        return False, ("the run went on after a Ctrl-C in the second clip" if tracer.calls >= 2 else
                       f"the run called {method.__qualname__} {tracer.calls} time(s) for 3 clips")
    expected = {uid: probe.family.storage.apply(a) for uid, a in zip(ids, probe.outputs)}
    problem = _stored_problem(store, probe.name, expected, ids[:1], "after the Ctrl-C")
    if problem:
        return False, problem
    rerun = run_extraction(table, specs, store, probe.audio, progress=False)
    if (rerun.already_done, rerun.extracted) != (1, 2):
        return False, f"the rerun found {rerun.already_done} clip(s) stored and extracted {rerun.extracted}, not 1 and 2"
    problem = _stored_problem(store, probe.name, expected, ids, "after the rerun")
    return (False, problem) if problem else (True, "interrupted in clip 2: clip 1 stored whole and nothing else; the "
                                                   "rerun extracted clips 2 and 3")


def _stored_problem(store: Path, name: str, expected: dict, ids: list[str], when: str) -> str:
    """'' when the store holds exactly `ids` of family `name`, each as extracted uninterrupted; else what is wrong."""
    from featbench.store import list_families, read_family

    stored = read_family(store, name) if name in list_families(store) else None
    held = sorted(stored.ids) if stored is not None else []
    if held != sorted(ids):
        return f"{when} the store holds {held}, not {ids}"
    for uid in ids:
        if not same(stored.get(uid), expected[uid], SAME):
            return f"{when} the stored features of {uid} differ from those extracted uninterrupted"
    return ""
