"""Run featbench's tasks on a Dask cluster (the `distributed` scheduler): the executor behind ``--scheduler``.

`DaskCluster.connect` takes a scheduler address (``tcp://host:8786``) or ``local:N`` (a cluster of N
single-threaded worker processes on this machine, for trying it out), checks that it answers and that its
workers run this featbench version, and fails with one line otherwise. A `DaskCluster` is a
`featbench.executors.Executor` (built by `featbench.executors.Dask`); its `run`:

- The setup arguments are sent to every worker once (``scatter(broadcast=True)``); each worker process
  builds its context (models, memory-mapped matrices) on its first task and keeps it for the rest of the
  run, so models load once per worker, not once per task.
- Small tasks travel in chunks of about half a second of work each (`ChunkSize`), so the scheduler's cost
  per task stays small; at most ``2 x`` the cluster's threads chunks are in flight, so the caller's memory
  stays flat however many tasks there are; results are yielded as they arrive and the caller stays the
  only writer.
- A worker that dies mid-task: the scheduler runs its tasks again elsewhere (tasks are deterministic, so
  the results are the same). Only when a task has killed several workers in turn does the run stop, with
  one line; finished work is kept and the next run resumes.
- Ctrl-C or an error cancels every task still queued. Between `connect` and `close` a Ctrl-C is also recorded,
  so one that Python code swallowed (Dask's own GC callback in a local scheduler runs in this process) still
  ends the run: at its start, while it runs, or when the cluster is closed.

>>> with DaskCluster.connect("local:1") as cluster:
...     list(cluster.run(_demo_work, [1, 2], setup=_demo_setup, setup_args=(10,)))
[11, 12]
"""
from __future__ import annotations

import signal
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable, Iterable, Iterator

from distributed.diagnostics.plugin import WorkerPlugin

from featbench.errors import FeatbenchError
from featbench.worker_process import InterruptGuard, born_with_interrupts_blocked

LOCAL = "local:"
CONNECT_TIMEOUT_S = 10
_CONTEXTS: OrderedDict = OrderedDict()  # inside worker processes: {setup key: context}, the latest runs only
_CONTEXT_LOCK = threading.Lock()
_KEEP_CONTEXTS = 2
_NOTHING = object()


def _demo_setup(base: int) -> int:
    return base


def _demo_work(context: int, task: int) -> int:
    return context + task


class IgnoreInterrupts(WorkerPlugin):
    """Workers of a ``local:N`` cluster share the terminal's process group, so Ctrl-C reaches them too: they
    ignore it (as local workers do) and the client decides, cancelling the run and closing the cluster. (They
    start with it blocked, see `DaskCluster.connect`, so one that arrives while they import is held back.)"""

    name = "featbench-ignore-interrupts"

    def setup(self, worker) -> None:
        if threading.current_thread() is threading.main_thread():  # in-process (thread) workers have no handler of their own
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def _worker_version() -> str:
    from featbench import __version__

    return __version__


def _context(key: str, setup: Callable | None, setup_args: tuple) -> Any:
    """This worker's context for the run whose setup arguments have `key`, built on its first task."""
    with _CONTEXT_LOCK:
        if key not in _CONTEXTS:
            from featbench.worker_process import limit_threads

            limit_threads(1)  # as local workers: one thread each, so results do not depend on where a task ran
            _number_this_worker()
            try:
                _CONTEXTS[key] = ("value", setup(*setup_args) if setup is not None else None)
            except Exception as err:  # raised with every task of this run, so that the caller gets it intact
                _CONTEXTS[key] = ("error", err)
            while len(_CONTEXTS) > _KEEP_CONTEXTS:
                _CONTEXTS.popitem(last=False)
        _CONTEXTS.move_to_end(key)
        kind, value = _CONTEXTS[key]
    if kind == "error":
        raise value
    return value


