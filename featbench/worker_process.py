"""What every process that runs featbench work needs, whoever started it (local pool or Dask worker):
Ctrl-C recorded or held back where C code cannot take it, and one BLAS thread per process.

Example:
    >>> with InterruptGuard() as guard:
    ...     guard.interrupted
    False
"""
from __future__ import annotations

import contextlib
import os  # noqa: F401 - the doctest of InterruptGuard sends SIGINT with os.kill
import signal
import sys
import threading

__all__ = ["InterruptGuard", "born_with_interrupts_blocked", "limit_threads", "set_worker_index", "worker_index"]

_WORKER: dict[str, int] = {}  # this process's worker number, once a pool or a cluster gave it one


_sigints = 0  # SIGINTs that reached an InterruptGuard's handler in this process


def sigints_seen() -> int:
    """How many SIGINTs (Ctrl-C) the InterruptGuards of this process have received: code that must tell a user's
    Ctrl-C from a KeyboardInterrupt raised by other code compares it before and after (featbench.foreign_code)."""
    return _sigints


class InterruptGuard:
    """Within the block, SIGINT sets `interrupted` before raising KeyboardInterrupt, so an interrupt that
    a C library swallowed is still seen by `check()`. Only the main thread can install the handler.

    With ``defer=True`` an interrupt is only recorded, and raised as KeyboardInterrupt when the block ends:
    for C code that calls Python back (an exception raised inside a ctypes callback is printed as "Exception
    ignored" and lost), and for a library's start-up that must not be cut in half (a Dask cluster that is
    half started cannot be closed). A process whose SIGINT is ignored keeps ignoring it.

    >>> try:
    ...     with InterruptGuard(defer=True):
    ...         os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C
    ...         print("the block goes on")
    ... except KeyboardInterrupt:
    ...     print("raised when it ends")
    the block goes on
    raised when it ends
    """

    def __init__(self, defer: bool = False):
        self.interrupted = False
        self.defer = defer
        self._previous = None
        self._unraisable = None
        self._broken: list = []  # the callbacks a swallowed KeyboardInterrupt cut short
        self.aftermath = 0  # their later errors, left in a broken state by that interrupt (counted, not printed)

    def _swallowed(self, unraisable) -> None:
        """A KeyboardInterrupt that code which cannot raise took (a garbage-collector callback, `__del__`): it is
        recorded, and `check()` or the block's end raises it, instead of Python printing "Exception ignored in".
        An error that the same callback raises later is the aftermath of that interrupt (Dask's GC diagnosis, cut
        short between its start and stop, asserts on its next call): counted in `aftermath`, not printed, since
        the run ends with its one interrupt line. Any other unraisable error goes to the previous hook."""
        if issubclass(unraisable.exc_type, KeyboardInterrupt):
            self.interrupted = True
            self._broken.append(unraisable.object)
        elif self.interrupted and any(_same(unraisable.object, broken) for broken in self._broken):
            self.aftermath += 1
        else:
            self._unraisable(unraisable)

    def _handler(self, signum, frame):
        global _sigints
        _sigints += 1
        self.interrupted = True
        if not self.defer:
            raise KeyboardInterrupt

    def __enter__(self) -> InterruptGuard:
        main = threading.current_thread() is threading.main_thread()
        if main and not (self.defer and signal.getsignal(signal.SIGINT) == signal.SIG_IGN):
            self._previous = signal.signal(signal.SIGINT, self._handler)
            self._unraisable, sys.unraisablehook = sys.unraisablehook, self._swallowed
        return self

    def __exit__(self, kind, err, tb) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            sys.unraisablehook = self._unraisable
        if self.defer and self.interrupted and kind is not KeyboardInterrupt:
            raise KeyboardInterrupt  # also over another exception: the user asked to stop

    def check(self) -> None:
        """Raise KeyboardInterrupt if an interrupt arrived, even one that was swallowed."""
        if self.interrupted:
            raise KeyboardInterrupt


def _same(a, b) -> bool:
    """Whether two unraisable-hook objects are the same callback (bound methods of one object compare equal)."""
    try:
        return a is b or bool(a == b)
    except Exception:  # an object whose == fails is not the callback we recorded
        return False


@contextlib.contextmanager
def born_with_interrupts_blocked():
    """Threads started within the block, and every process that they (or threads they start) spawn at any time
    later, begin with SIGINT blocked: a Ctrl-C that the terminal sends to the whole process group stays pending
    in a worker process that is still importing, instead of ending it with a traceback of its own. This
    thread has SIGINT blocked within the block too; a Ctrl-C meanwhile reaches the handler when the block ends
    (or at once, through another thread of this process): it is held back, never lost.

    A blocked mask survives fork and exec (multiprocessing's resource tracker is started that way), but starting
    that tracker unblocks SIGINT in the thread that starts it, which would be the first one to spawn a worker:
    it is started here first.

    >>> seen = []
    >>> with born_with_interrupts_blocked():
    ...     thread = threading.Thread(target=lambda: seen.append(signal.pthread_sigmask(signal.SIG_BLOCK, [])))
    ...     thread.start()
    >>> thread.join()
    >>> signal.SIGINT in seen[0], signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])
    (True, False)
    """
    if not hasattr(signal, "pthread_sigmask"):  # not POSIX
        yield
        return
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)  # a Ctrl-C held back meanwhile is handled now


def limit_threads(threads: int):
    """Pin BLAS/OpenMP (and torch, if loaded) to `threads`: processes, not threads, are the unit of
    parallelism. Returns the threadpoolctl limiter; restore_original_limits() undoes the BLAS part."""
    import sys

    from threadpoolctl import threadpool_limits

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    return threadpool_limits(threads)


def worker_index() -> int:
    """This process's worker number (`featbench.device.Device.for_worker` maps it to a GPU): 0, 1, ... in the
    order a local pool started its workers, a cluster worker's number (`set_worker_index`), else 0.

    >>> worker_index()
    0
    """
    return _WORKER.get("index", 0)


def set_worker_index(number: int) -> None:
    """Record this worker process's number (`worker_index`), as it starts."""
    _WORKER["index"] = number
