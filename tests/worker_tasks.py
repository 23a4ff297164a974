"""Module-level tasks for tests that run worker processes: importing this module costs a worker nothing."""
from __future__ import annotations

import time


def worker_number(context, task) -> int:
    """The number of the worker process that ran `task` (after a short wait, so that every worker takes tasks)."""
    from featbench.worker_process import worker_index

    time.sleep(0.3)
    return worker_index()


def dask_name_and_number(context, task) -> tuple[str, int]:
    """The name of the Dask worker that ran `task`, and the number `worker_index` gives it."""
    from distributed import get_worker

    return str(get_worker().name), worker_number(context, task)
