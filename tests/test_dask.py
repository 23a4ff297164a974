"""Extraction and the training grid on a Dask cluster (``--scheduler``): the same output as ``--jobs``, a
worker killed mid-run changes nothing, and a scheduler that does not answer is one line and exit 1."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import psutil
import pytest
from typer.testing import CliRunner

pytest.importorskip("distributed", reason="Dask is an optional extra: pip install 'featbench[dask]'")

from featbench.cli import app  # noqa: E402
from featbench.corpus import load_corpus  # noqa: E402
from featbench.dask_cluster import DaskCluster  # noqa: E402
from featbench.errors import FeatbenchError  # noqa: E402
from featbench.executors import Dask, Executor, Local  # noqa: E402
from featbench.extract import run_extraction  # noqa: E402
from featbench.store import read_family  # noqa: E402
from featbench.train import Experiment, run_training  # noqa: E402

FAMILIES = [("egemaps-lld", {}), ("fbank", {"n_mels": 20})]
ROW_KEY = ["view", "classifier", "budget", "fold", "seed"]
SCORES = ["ua", "wa", "macro_f1", "confusion", "hparams", "val_ua", "choice", "ua_by_speaker", "n_train", "n_test"]


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded local worker processes (with nannies that restart a killed worker)."""
    with Dask("local:2") as c:
        yield c


def _arrays(store, family) -> dict:
    fs = read_family(store, family)
    return {uid: np.array(fs.get(uid)) for uid in fs.ids}


def _assert_same_store(a, b) -> None:
    for name, _ in FAMILIES:
        fa, fb = _arrays(a, name), _arrays(b, name)
        assert list(fa) == list(fb), f"{name}: different utterances or order"
        for uid in fa:
            np.testing.assert_array_equal(fa[uid], fb[uid], err_msg=f"{name} {uid}")


def _rows(path) -> pd.DataFrame:
    return pd.read_csv(path).sort_values(ROW_KEY).reset_index(drop=True)[ROW_KEY + SCORES]


def _kill_a_worker_once(cluster: DaskCluster, ready, running: threading.Thread, timeout: float = 60) -> int:
    """Wait until `ready()` (work under way), then kill -9 one worker process; its pid."""
    deadline = time.monotonic() + timeout
    while not ready() and running.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert running.is_alive(), "the run finished before a worker could be killed"
    pid = next(iter(cluster.client.run(os.getpid).values()))
    os.kill(pid, signal.SIGKILL)
    return pid


def _in_thread(target) -> tuple[threading.Thread, list]:
    errors: list = []

    def run():
        try:
            target()
        except BaseException as err:  # re-raised by the test
            errors.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def test_extraction_on_a_local_cluster_equals_jobs(demo_corpus_master, grid_store, tmp_path, cluster):
    table = load_corpus("demo", demo_corpus_master)
    assert isinstance(cluster, Executor) and cluster.local_processes(10) == 0
    report = run_extraction(table, FAMILIES, tmp_path / "dask", progress=False, executor=cluster)
    assert report.extracted == len(table) and report.failed == 0
    _assert_same_store(grid_store, tmp_path / "dask")  # grid_store: the same extraction with --jobs 2
    with pytest.warns(DeprecationWarning, match=r"run_extraction\(cluster=...\) is deprecated"):  # the old keyword
        again = run_extraction(table, FAMILIES, tmp_path / "dask", progress=False, cluster=cluster)
    assert again.extracted == 0 and again.already_done == len(table)  # resumes as a local run does


def test_extraction_under_conditions_on_a_local_cluster_gives_the_bits_of_one_process(demo_corpus_master, tmp_path,
                                                                                      cluster):
    table = load_corpus("demo", demo_corpus_master).head(6)
    for name, executor in (("one", Local(1)), ("dask", cluster)):
        run_extraction(table, [("raw", {})], tmp_path / name, progress=False, executor=executor,
                       conditions="white:10,gain:-6+white:20", condition_seed=7)
    for stored in ("raw~white_10", "raw~gain_-6+white_20"):
        one, dask = _arrays(tmp_path / "one", stored), _arrays(tmp_path / "dask", stored)
        assert list(one) == list(dask) and all(np.array_equal(one[u], dask[u]) for u in one), stored


