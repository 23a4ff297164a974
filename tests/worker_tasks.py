"""Module-level tasks for tests that run worker processes: importing this module costs a worker nothing."""
from __future__ import annotations

import time


def worker_number(context, task) -> int:
    """The number of the worker process that ran `task` (after a short wait, so that every worker takes tasks)."""
    from featbench.worker_process import worker_index

    time.sleep(0.3)
    return worker_index()
