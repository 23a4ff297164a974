"""One writer at a time, without lock files left behind.

A lock is taken on the thing itself: the store folder, or the results file. POSIX ``flock`` locks the
inode, so a file reached through a symbolic link and the same file reached directly share one lock,
and the operating system releases it when the holding process dies (kill -9 included). Where ``fcntl``
does not exist (Windows), or where a filesystem refuses it, a ``<path>.lock`` file is locked with the
`filelock` package and removed on release.

>>> import tempfile
>>> d = tempfile.mkdtemp()
>>> with exclusive(d, "store"):
...     try:
...         with exclusive(d, "store"):
...             pass
...     except FeatbenchError as err:
...         print(str(err).split(": ", 1)[1])
another featbench process is writing this store; wait for it to finish
"""
from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from collections.abc import Iterator

from featbench.errors import FeatbenchError, StoreLockedError
from featbench.script_guard import leave_if_importing_script

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


@contextlib.contextmanager
def exclusive(path: str | Path, what: str) -> Iterator[None]:
    """Hold an exclusive, non-blocking lock on an existing file or folder; StoreLockedError if held.

    Files are opened for writing (NFS emulates flock with byte-range locks, which need it); where the
    filesystem refuses flock on the object (a folder on NFS, say), a ``<path>.lock`` file is used instead
    and removed on release.
    """
    leave_if_importing_script()  # a worker re-importing a script without a main guard: its parent says so
    path = Path(path).resolve()
    message = f"{path}: another featbench process is writing this {what}; wait for it to finish"
    if fcntl is None:
        yield from _file_lock(path, message)
        return
    fd = os.open(path, os.O_RDONLY if path.is_dir() else os.O_RDWR)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreLockedError(message) from None
        except OSError as err:
            if err.errno not in (errno.EBADF, errno.ENOLCK, errno.EINVAL, errno.EOPNOTSUPP):
                raise FeatbenchError(f"{path}: cannot lock this {what} ({err.strerror})") from None
            os.close(fd)
            fd = -1
            yield from _file_lock(path, message)
            return
        yield
    finally:
        if fd >= 0:
            os.close(fd)  # closing the descriptor releases the lock


def _file_lock(path: Path, message: str) -> Iterator[None]:
    from filelock import FileLock, Timeout

    lock_path = path.with_name(path.name + ".lock")
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise StoreLockedError(message) from None
    try:
        yield
    finally:
        lock.release()
        with contextlib.suppress(OSError):  # another process may hold it again already
            lock_path.unlink()


def check_writable(folder: str | Path, what: str) -> None:
    """Fail before any work when `folder` cannot take new files (read-only store, full quota).

    Creating and removing a probe file is the only test that also holds for root and for
    read-only mounts, where permission bits say nothing.
    """
    folder = Path(folder)
    probe = folder / f".featbench-write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise FeatbenchError(f"{folder}: cannot write to this {what} ({err.strerror or err})") from None


def process_alive(pid: object) -> bool:
    """Whether a process `pid` runs on this machine (another user's counts); False for no pid.

    >>> process_alive(os.getpid()), process_alive(0)
    (True, False)
    """
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True