def test_a_worker_killed_during_extraction_changes_nothing(demo_corpus_master, grid_store, tmp_path, cluster):
    table = load_corpus("demo", demo_corpus_master)
    store = tmp_path / "dask"
    thread, errors = _in_thread(lambda: run_extraction(table, FAMILIES, store, progress=False, flush_utterances=1,
                                                       executor=cluster))
    pending = store / ".pending"
    killed = _kill_a_worker_once(cluster, lambda: pending.is_dir() and any(pending.rglob("*.h5")), thread)
    thread.join(120)
    assert not errors, errors
    cluster.client.wait_for_workers(2, timeout=30)  # the nanny started a new worker process
    assert killed not in cluster.client.run(os.getpid).values()
    _assert_same_store(grid_store, store)


def _grid(store, **kwargs) -> Experiment:
    settings = dict(store=store, families=["egemaps-lld", "fbank"], classifiers=["logreg", "selected(logreg+svm)"],
                    budgets=[2, "all"], seeds=[0, 1], n_folds=4)
    return Experiment(**{**settings, **kwargs})


@pytest.fixture(scope="module")
def grid_store(demo_corpus_master, tmp_path_factory):
    """FAMILIES of the demo corpus extracted with --jobs 2: the reference of the extraction tests, the input
    of the training tests (read only)."""
    store = tmp_path_factory.mktemp("grid") / "store"
    run_extraction(load_corpus("demo", demo_corpus_master), FAMILIES, store, executor=Local(2), progress=False)
    return store


@pytest.fixture(scope="module")
def jobs_rows(grid_store, tmp_path_factory):
    """The rows of `_grid(grid_store)` trained with --jobs 2: the reference of the training tests."""
    out = tmp_path_factory.mktemp("jobs") / "jobs.csv"
    run_training(_grid(grid_store), out, executor=Local(2), progress=False)
    return _rows(out)


def test_training_on_a_local_cluster_equals_jobs(grid_store, jobs_rows, tmp_path, cluster):
    report = run_training(_grid(grid_store), tmp_path / "dask.csv", progress=False, executor=cluster)
    assert report.rows_added == 2 * 2 * 2 * 4 * 2
    pd.testing.assert_frame_equal(jobs_rows, _rows(tmp_path / "dask.csv"))
    with pytest.warns(DeprecationWarning, match=r"run_training\(cluster=...\) is deprecated"):  # the old keyword
        again = run_training(_grid(grid_store), tmp_path / "dask.csv", progress=False, cluster=cluster)
    assert again.rows_added == 0 and again.tasks == 0


def test_sequence_tasks_read_the_store_on_the_workers(grid_store, tmp_path, cluster):
    exp = _grid(grid_store, families=["fbank"], classifiers=["seq"], budgets=[2], seeds=[0], seq_epochs=2)
    run_training(exp, tmp_path / "jobs.csv", executor=Local(2), progress=False)
    run_training(exp, tmp_path / "dask.csv", progress=False, executor=cluster)
    pd.testing.assert_frame_equal(_rows(tmp_path / "jobs.csv"), _rows(tmp_path / "dask.csv"))


def test_a_worker_killed_during_training_changes_nothing(grid_store, jobs_rows, tmp_path, cluster):
    # the grid of the test above (64 tasks, sent one at a time until the first results size the chunks): a worker
    # killed after the first 3 rows leaves most of it to do, and the --jobs 2 rows are computed once for both tests
    out = tmp_path / "dask.csv"

    def rows_written() -> bool:
        return out.is_file() and len(out.read_text().splitlines()) > 3

    thread, errors = _in_thread(lambda: run_training(_grid(grid_store), out, progress=False, executor=cluster))
    _kill_a_worker_once(cluster, rows_written, thread)
    thread.join(300)
    assert not errors, errors
    pd.testing.assert_frame_equal(jobs_rows, _rows(out))