def _number_this_worker() -> None:
    """Give `featbench.worker_process.worker_index` this worker's number (it picks the worker's GPU): an integer name,
    or the number that ends it, as local:N and ``dask worker --nworkers N`` name workers; else 0."""
    from distributed import get_worker

    from featbench.worker_process import set_worker_index

    try:
        digits = str(get_worker().name).rsplit("-", 1)[-1]
    except ValueError:  # not inside a worker (a client-side call)
        return
    set_worker_index(int(digits) if digits.isdigit() else 0)


def _call_chunk(work: Callable, key: str, setup: Callable | None, setup_args: tuple, chunk: list) -> tuple[list, float]:
    """The results of a chunk of tasks, and the seconds they took (without building the context)."""
    import time

    context = _context(key, setup, setup_args)
    start = time.perf_counter()
    results = [work(context, task) for task in chunk]
    return results, time.perf_counter() - start


class ChunkSize:
    """How many tasks go into one Dask task: enough that each takes about `target` seconds, so that the
    scheduler's cost per task (about 1-10 ms) stays a few per cent of the work however small tasks are.

    >>> size = ChunkSize(target=0.5)
    >>> size.now
    1
    >>> size.observe(tasks=4, seconds=0.2); size.now
    10
    """

    def __init__(self, target: float = 0.5, most: int = 64):
        self.target, self.most = target, most
        self.tasks, self.seconds = 0, 0.0

    def observe(self, tasks: int, seconds: float) -> None:
        self.tasks += tasks
        self.seconds += seconds

    @property
    def now(self) -> int:
        if not self.tasks:
            return 1
        per_task = self.seconds / self.tasks
        return max(1, min(self.most, int(self.target / per_task) if per_task > 0 else self.most))


