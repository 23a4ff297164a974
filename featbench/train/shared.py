"""Temporary folders shared with worker processes (the training grid's matrices, predict's stores): named
<prefix><pid>-<random>, so that a later run removes those of a process that is gone (killed with kill -9).

The temp dir may be shared with other users and hold anything, so cleaning removes a folder only when it is
provably a stale one of ours: its name is exactly what `tempfile` makes from our prefix and an ASCII pid a
process can have (another name, however close, is skipped: never parsed into a pid, never removed), it is a
real folder (a symlink, a file, a FIFO is skipped), its owner is this user, and no process has that pid. The
work is bounded: at most `MAX_CANDIDATES` matching names are examined and `MAX_REMOVED` folders removed per
run (a temp dir of 100,000 entries costs one scan of their names); a later run goes on where this one stopped.

>>> SHARED_PREFIX
'featbench-train-'
>>> _pid("featbench-train-", "featbench-train-4242-k2_x9abc"), _pid("featbench-train-", "featbench-train-²-x")
(4242, None)
"""
from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

from featbench.locking import process_alive

SHARED_PREFIX = "featbench-train-"  # temporary folders of matrices shared with workers: <prefix><pid>-<random>
MAX_PID = 2 ** 22  # Linux's largest pid_max (PID_MAX_LIMIT, 4194304); other systems stay below it
MAX_CANDIDATES = 1000  # names matching a prefix examined per run (an lstat and a kill(pid, 0) each)
MAX_REMOVED = 100  # stale folders removed per run
_NAME = re.compile(r"([1-9][0-9]{0,6})-[a-z0-9_]{1,32}")  # <pid>-<tempfile's random letters>, ASCII only


def remove_stale_shared(folder: str | None = None, prefix: str = SHARED_PREFIX) -> list[str]:
    """Remove the shared-matrix folders of training runs whose process is gone (killed with kill -9); with
    another `prefix`, the temporary folders <prefix><pid>-* of another command (predict's stores). Returns the
    folders removed. Cleaning is housekeeping, never the command's work: a folder it cannot remove (a file in
    it that is not ours) stays for a later run, and no entry of the temp dir makes it fail.

    >>> remove_stale_shared("/nonexistent")
    []
    """
    import shutil

    removed: list[str] = []
    for path in stale_folders(Path(folder or tempfile.gettempdir()), prefix):
        if len(removed) == MAX_REMOVED:
            break
        _give_back_to_owner(path)
        shutil.rmtree(path, onerror=_keep_going)  # never follows a symlink (shutil's fd-based rmtree)
        if not os.path.lexists(path):
            removed.append(str(path))
    return removed


def stale_folders(base: Path, prefix: str) -> list[Path]:
    """The folders <prefix><pid>-<random> directly in `base` that this user owns and whose process is gone.

    >>> stale_folders(Path("/nonexistent"), SHARED_PREFIX)
    []
    """
    found: list[Path] = []
    try:
        entries = os.scandir(base)
    except OSError:  # no temp dir, or one we may not list: nothing of ours to clean there
        return found
    examined = 0
    with entries:
        for entry in entries:
            pid = _pid(prefix, entry.name)
            if pid is None:
                continue
            examined += 1
            if examined > MAX_CANDIDATES:
                break
            if _ours(entry) and not process_alive(pid):
                found.append(Path(entry.path))
    return found


def _pid(prefix: str, name: str) -> int | None:
    """The pid in `name` when it is exactly <prefix><pid>-<random> with a pid a process can have, else None."""
    if not name.startswith(prefix):
        return None
    match = _NAME.fullmatch(name, len(prefix))
    pid = int(match.group(1)) if match else 0
    return pid if 0 < pid <= MAX_PID else None


def _ours(entry: os.DirEntry) -> bool:
    """A real folder (not a symlink to one) owned by this user."""
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and (not hasattr(os, "geteuid") or info.st_uid == os.geteuid())


def _give_back_to_owner(path: Path) -> None:
    """A stale folder of ours without read, write or search permission for us (chmod 000) gets them back, so
    that it can be removed. `path` was checked to be a real folder of ours; only its owner may rename it."""
    try:
        mode = os.lstat(path).st_mode
        if stat.S_ISDIR(mode) and mode & stat.S_IRWXU != stat.S_IRWXU:
            os.chmod(path, stat.S_IMODE(mode) | stat.S_IRWXU)
    except OSError:  # gone meanwhile, or not ours to change: rmtree leaves it
        return


def _keep_going(function, path, exc_info) -> None:
    """rmtree's error handler: what cannot be removed stays (see remove_stale_shared), the rest goes."""
