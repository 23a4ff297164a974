"""One executor choice (issue 20): entry points take an `Executor` built by the caller; only the executor
modules know Dask; the old ``jobs=``/``cluster=`` keywords still work, with a DeprecationWarning."""
from __future__ import annotations

import sys

import re
from pathlib import Path

import pandas as pd
import pytest

import featbench
from featbench.train import Experiment, run_training

PACKAGE = Path(featbench.__file__).parent
EXECUTOR_MODULES = {"executors.py", "dask_cluster.py"}
KEY = ["family", "classifier", "budget", "fold", "seed"]


def test_only_the_executor_modules_name_dask():
    """The brief's check, `grep -rn "dask\\|distributed" featbench`, as a test."""
    naming = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                    if re.search(r"dask|distributed", path.read_text(encoding="utf-8")))
    assert set(naming) <= EXECUTOR_MODULES, naming


def test_local_is_an_executor_and_runs_in_worker_processes():
    from featbench.executors import Executor, Local, _demo_setup, _demo_work

    assert isinstance(Local(2), Executor)
    assert (Local(2).local_processes(5), Local(2).local_processes(1), Local(1).local_processes(5)) == (2, 1, 1)
    with Local(2) as executor:
        assert sorted(executor.run(_demo_work, [1, 2, 3], setup=_demo_setup, setup_args=(10,))) == [11, 12, 13]


def _rows(path) -> pd.DataFrame:
    return pd.read_csv(path).sort_values(KEY).reset_index(drop=True)[KEY + ["ua", "confusion", "hparams"]]


def test_the_old_jobs_keyword_still_works_with_a_deprecation_warning(demo_store, tmp_path):
    from featbench.executors import Local

    exp = Experiment(store=demo_store, families=["egemaps-func"], classifiers=["logreg"], budgets=[2], seeds=[0])
    run_training(exp, tmp_path / "new.csv", executor=Local(2), progress=False)
    with pytest.warns(DeprecationWarning, match=r"run_training\(jobs=2\) is deprecated: pass executor=Local\(2\)"):
        run_training(exp, tmp_path / "old.csv", jobs=2, progress=False)
    pd.testing.assert_frame_equal(_rows(tmp_path / "new.csv"), _rows(tmp_path / "old.csv"))
    with pytest.raises(featbench.FeatbenchError, match="executor= alone"):
        run_training(exp, tmp_path / "both.csv", executor=Local(2), jobs=2, progress=False)


def test_a_ctrl_c_that_code_cannot_raise_is_recorded_not_printed(capsys):
    # a KeyboardInterrupt raised where Python can only print it (a __del__, Dask's garbage-collector callback)
    # used to print "Exception ignored in: ..." beside the one interrupt line; the guard records it instead
    from featbench.worker_process import InterruptGuard

    class Swallowing:
        def __del__(self):
            raise KeyboardInterrupt

    with InterruptGuard() as guard:
        Swallowing()  # collected at once: its KeyboardInterrupt is unraisable
        assert guard.interrupted
        with pytest.raises(KeyboardInterrupt):
            guard.check()
    assert "Exception ignored" not in capsys.readouterr().err


def test_the_aftermath_of_a_swallowed_ctrl_c_in_a_callback_is_not_printed(monkeypatch):
    # Dask's GC diagnosis (a garbage-collector callback) cut short by a Ctrl-C between its start and stop asserts on
    # its next call: that error is the interrupt's aftermath (counted, not printed); an unraisable error of any other
    # object is still printed
    import gc

    from featbench.worker_process import InterruptGuard

    class Diagnosis:
        calls = 0

        def callback(self, phase, info):
            if phase == "start":
                Diagnosis.calls += 1
                raise KeyboardInterrupt if Diagnosis.calls == 1 else AssertionError("left in a broken state")

    class Unrelated:
        def __del__(self):
            raise ValueError("a bug elsewhere")

    printed = []
    monkeypatch.setattr(sys, "unraisablehook", printed.append)  # where 'Exception ignored ...' goes
    diagnosis = Diagnosis()
    gc.callbacks.append(diagnosis.callback)
    try:
        with InterruptGuard() as guard:
            gc.collect()  # the Ctrl-C, swallowed in the callback
            gc.collect()  # its aftermath
            Unrelated()
    finally:
        gc.callbacks.remove(diagnosis.callback)
    assert guard.interrupted and guard.aftermath >= 1
    assert [u.exc_type for u in printed] == [ValueError]