@dataclass
class DaskCluster:
    """A connected Dask client (and the local cluster it owns, for ``local:N``). Use as a context manager."""

    client: Any
    address: str
    local: Any = None
    interrupts: InterruptGuard | None = None  # from `connect` to `close`: a Ctrl-C swallowed meanwhile is still seen

    @classmethod
    def connect(cls, address: str, timeout: float = CONNECT_TIMEOUT_S) -> DaskCluster:
        """Connect to `address` (or start ``local:N``); one FeatbenchError line if that is not possible."""
        import logging

        from distributed import LocalCluster

        address = address.strip()
        local = None
        if address.startswith(LOCAL):
            from featbench.options import is_whole

            count = address[len(LOCAL):]
            if not is_whole(count) or int(count) < 1:
                raise FeatbenchError(f"--scheduler {address}: write local:N with N >= 1 worker processes, e.g. local:4")
        elif "://" not in address and ":" not in address:
            raise FeatbenchError(f"--scheduler {address!r}: give a scheduler address such as tcp://host:8786, or local:N")
        interrupts = InterruptGuard().__enter__()
        try:
            if address.startswith(LOCAL):
                # Dask starts the worker processes from threads it makes here, now and when a nanny restarts one: they
                # all begin with Ctrl-C blocked; one meanwhile ends the run once the cluster is up (a half-started
                # cluster cannot be closed)
                with InterruptGuard(defer=True), born_with_interrupts_blocked():
                    local = LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True, dashboard_address=":0",
                                         silence_logs=logging.CRITICAL,  # errors reach the client as exceptions
                                         resources={"GPU": 1})  # what --device cuda asks for: checked on this machine
            cluster = cls._connected(address, local, timeout)
        except BaseException as err:
            try:
                if local is not None:
                    if not isinstance(err, Exception) or interrupts.interrupted:  # Ctrl-C: one line, no scheduler noise
                        _quiet_shutdown()
                    local.close()
            finally:
                interrupts.__exit__(None, None, None)
            raise
        cluster.interrupts = interrupts
        if interrupts.interrupted:  # swallowed while connecting
            cluster.__exit__(KeyboardInterrupt, None, None)
            raise KeyboardInterrupt
        return cluster

    @classmethod
    def _connected(cls, address: str, local, timeout: float) -> DaskCluster:
        """A client of `local` (or of `address`) whose workers run this featbench; one FeatbenchError line if not."""
        try:
            client = _client_within(local if local is not None else address, timeout)
        except Exception as err:  # refused, timed out, or another server answered (garbage, a hang): one line
            detail = (str(err).splitlines() or [""])[0][:200]
            raise FeatbenchError(f"--scheduler {address}: no Dask scheduler answered within {timeout:g} s "
                                 f"({type(err).__name__}{': ' + detail if detail else ''})") from None
        cluster = cls(client, address, local)
        try:
            if local is not None:
                client.register_plugin(IgnoreInterrupts())
            cluster._check_workers(timeout)
        except BaseException:
            client.close()
            raise
        return cluster

    @classmethod
    def from_client(cls, client, timeout: float = CONNECT_TIMEOUT_S) -> DaskCluster:
        """Use a `distributed.Client` the caller made (and closes), e.g. one of a dask-jobqueue cluster, once a
        worker has joined (waiting up to `timeout` seconds: batch jobs may queue for a while)."""
        cluster = cls(client, str(client.scheduler.address))
        cluster._check_workers(timeout)
        return cluster

    def _check_workers(self, timeout: float) -> None:
        """Workers exist (waiting up to `timeout` for the first) and run this featbench version."""
        from featbench import __version__

        try:
            self.client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError):
            raise FeatbenchError(f"--scheduler {self.address}: the scheduler answered but no worker joined within "
                                 f"{timeout:g} s; start workers with `dask worker {self.address} --nthreads 1`") from None
        try:
            versions = self.client.run(_worker_version)
        except Exception as err:  # a worker that cannot import featbench fails to unpickle the function
            raise FeatbenchError(f"--scheduler {self.address}: a worker cannot run featbench ({type(err).__name__}: "
                                 f"{str(err).splitlines()[0][:200] if str(err) else ''}); install featbench "
                                 f"{__version__} in every worker's environment") from None
        wrong = {w: v for w, v in versions.items() if v != __version__}
        if wrong:
            worker, version = next(iter(wrong.items()))
            raise FeatbenchError(f"--scheduler {self.address}: worker {worker} runs featbench {version}, this is "
                                 f"{__version__}; every worker needs the same version")

    def local_processes(self, tasks: int) -> int:
        """0: the tasks run on the cluster's workers, which get their inputs sent, not this machine's files."""
        return 0

    @property
    def threads(self) -> int:
        """Worker threads in the cluster now (each runs one task at a time)."""
        return max(sum(self.client.nthreads().values()), 1)

    def check_device(self, device, torch_needed: bool = True):
        """The device the tasks will use: a local:N cluster's is checked on this machine; on a remote cluster,
        ``cuda`` needs workers that offer a GPU (``dask worker ADDRESS --resources GPU=1``; its tasks ask for
        one, `Device.resources`), and each worker resolves the device itself (`auto` there, `cuda` as
        cuda:(its number mod its GPUs), see `featbench.device`)."""
        from featbench.device import DeviceKind

        if self.local is not None:
            return device.resolve(torch_needed=torch_needed)
        workers = self.client.scheduler_info(n_workers=-1).get("workers", {}).values()
        if device.kind is DeviceKind.CUDA and not any(w.get("resources", {}).get("GPU", 0) >= 1 for w in workers):
            raise FeatbenchError(f"--device {device}: no worker of the Dask cluster at {self.address} offers a GPU; start "
                                 f"one worker per GPU with `dask worker {self.address} --nthreads 1 --resources GPU=1`")
        return device

    def describe(self) -> str:
        """One line for the user: where the work goes, and the dashboard to watch it."""
        workers = len(self.client.nthreads())
        link = self.client.dashboard_link if self.client.dashboard_link else "no dashboard"
        return f"Dask scheduler {self.client.scheduler.address}: {workers} workers, {self.threads} threads; dashboard {link}"

    def run(self, work: Callable, tasks: Iterable, setup: Callable | None = None, setup_args: tuple = (),
            resources: dict | None = None, chunk_seconds: float = 0.5) -> Iterator:
        """Yield `work(context, task)` for every task, in completion order (see the module docstring).

        Tasks travel in chunks of about `chunk_seconds` of work (`ChunkSize`; one task each until the first
        results tell how long a task takes; 0: always one); results are still yielded task by task. Each
        chunk asks for `resources` (e.g. {"GPU": 1}: it runs only on workers that offer one)."""
        import itertools

        from distributed import as_completed

        if self.interrupts is not None:
            self.interrupts.check()  # swallowed since `connect`
        remaining = iter(tasks)
        first = next(remaining, _NOTHING)
        if first is _NOTHING:  # nothing to do: nothing sent
            return
        remaining = itertools.chain([first], remaining)
        shared = self.client.scatter([setup_args], broadcast=True, hash=False)[0]
        in_flight = 2 * self.threads
        size = ChunkSize(target=chunk_seconds) if chunk_seconds > 0 else ChunkSize(most=1)
        pending = as_completed(loop=self.client.loop)
        submitted = set()
        finished_cleanly = False

        def submit() -> bool:
            chunk = list(itertools.islice(remaining, size.now))
            if chunk:
                future = self.client.submit(_call_chunk, work, shared.key, setup, shared, chunk, pure=False,
                                            resources=resources)
                submitted.add(future)
                pending.add(future)
            return bool(chunk)

        try:
            with InterruptGuard() as guard:  # an interrupt that Dask's or a library's code swallowed still ends the run
                while len(submitted) < in_flight and submit():
                    pass
                for future in pending:
                    results, seconds = _result(future, self.address)
                    guard.check()
                    submitted.discard(future)
                    size.observe(len(results), seconds)
                    submit()  # one more in for each one out
                    yield from results
                    guard.check()
                guard.check()
            finished_cleanly = True
        finally:
            if not finished_cleanly and submitted:  # interrupted, failed, or the caller stopped reading
                self.client.cancel(list(submitted), force=True)
            self.client.cancel([shared], force=True)

    def close(self) -> None:
        try:
            self.client.close()
            if self.local is not None:
                self.local.close()
        finally:
            if self.interrupts is not None:
                self.interrupts.__exit__(None, None, None)
                self.interrupts = None

    def __enter__(self) -> DaskCluster:
        return self

    def __exit__(self, kind, err, tb) -> None:
        interrupted = self.interrupts is not None and self.interrupts.interrupted
        if (kind is not None or interrupted) and self.local is not None:
            _quiet_shutdown()  # the run already ends with one line (Ctrl-C, an error): no scheduler noise after it
        self.close()
        if interrupted and kind is None:  # a Ctrl-C that code of Dask's or a library's swallowed
            raise KeyboardInterrupt


