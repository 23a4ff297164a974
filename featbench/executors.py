"""Where tasks run: "run these tasks, yield their results as they finish", in this process, in local worker
processes (`Local`), or on a Dask cluster (`Dask`, implemented in `featbench.dask_cluster`).

An `Executor` is chosen once, by the caller (the command line builds one from ``--jobs``/``--scheduler``),
and passed down; extraction, transcription and the training grid call its `run` and never know which one
runs. A task is `work(context, task)`, where the context is built once per worker by `setup(*setup_args)`
(models loaded once per worker, not once per task) and dropped when the run ends.

Interrupts and crashes are normal use:

- Ctrl-C raises KeyboardInterrupt in the caller and nothing computed while it arrived is yielded, also
  when a C library swallowed the interrupt (openSMILE runs its Python callbacks inside C, where an
  exception cannot propagate): a SIGINT handler records it and every result is checked against it.
- Worker processes start with SIGINT blocked, then ignore it (the caller decides; a Ctrl-C while they
  import is not a traceback of theirs), never outlive their parent (Linux
  ``PR_SET_PDEATHSIG`` plus a watchdog thread elsewhere, so kill -9 of the caller kills them too), and
  are killed, not awaited, when the caller stops early.
- At most `2 * workers` tasks are in flight, so memory stays flat however many tasks there are.

>>> with Local(2) as executor:
...     sorted(executor.run(_demo_work, [1, 2, 3], setup=_demo_setup, setup_args=(10,)))
[11, 12, 13]
"""
from __future__ import annotations

import os
import signal
import threading
import warnings
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from collections.abc import Callable, Iterable, Iterator

from featbench.errors import FeatbenchError
from featbench.script_guard import leave_if_importing_script, unguarded_script
from featbench.worker_process import InterruptGuard, born_with_interrupts_blocked, limit_threads, set_worker_index

__all__ = ["Executor", "Local", "Dask", "resolve_executor", "run_tasks", "InterruptGuard", "limit_threads", "SCHEDULER_HELP"]

_CONTEXT: dict[str, Any] = {}  # inside worker processes only: the context built by setup


def _demo_setup(base: int) -> int:
    return base


def _demo_work(context: int, task: int) -> int:
    return context + task


def _die_with_parent(parent: int) -> None:
    """Make this worker process end when its parent does, whatever way the parent ends."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: the kernel kills us when the parent dies
    except (OSError, AttributeError):
        pass  # not Linux: the watchdog below does the same within a second

    def watchdog() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            threading.Event().wait(1.0)

    threading.Thread(target=watchdog, daemon=True, name="featbench-parent-watchdog").start()
    if os.getppid() != parent:  # the parent died before the kernel was told
        os._exit(1)


def _init_worker(parent: int, threads: int, setup: Callable | None, setup_args: tuple, counter) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # started with it blocked (`born_with_interrupts_blocked`)
    _die_with_parent(parent)
    with counter.get_lock():  # this worker's number in its pool: 0, 1, ... in the order they start
        set_worker_index(counter.value)
        counter.value += 1
    limit_threads(threads)
    try:
        _CONTEXT["value"] = setup(*setup_args) if setup is not None else None
    except Exception as err:  # raised again with the first task, so that the caller gets it intact
        _CONTEXT["error"] = err


def _call(work: Callable, task: Any) -> Any:
    if "error" in _CONTEXT:
        raise _CONTEXT["error"]
    return work(_CONTEXT["value"], task)


def _in_process(work: Callable, tasks: Iterable, setup: Callable | None, setup_args: tuple) -> Iterator:
    import sys

    torch_threads = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None
    limiter = limit_threads(1)
    try:
        with InterruptGuard() as guard:
            built = False
            for task in tasks:
                if not built:  # built on the first task: a run with nothing to do loads nothing
                    context, built = (setup(*setup_args) if setup is not None else None), True
                result = work(context, task)
                guard.check()  # an interrupt swallowed during `work` makes its result suspect: drop it
                yield result
    finally:
        limiter.restore_original_limits()
        if torch_threads is not None and "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(torch_threads)


def _kill(pool) -> None:
    """Stop a process pool now: queued tasks cancelled, running workers killed (not awaited)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.kill()
    for process in processes:
        process.join(timeout=5)