def test_a_scheduler_that_does_not_answer_is_one_line_within_seconds(grid_store, tmp_path):
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "featbench", "train", str(grid_store), "--out", str(tmp_path / "r.csv"),
                             "--scheduler", "tcp://127.0.0.1:9", "--no-progress"], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    took = time.monotonic() - started
    text = result.stdout + result.stderr
    lines = [line for line in text.splitlines() if line.strip()]
    assert result.returncode == 1, text
    assert len(lines) == 1 and lines[0].startswith("featbench: error: --scheduler tcp://127.0.0.1:9: no Dask scheduler "
                                                   "answered within 10 s"), text
    assert took < 30, f"took {took:.0f} s"
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.parametrize("args, message", [
    (["--scheduler", "local:0"], "write local:N with N >= 1"),
    (["--scheduler", "local:\u00b2"], "write local:N with N >= 1"),
    (["--scheduler", "somewhere"], "give a scheduler address such as tcp://host:8786"),
    (["--scheduler", "local:1", "--jobs", "2"], "--jobs and --scheduler exclude each other"),
])
def test_bad_scheduler_options_are_one_line(grid_store, tmp_path, args, message):
    result = CliRunner().invoke(app, ["train", str(grid_store), "--out", str(tmp_path / "r.csv"), *args])
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output


def test_workers_with_another_featbench_version_are_refused(monkeypatch):
    from distributed import Client, LocalCluster

    import featbench.dask_cluster as dask_cluster

    monkeypatch.setattr(dask_cluster, "_worker_version", lambda: "0.0.0")
    with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as local, Client(local) as client:
        with pytest.raises(FeatbenchError, match="runs featbench 0.0.0, this is"):
            DaskCluster.from_client(client)


def _setup_that_fails():
    raise FeatbenchError("/models/missing.pt: no such checkpoint on this worker")


def _never_called(context, task):
    raise AssertionError("work ran although its setup failed")


def test_a_setup_error_on_a_worker_reaches_the_caller_intact(cluster):
    with pytest.raises(FeatbenchError, match="no such checkpoint on this worker"):
        list(cluster.run(_never_called, [1, 2, 3], setup=_setup_that_fails))


def test_nothing_to_do_sends_nothing_to_the_cluster(cluster, monkeypatch):
    """A run without tasks (a resumed grid that is complete) does not send its setup arguments (the matrices)."""
    def scatter(*args, **kwargs):
        raise AssertionError("setup arguments sent for a run without tasks")

    monkeypatch.setattr(cluster.client, "scatter", scatter)
    assert list(cluster.run(_never_called, [], setup=_setup_that_fails)) == []