def _client_within(target, timeout: float):
    """A `distributed.Client` of `target`, or TimeoutError after about `timeout` seconds. Dask's own timeout covers
    the connection, not the handshake that follows, which never ends when another kind of server (the dashboard's
    web server, say) answers: the client is made in a daemon thread and abandoned if it takes too long."""
    from distributed import Client

    outcome: dict = {}

    def connect() -> None:
        try:
            outcome["client"] = Client(target, timeout=f"{timeout}s", set_as_default=False)
        except BaseException as err:  # handed to the caller below
            outcome["error"] = err

    thread = threading.Thread(target=connect, daemon=True, name="featbench-dask-connect")
    thread.start()
    thread.join(timeout + 5)
    if thread.is_alive():
        raise TimeoutError("the address answers, but not as a Dask scheduler")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["client"]


def _quiet_shutdown() -> None:
    """Mute what a local cluster logs while it is torn down in the middle of work (a scatter cut short by Ctrl-C
    makes its scheduler log a lost worker and asyncio a task exception nobody retrieved)."""
    import logging

    for name in ("distributed", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def _result(future, address: str):
    """A finished task's result; a task that kept killing workers is one FeatbenchError line."""
    from distributed import KilledWorker

    try:
        return future.result()
    except KilledWorker:
        raise FeatbenchError(f"--scheduler {address}: the workers running one task died several times (killed, or out "
                             "of memory?); finished work is kept, run the same command again to resume") from None