def _result(future, started: set):
    """A finished task's result; a worker that died is one FeatbenchError line: the caller's script re-imported
    by the workers started featbench work (`featbench.script_guard`), or it was killed (out of memory?)."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool:
        raise unguarded_script(started) or FeatbenchError(
            "a worker process died (killed, or out of memory?); finished work is kept, "
            "run the same command again to resume") from None


def _in_workers(work: Callable, tasks: Iterable, workers: int, setup: Callable | None, setup_args: tuple) -> Iterator:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                               initargs=(os.getpid(), 1, setup, setup_args, context.Value("i", 0)))
    finished_cleanly, started = False, set()

    def submit(task):
        if len(getattr(pool, "_processes", None) or {}) >= workers:
            return pool.submit(_call, work, task)
        with born_with_interrupts_blocked():  # this submit starts a worker
            future = pool.submit(_call, work, task)
        started.update((getattr(pool, "_processes", None) or {}).values())  # their exit codes explain a death
        return future

    try:
        pending = set()
        for task in tasks:
            pending.add(submit(task))
            if len(pending) >= 2 * workers:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield _result(future, started)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield _result(future, started)
        finished_cleanly = True
    finally:
        if finished_cleanly:
            pool.shutdown(wait=True)
        else:  # interrupted, failed, or the caller stopped reading: nothing may outlive the run
            _kill(pool)


@runtime_checkable
class Executor(Protocol):
    """Where a run's tasks go. `run` yields `work(context, task)` for every task in completion order (see the
    module docstring); closing its iterator early ends the work at once. Use the executor as a context
    manager: leaving the block releases what it holds (a cluster connection)."""

    def run(self, work: Callable[[Any, Any], Any], tasks: Iterable, setup: Callable | None = None,
            setup_args: tuple = (), resources: dict | None = None) -> Iterator: ...

    def check_device(self, device, torch_needed: bool = True):
        """The `featbench.device.Device` the tasks will use, checked where they will run, before any task:
        one FeatbenchError line if it is not there. `resources` of `run` then asks for it (Dask)."""

    def local_processes(self, tasks: int) -> int:
        """How many processes of this machine run `tasks` tasks (1: the caller's own; 0: none, they run
        elsewhere). Above 1, large inputs are best handed over as memory-mapped files."""

    def describe(self) -> str:
        """One line for the user: where the work goes."""

    def close(self) -> None: ...

    def __enter__(self): ...

    def __exit__(self, kind, err, tb) -> None: ...


@dataclass(frozen=True)
class Local:
    """Tasks in this process (`workers` <= 1, single-threaded) or in up to `workers` single-threaded local
    processes, never more than there are tasks (a single task runs here: no process to start).

    >>> Local(2).describe(), Local(2).local_processes(1)
    ('2 local worker processes', 1)
    >>> list(Local().run(_demo_work, [1, 2], setup=_demo_setup, setup_args=(10,)))
    [11, 12]
    """

    workers: int = 1

    def local_processes(self, tasks: int) -> int:
        return max(1, min(self.workers, tasks))

    def run(self, work: Callable[[Any, Any], Any], tasks: Iterable, setup: Callable | None = None,
            setup_args: tuple = (), resources: dict | None = None) -> Iterator:
        """`work` and `setup` must be module-level functions (they are sent to spawned processes). `resources`
        (what each task needs, e.g. {"GPU": 1}) concern clusters only: this machine's devices are checked by
        `check_device`, and worker i takes GPU i mod n (`featbench.device.Device.for_worker`)."""
        leave_if_importing_script()
        workers = self.local_processes(len(tasks)) if hasattr(tasks, "__len__") else self.workers
        if workers <= 1:
            return _in_process(work, tasks, setup, setup_args)
        return _in_workers(work, tasks, workers, setup, setup_args)

    def check_device(self, device, torch_needed: bool = True):
        """`device` resolved on this machine (`featbench.device.Device.resolve`)."""
        return device.resolve(torch_needed=torch_needed)

    def describe(self) -> str:
        return f"{self.workers} local worker processes" if self.workers > 1 else "this process"

    def close(self) -> None:
        pass  # nothing outlives a run

    def __enter__(self) -> Local:
        return self

    def __exit__(self, kind, err, tb) -> None:
        self.close()


SCHEDULER_HELP = ("Run the work on a Dask cluster: a scheduler address (tcp://host:8786), or local:N for N worker "
                  "processes on this machine. Replaces --jobs. Needs featbench[dask].")


def Dask(address: str) -> Executor:  # noqa: N802 - an executor's constructor to its callers, like Local
    """The Dask cluster at `address` (``tcp://host:8786``; ``local:N`` starts N worker processes here, closed
    with the executor), connected and its workers checked (`featbench.dask_cluster.DaskCluster.connect`);
    one FeatbenchError line if that fails or Dask is not installed.

    >>> Dask("somewhere")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: --scheduler ...
    """
    try:
        from featbench.dask_cluster import DaskCluster
    except ImportError as err:
        raise FeatbenchError(f"--scheduler needs Dask: pip install 'featbench[dask]' ({err})") from None
    return DaskCluster.connect(address)


def resolve_executor(executor: Executor | int | None = None, jobs: int | None = None, cluster: Executor | None = None,
           caller: str = "") -> Executor:
    """The executor of a library call that may still use the keywords `executor` replaced: ``jobs=N`` (or N
    where the executor goes) is `Local(N)`, ``cluster=c`` is `c`, each with a DeprecationWarning. None: `Local()`.

    >>> resolve_executor(None), resolve_executor(Local(3))
    (Local(workers=1), Local(workers=3))
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     resolve_executor(jobs=2, caller="run_training")
    Local(workers=2)
    >>> str(seen[0].message)
    'run_training(jobs=2) is deprecated: pass executor=Local(2) (featbench.executors)'
    """
    if isinstance(executor, int):  # the old positional jobs
        executor, jobs = None, executor
    if jobs is None and cluster is None:
        return executor if executor is not None else Local()
    if executor is not None:
        raise FeatbenchError(f"{caller}: give executor= alone, not with the deprecated jobs= or cluster=")
    if cluster is not None:  # as before: the cluster's workers do the work, jobs is ignored
        warnings.warn(f"{caller}(cluster=...) is deprecated: pass executor=... (featbench.executors.Dask)",
                      DeprecationWarning, stacklevel=3)
        return cluster
    warnings.warn(f"{caller}(jobs={jobs}) is deprecated: pass executor=Local({jobs}) (featbench.executors)",
                  DeprecationWarning, stacklevel=3)
    return Local(jobs)


def run_tasks(work: Callable[[Any, Any], Any], tasks: Iterable, workers: int = 1,
              setup: Callable | None = None, setup_args: tuple = (), cluster: Executor | None = None) -> Iterator:
    """``Local(workers).run(work, tasks, setup, setup_args)``: results in completion order (in task order when
    workers <= 1). Close the iterator when stopping early (``with contextlib.closing(run_tasks(...)) as
    results:``): that ends the workers at once. `cluster` (deprecated: call its `run`) runs them there instead.

    >>> list(run_tasks(_demo_work, [1, 2, 3], setup=_demo_setup, setup_args=(10,)))
    [11, 12, 13]
    """
    executor = resolve_executor(cluster=cluster, caller="run_tasks") if cluster is not None else Local(workers)
    return executor.run(work, tasks, setup, setup_args)