def test_ctrl_c_on_a_local_cluster_exits_130_and_leaves_no_process(demo_corpus_master, tmp_path):
    store = tmp_path / "store"
    args = [sys.executable, "-m", "featbench", "extract", "demo", str(demo_corpus_master), "--features",
            "egemaps-lld,compare-lld", "--out", str(store), "--scheduler", "local:2", "--no-progress"]  # seconds of work
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group, as a terminal's foreground job
    seen: dict[int, psutil.Process] = {}
    deadline = time.monotonic() + 60
    while not (store / "corpus.csv").is_file() and proc.poll() is None and time.monotonic() < deadline:
        for child in psutil.Process(proc.pid).children(recursive=True):
            seen.setdefault(child.pid, child)
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before Ctrl-C could reach it"
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches every process of the foreground group
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "interrupted" in err and "Traceback" not in err, err
    assert len(seen) >= 2, "no worker processes were seen"
    time.sleep(2)
    alive = [p for p in seen.values() if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    for p in alive:
        p.kill()
    assert not alive, [p.cmdline() for p in alive]
    resumed = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert all(len(read_family(store, f).ids) == len(load_corpus("demo", demo_corpus_master))
               for f in ("egemaps-lld", "compare-lld"))


def test_kill_9_of_the_client_ends_the_local_workers(demo_corpus_master, tmp_path):
    args = [sys.executable, "-m", "featbench", "extract", "demo", str(demo_corpus_master), "--features", "egemaps-lld",
            "--out", str(tmp_path / "store"), "--scheduler", "local:2", "--no-progress"]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children: list[psutil.Process] = []
    deadline = time.monotonic() + 60
    while len(children) < 2 and proc.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(psutil.Error):  # a process ended between listing and reading it: look again
            children = [c for c in psutil.Process(proc.pid).children(recursive=True) if "spawn_main" in " ".join(c.cmdline())]
        time.sleep(0.05)
    assert len(children) >= 2, "the local cluster's worker processes did not start"
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    for c in alive:
        c.kill()
    assert not alive, [c.cmdline() for c in alive]


def test_an_address_where_another_server_answers_is_one_line(grid_store, tmp_path):
    """Dask's timeout covers the connection, not its handshake: a server that accepts and never answers (a web
    server on the dashboard's port, say) must still end in one line, not a hang."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    try:
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "featbench", "train", str(grid_store), "--out", str(tmp_path / "r.csv"),
                                 "--scheduler", address, "--no-progress"], capture_output=True, text=True, timeout=120,
                                cwd=tmp_path)
        took = time.monotonic() - started
    finally:
        server.close()
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1, result.stdout + result.stderr
    assert "not as a Dask scheduler" in lines[0] and took < 40, (lines, took)


# a worker process imports for about a second: Ctrl-C early in its imports and late in them (when the cluster may
# be about to come up); a moment in between (0.4 s, also run before) goes the way of one of these two
@pytest.mark.parametrize("after", [0.1, 0.8])
def test_ctrl_c_while_the_local_cluster_starts_exits_130_without_dask_exit_errors(grid_store, tmp_path, after):  # issue 19 item 9
    """Ctrl-C, sent to the whole process group as a terminal does, while the cluster's worker processes import: the
    client ends with its one line and exit 130, the half-started cluster is closed (no `AssertionError:
    Status.init` from Dask's exit handler), and no worker prints a KeyboardInterrupt traceback of its own (Dask
    starts them from its own threads, which are born with SIGINT blocked)."""
    from tests.test_faults import _assert_one_interrupt_line, _interrupt_while_workers_start

    code, err = _interrupt_while_workers_start(["train", grid_store, "--out", tmp_path / "r.csv", "--features", "egemaps-lld",
                                                "--classifiers", "logreg", "--seeds", "0", "--scheduler", "local:2",
                                                "--no-progress"], tmp_path, after)
    up = "Dask scheduler "  # the line printed once the cluster is up, before a Ctrl-C that came later than meant
    _assert_one_interrupt_line(code, "\n".join(line for line in err.splitlines() if not line.startswith(up)))


def _ctrl_c_swallowed() -> None:
    """Ctrl-C arrives while code that swallows exceptions runs: Dask's GC callback in the scheduler of a local
    cluster, which runs in this process ("Exception ignored in: ...GCDiagnosis._gc_callback ... KeyboardInterrupt")."""
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.5)  # the handler runs (and raises) here
    except KeyboardInterrupt:
        pass


def test_a_ctrl_c_swallowed_between_connect_and_run_still_ends_the_run():  # issue 19 item 9 (seen once: exit 0)
    with pytest.raises(KeyboardInterrupt):
        with DaskCluster.connect("local:1") as cluster:
            _ctrl_c_swallowed()
            assert list(cluster.run(_add_one, [1, 2])) == [], "the run went on after Ctrl-C"


def test_a_ctrl_c_swallowed_after_the_run_still_ends_with_an_interrupt():
    with pytest.raises(KeyboardInterrupt):
        with DaskCluster.connect("local:1") as cluster:
            assert list(cluster.run(_add_one, [1, 2])) in ([2, 3], [3, 2])
            _ctrl_c_swallowed()


def _add_one(context, task: int) -> int:
    return task + 1


def test_workers_are_numbered_by_name_and_take_gpu_tasks(cluster):
    """local:N workers offer a GPU resource (--device cuda is checked on this machine) and are numbered 0..N-1,
    the number `Device.for_worker` maps to a GPU."""
    from tests.worker_tasks import dask_name_and_number

    seen = set(cluster.run(dask_name_and_number, list(range(8)), resources={"GPU": 1}, chunk_seconds=0))
    assert {name for name, _ in seen} == {"0", "1"} and all(number == int(name) for name, number in seen)


def test_cuda_on_a_cluster_needs_workers_that_offer_a_gpu():
    from distributed import Client, LocalCluster

    from featbench.device import AUTO, Device, DeviceKind

    cuda = Device(DeviceKind.CUDA)
    with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as local, Client(local) as client:
        remote = DaskCluster.from_client(client)
        with pytest.raises(FeatbenchError, match=r"^--device cuda: no worker of the Dask cluster at .* offers a GPU; "
                                                 r"start one worker per GPU with `dask worker .* --resources GPU=1`$"):
            remote.check_device(cuda)
        assert remote.check_device(AUTO) == AUTO  # each worker resolves it
    with LocalCluster(n_workers=1, processes=False, dashboard_address=":0", resources={"GPU": 1}) as local, \
            Client(local) as client:
        assert DaskCluster.from_client(client).check_device(cuda) == cuda
