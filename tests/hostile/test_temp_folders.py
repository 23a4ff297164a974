"""Surface: the temp dir (shared, writable by anyone) where train and predict clean up after killed runs.

The contract of `remove_stale_shared`: it removes only provably stale featbench folders (exactly
<prefix><pid>-<random>, a real folder, owned by this user, no process with that pid), returns exactly what it
removed, never follows a symlink, never touches another user's folder, never fails on any entry (hostile
names, huge or non-ASCII pids, files, FIFOs, unreadable folders), and its work is bounded.
"""

from __future__ import annotations

import os
import random
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from hostile.contract import HOSTILE_NAMES, Case, Surface, campaign, cases_budget

TRAIN, PREDICT = "featbench-train-", "featbench-predict-"
LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789_"
BAD_PIDS = (
    "²",
    "٣",
    "99999999999999999999",
    "",
    "0",
    "-1",
    "007",
    "1e3",
    " 12",
    "12 ",
    "4194305",
    "+5",
    "12.0",
    "0x1f",
    "1_000",
    *HOSTILE_NAMES,
)
BAD_SUFFIXES = ("", "-", "-ABCDEFGH", "-abc.d", "-a/b", "-" + "x" * 300, "-a b", "-\u00e9t\u00e9")


def _dead_pid(rng: random.Random) -> int:
    """A pid no process has now (checked)."""
    while True:
        pid = rng.randrange(2, 2**22)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            continue


def _name(prefix: str, pid, suffix: str | None, rng: random.Random) -> str:
    suffix = suffix if suffix is not None else "-" + "".join(rng.choice(LETTERS) for _ in range(8))
    return f"{prefix}{pid}{suffix}".replace("/", "_").replace("\0", "_")


def _entry(rng: random.Random, tmp: Path, precious: Path, prefix: str) -> dict | None:
    """One generated entry in `tmp`: its path, and whether cleaning with `prefix` must remove it."""
    kind = rng.choice(
        (
            "stale",
            "stale",
            "unreadable",
            "deep-unreadable",
            "live",
            "hostile",
            "hostile",
            "symlink",
            "file",
            "fifo",
            "other-prefix",
            "unrelated",
        )
    )
    other = PREDICT if prefix == TRAIN else TRAIN
    pid = _dead_pid(rng)
    if kind == "hostile":
        name = _name(prefix, rng.choice(BAD_PIDS), rng.choice((None, *BAD_SUFFIXES)), rng)
    elif kind == "live":
        name = _name(prefix, rng.choice((os.getpid(), os.getppid(), 1)), None, rng)
    elif kind == "other-prefix":
        name = _name(other, pid, None, rng)
    elif kind == "unrelated":
        name = rng.choice(("featbench-fuzz-x", "tmpabc", "featbench-train", "featbench-predict-", "x" * 200))
    else:
        name = _name(prefix, pid, None, rng)
    path = tmp / name
    try:
        if kind == "symlink":
            path.symlink_to(precious, target_is_directory=True)
        elif kind == "file":
            path.write_text("not a folder")
        elif kind == "fifo":
            os.mkfifo(path)
        else:
            path.mkdir()
            (path / "X0000.npy").write_bytes(b"\x93NUMPY")
            if kind == "deep-unreadable":
                (path / "sub").mkdir()
                (path / "sub" / "f").write_text("x")
                (path / "sub").chmod(0)
            elif kind == "unreadable":
                path.chmod(0)
    except (OSError, ValueError):  # a name this file system cannot hold (too long, odd bytes)
        return None
    must_go = kind in ("stale", "unreadable")
    return {"path": path, "kind": kind, "pid": pid, "must_go": must_go, "may_go": must_go or kind == "deep-unreadable"}


def _born(pid: int) -> bool:
    """Whether a process with `pid` (dead when the case was made) exists now: then keeping its folder is right."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def _temp_dir(tmp: Path):
    """tempfile's temp dir set to `tmp` (as TMPDIR would set it), restored after."""
    before = tempfile.tempdir
    tempfile.tempdir = str(tmp)
    try:
        yield
    finally:
        tempfile.tempdir = before


@contextmanager
def _as_another_user(yes: bool):
    """Pretend this process runs as another user: every folder in the temp dir is then someone else's."""
    real = os.geteuid
    if yes:
        os.geteuid = lambda: real() + 1
    try:
        yield
    finally:
        os.geteuid = real


def _clean(tmp: Path, prefix: str, entries: list[dict], precious: Path, foreign: bool, explicit: bool) -> dict:
    from featbench.train.shared import remove_stale_shared

    with _temp_dir(tmp), _as_another_user(foreign):
        returned = remove_stale_shared(str(tmp) if explicit else None, prefix=prefix)
    gone = {str(e["path"]) for e in entries if not os.path.lexists(e["path"])}
    intact = (precious / "keep.txt").read_text() == "precious" and stat.S_IMODE(precious.stat().st_mode) == 0o755
    for root, folders, _ in os.walk(tmp):  # give back what the case made unreadable, so that it can be cleaned
        for name in folders:
            with_path = Path(root) / name
            if not with_path.is_symlink():
                with_path.chmod(0o700)
    return {"returned": returned, "gone": gone, "intact": intact}


