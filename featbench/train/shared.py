"""Temporary folders shared with worker processes (the training grid's matrices, predict's stores): named
<prefix><pid>-<random>, so that a later run removes those of a process that is gone (killed with kill -9).

>>> SHARED_PREFIX
'featbench-train-'
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

SHARED_PREFIX = "featbench-train-"  # temporary folders of matrices shared with workers: <prefix><pid>-<random>


def remove_stale_shared(folder: str | None = None, prefix: str = SHARED_PREFIX) -> list[str]:
    """Remove the shared-matrix folders of training runs whose process is gone (killed with kill -9); with
    another `prefix`, the temporary folders <prefix><pid>-* of another command (predict's stores).

    >>> remove_stale_shared("/nonexistent")
    []
    """
    import shutil

    removed = []
    base = Path(folder or tempfile.gettempdir())
    for path in base.glob(f"{prefix}*-*") if base.is_dir() else []:
        pid = path.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(str(path))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True
