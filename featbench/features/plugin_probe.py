"""A plug-in's first import happens in a child process: one that hangs, ends the process or crashes it is named
in one line and never imported here.

`plugins.discover` hands the group's entry points to `probe` before it imports any of them itself. A child
process (`featbench.child_process`) imports them one after another, each given FEATBENCH_PLUGIN_TIMEOUT
seconds (default 60); one that does not finish is killed with its child, named ("its import did not finish
within 60 s"), and the others are imported by a fresh child. A child is used rather than a thread with a
deadline because a child can be killed: a hung import in a thread would keep running (holding the import lock
of its modules, using a CPU) for the rest of the run, and a C extension that hangs holding the GIL, segfaults or
calls ``os._exit`` would take featbench with it. The price is one more Python process (about 0.3 s) and each
plug-in imported twice, paid only where plug-ins are installed and a command looks for them (not when every
family asked for is a built-in one).

>>> probe([], frozenset(), importer=print)
{}
"""
from __future__ import annotations

from collections.abc import Callable

from featbench.child_process import ChildCrashed, ChildNotStarted, ChildTimeout, stream_in_child
from featbench.errors import FeatbenchError

from featbench.settings import PLUGIN_TIMEOUT as TIMEOUT_VARIABLE  # noqa: E402



def import_limit() -> float:
    """The time limit of one plug-in's import: FEATBENCH_PLUGIN_TIMEOUT (seconds), or 60; one line for a bad value."""
    from featbench.settings import plugin_timeout_s

    return plugin_timeout_s()


def probe(keys: list[tuple[str, str, str]], builtin: frozenset, importer: Callable) -> dict[tuple[str, str, str], str]:
    """{key: why the entry point cannot be used ('' when it can)} for the entry points `keys` ((name, target,
    distribution), as `plugins.entry_key` makes them), each imported in a child process within `import_limit()`
    by `importer(keys, builtin)` (`plugins.import_each`: a generator of (key, problem), in the order of `keys`)."""
    limit = import_limit()
    found: dict[tuple[str, str, str], str] = {}
    while len(found) < len(keys):
        remaining = [key for key in keys if key not in found]
        before = len(found)
        try:
            for key, problem in stream_in_child(importer, remaining, builtin, limit=limit, quiet=True):
                found[key] = problem
        except ChildTimeout:
            found[remaining[len(found) - before]] = (
                f"cannot be imported (its import did not finish within {limit:g} s; {TIMEOUT_VARIABLE} sets the limit)")
        except ChildCrashed as err:
            found[remaining[len(found) - before]] = (
                f"cannot be imported (the process importing it ended: exit code {err.returncode})")
        except ChildNotStarted as err:
            raise FeatbenchError(f"could not start a process to import the plug-ins ({err})") from None
    return found