def _right(result: dict, entries: list[dict], foreign: bool) -> bool:
    if sorted(result["returned"]) != sorted(result["gone"]) or not result["intact"]:
        return False
    for entry in entries:
        went = str(entry["path"]) in result["gone"]
        if went and (foreign or not entry["may_go"]):
            return False
        if not went and entry["must_go"] and not foreign and not _born(entry["pid"]):
            return False
    return True


def temp_cases(rng: random.Random, workdir: Path):
    i = 0
    while True:
        case = workdir / f"case{i}"
        tmp, precious = case / "tmp", case / "precious"
        tmp.mkdir(parents=True)
        precious.mkdir(mode=0o755)
        precious.chmod(0o755)
        (precious / "keep.txt").write_text("precious")
        prefix = rng.choice((TRAIN, PREDICT))
        entries = [e for e in (_entry(rng, tmp, precious, prefix) for _ in range(rng.randrange(1, 7))) if e]
        foreign, explicit = rng.random() < 0.15, rng.random() < 0.5
        label = f"{prefix} {'another user ' if foreign else ''}{[(e['kind'], e['path'].name[:40]) for e in entries]}"
        i += 1
        yield Case(
            label,
            lambda tmp=tmp, p=prefix, e=entries, pr=precious, f=foreign, x=explicit: _clean(tmp, p, e, pr, f, x),
            check=lambda r, e=entries, f=foreign: _right(r, e, f),
            seconds=10,
        )


SURFACE = Surface("temp folders", temp_cases)


def test_temp_dir_entries_never_break_cleaning(tmp_path):
    campaign(SURFACE, cases_budget(60), tmp_path).assert_clean(at_least=60)


@pytest.mark.parametrize(
    "name", ["featbench-predict-²-x", "featbench-train-99999999999999999999-x", "featbench-train-٣-abcdefgh"]
)
def test_a_name_it_cannot_parse_is_skipped(tmp_path, name):
    # issue 26 defect 9: '²' passed str.isdigit() and crashed int(); a 20-digit pid overflowed os.kill; an
    # Arabic-Indic '٣' was read as pid 3 and its folder removed
    from featbench.train.shared import remove_stale_shared

    (tmp_path / name).mkdir()
    prefix = name[: len("featbench-train-")] if name.startswith("featbench-train-") else "featbench-predict-"
    with _temp_dir(tmp_path):
        assert remove_stale_shared(prefix=prefix) == []
    assert (tmp_path / name).is_dir()


def test_a_symlink_named_like_a_stale_folder_is_not_followed(tmp_path):
    from featbench.train.shared import remove_stale_shared

    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("x")
    link = tmp_path / f"featbench-train-{_dead_pid(random.Random(1))}-abcdefgh"
    link.symlink_to(precious, target_is_directory=True)
    assert remove_stale_shared(str(tmp_path)) == []
    assert link.is_symlink() and (precious / "keep.txt").read_text() == "x"


def test_an_unreadable_stale_folder_of_ours_is_removed(tmp_path):
    from featbench.train.shared import remove_stale_shared

    stale = tmp_path / f"featbench-train-{_dead_pid(random.Random(2))}-abcdefgh"
    stale.mkdir()
    (stale / "X0000.npy").write_text("x")
    stale.chmod(0)
    assert remove_stale_shared(str(tmp_path)) == [str(stale)]
    assert not stale.exists()


def test_another_users_stale_folder_is_left_alone(tmp_path, monkeypatch):
    # a shared temp dir: a folder named like ours but owned by someone else is theirs (as root, rmtree could
    # remove it; otherwise the sticky bit refuses, and the folder was listed as removed all the same)
    from featbench.train.shared import remove_stale_shared

    theirs = tmp_path / f"featbench-train-{_dead_pid(random.Random(3))}-abcdefgh"
    theirs.mkdir()
    (theirs / "X0000.npy").write_text("x")
    if os.geteuid() == 0:
        os.chown(theirs, 54321, 54321)
    else:
        real = os.geteuid
        monkeypatch.setattr(os, "geteuid", lambda: real() + 1)
    assert remove_stale_shared(str(tmp_path)) == []
    assert (theirs / "X0000.npy").exists()


def test_a_temp_dir_of_100000_entries_is_cleaned_in_bounded_time(tmp_path, monkeypatch):
    # 100,000 names that all match the prefix (each would cost an lstat and a kill): at most MAX_CANDIDATES of
    # them are examined, and the scan of the names themselves is quick
    from featbench.train import shared

    pid = os.getpid()
    for i in range(100_000):
        os.close(os.open(tmp_path / f"featbench-train-{pid}-{i}", os.O_CREAT | os.O_WRONLY, 0o600))
    examined = []
    real = shared._ours
    monkeypatch.setattr(shared, "_ours", lambda entry: examined.append(entry.name) or real(entry))
    start = time.perf_counter()
    assert shared.remove_stale_shared(str(tmp_path)) == []
    assert time.perf_counter() - start < 5
    assert len(examined) == shared.MAX_CANDIDATES
