"""Calling code featbench does not own (a plug-in's import, a family's `load` and `extract`): its `sys.exit()`
and a KeyboardInterrupt it raises itself are its failure, never featbench's exit; a user's Ctrl-C stays a Ctrl-C.

Within `foreign(what)`, SystemExit becomes ForeignExit (an ordinary Exception, which the caller reports as that
code's failure: a plug-in not used, a clip recorded as failed). A KeyboardInterrupt is told apart by whether a
SIGINT reached this process meanwhile: in the main thread the block chains a recording handler in front of
the current one (Python's, or `InterruptGuard`'s), so a Ctrl-C is recorded, then handled as before, and goes
up as KeyboardInterrupt (exit 130, finished work kept); a Ctrl-C that reached an `InterruptGuard` opened inside
the block (openSMILE's, which defers it past the C call) counts too. A KeyboardInterrupt without a SIGINT behind it was
raised by the code itself (``raise KeyboardInterrupt``, or one raised in a thread, where no signal handler
runs): ForeignExit. Where SIGINT is ignored (worker processes: their caller handles Ctrl-C) every
KeyboardInterrupt is the code's own. Code that installs a SIGINT handler of its own inside the block and
raises KeyboardInterrupt from it is not told apart: its interrupt is taken as its own failure.

>>> with foreign("family 'x'"):
...     raise SystemExit(0)
Traceback (most recent call last):
featbench.foreign_code.ForeignExit: family 'x' called sys.exit(0)
>>> with foreign("family 'x'"):
...     raise KeyboardInterrupt
Traceback (most recent call last):
featbench.foreign_code.ForeignExit: family 'x' raised KeyboardInterrupt itself (no Ctrl-C was pressed)
>>> import os, signal
>>> from featbench.worker_process import InterruptGuard
>>> try:
...     with foreign("family 'x'"), InterruptGuard(defer=True):  # as openSMILE's extract() defers a Ctrl-C
...         os.kill(os.getpid(), signal.SIGINT)
... except KeyboardInterrupt:
...     print("the user's Ctrl-C")
the user's Ctrl-C
"""
from __future__ import annotations

import contextlib
import signal
import threading

__all__ = ["ForeignExit", "foreign"]


class ForeignExit(Exception):
    """A SystemExit, or a KeyboardInterrupt without a Ctrl-C behind it, raised by code featbench does not own."""


@contextlib.contextmanager
def foreign(what: str):
    """Run the block as code of `what` (named in the ForeignExit message: "plug-in family 'x'")."""
    from featbench.worker_process import sigints_seen

    arrived: list[int] = []
    guarded = sigints_seen()  # a Ctrl-C that reached an InterruptGuard opened inside the block (openSMILE's)
    previous = None
    if threading.current_thread() is threading.main_thread():
        current = signal.getsignal(signal.SIGINT)
        if callable(current):
            def recorded(signum, frame):
                arrived.append(signum)
                current(signum, frame)

            previous = signal.signal(signal.SIGINT, recorded)
    try:
        yield
    except SystemExit as err:
        raise ForeignExit(f"{what} called sys.exit({err.code!r})") from None
    except KeyboardInterrupt:
        if arrived or sigints_seen() != guarded:
            raise  # the user's Ctrl-C
        raise ForeignExit(f"{what} raised KeyboardInterrupt itself (no Ctrl-C was pressed)") from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
