"""A user's script that starts featbench work at import time (no ``if __name__ == "__main__":``).

Local worker processes are spawned, and a spawned process imports the caller's script again (as
``__mp_main__``) before it runs a task. A script whose featbench calls sit at its top level would start
the whole run again inside every worker: the store is locked by the parent, so the worker dies, and the
parent used to blame memory. Here the worker notices where it is and leaves at once, silently, with
`EXIT_CODE` (`leave_if_importing_script`, called where featbench work starts: a lock taken, a run of
tasks); the parent recognises that code among its dead workers (`unguarded_script`) and names the script
in one line.

>>> leave_if_importing_script()  # in the process that runs the script: nothing happens
>>> unguarded_script([]) is None
True
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Iterable

from featbench.errors import FeatbenchError

EXIT_CODE = 86  # a worker that left because it was importing the caller's script


class ScriptNotGuardedError(FeatbenchError):
    """The caller's script starts featbench work at import time; uncaught, it is printed as one line."""


def importing_script() -> bool:
    """True in a spawned (or forkserver) worker process that is still importing the caller's script: the
    state in which multiprocessing itself refuses to start processes (``_inheriting``)."""
    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


def leave_if_importing_script() -> None:
    """End this process now, with `EXIT_CODE` and no output, if it is a worker importing the caller's script;
    otherwise do nothing. Its parent then raises `ScriptNotGuardedError` (see `unguarded_script`)."""
    if importing_script():
        os._exit(EXIT_CODE)


def unguarded_script(processes: Iterable) -> ScriptNotGuardedError | None:
    """The error naming the caller's script when one of these dead worker processes left with `EXIT_CODE`;
    None otherwise. Uncaught, it prints as one line ``featbench: error: ...`` instead of a traceback."""
    if EXIT_CODE not in _exit_codes(list(processes)):
        return None
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None) or "the script"
    _print_uncaught_as_one_line()
    return ScriptNotGuardedError(f"{script} starts featbench work at import time; put it under "
                                 '`if __name__ == "__main__":` (worker processes re-import the script)')


def _exit_codes(processes: list, seconds: float = 5.0) -> list:
    """The processes' exit codes, waiting up to `seconds` for those not known yet: a dead worker's pipe closes an
    instant before the kernel reports its exit, and the pool's own thread may be reaping it meanwhile."""
    deadline = time.monotonic() + seconds
    while True:
        for process in processes:
            if process.exitcode is None:
                process.join(timeout=0.05)
        codes = [process.exitcode for process in processes]
        if EXIT_CODE in codes or None not in codes or time.monotonic() > deadline:
            return codes


def _print_uncaught_as_one_line() -> None:
    """Show an uncaught ScriptNotGuardedError as ``featbench: error: <message>``; any other exception as before."""
    previous = sys.excepthook
    if getattr(previous, "featbench_one_line", False):
        return

    def hook(kind, err, tb):
        if isinstance(err, ScriptNotGuardedError):
            print(f"featbench: error: {err}", file=sys.stderr)
        else:
            previous(kind, err, tb)

    hook.featbench_one_line = True
    sys.excepthook = hook
