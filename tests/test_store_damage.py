"""Damaged store files (issue 19): bytes flipped in an HDF5 global heap never make a command spin (a bounded,
interruptible read, one line naming the file), and damage to a file's index (ids, offsets, lengths, audio
hashes, clip checksums, column names, metadata) is caught by checksums and named by `verify`; a file
written before those checksums existed is reported as such (which part is not checked).

The commands run in subprocesses with a timeout, so that a hang fails the test instead of stalling the suite.
"""
from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np
import psutil
import pytest

from featbench.errors import CorruptStoreError
from featbench.store import FamilyMeta, StoreWriter, read_family, verify
from tests.test_faults import SMALL_GRID, _assert_one_line_error, _cli, _popen

META = FamilyMeta("toy", "a toy family", {"k": 1}, "hash1", {"sample_rate": 16000}, {"x": "1"}, 16000, 100.0, ["a", "b", "c"])
IDS = [f"clip-{c}" for c in "abcdef"]  # all of one length, so that one can be written over another
# A spinning read is given up after 1 s, not 60. The limit counts from the reading child's "ready" (its imports
# done), and under QUICK the only bounded reads are of the damaged format-2 file itself: no sound read can miss it.
QUICK = {**os.environ, "FEATBENCH_READ_TIMEOUT": "1"}


# ---------------------------------------------------------------------------------------------- helpers

def _toy_store(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    with StoreWriter(folder) as writer:
        writer.prepare(META)
        for number, uid in enumerate(IDS):
            writer.add("toy", uid, f"sha-{number:04d}", rng.normal(size=(3, 3)).astype(np.float32))
        writer.consolidate("toy", IDS)
    return folder / "toy.h5"


def _as_format_2(path: Path) -> None:
    """Rewrite a store file as featbench wrote it up to format 2: every string (attribute or dataset) of
    variable length, so in a global heap, and no checksums besides the clips' own."""
    with h5py.File(path, "r") as h5:
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in h5.attrs.items() if "crc" not in k}
        values = {name: h5[name][()] for name in h5}
    tmp = path.with_name(path.name + ".old")
    with h5py.File(tmp, "w") as out:
        for key, value in attrs.items():
            out.attrs[key] = value
        out.attrs["format_version"] = 2
        for name, data in values.items():
            if data.dtype.kind in "SO":
                text = np.array([v.decode() if isinstance(v, bytes) else v for v in data], dtype=object)
                out.create_dataset(name, data=text, dtype=h5py.string_dtype("utf-8"))
            else:
                out.create_dataset(name, data=data)
    os.replace(tmp, path)


def _heap_object(data: bytes, text: str) -> tuple[int, int]:
    """(start of the global heap collection, start of the heap object) holding the string `text`."""
    at = data.find(text.encode()) - 16  # an object: index (2 bytes), references (2), reserved (4), size (8), data
    assert at > 0 and data.count(text.encode()) == 1, f"{text!r} is not in the file once"
    start = data.rfind(b"GCOL", 0, at)
    assert start >= 0, "no global heap in this file"
    return start, at


def _spin_heap(path: Path, uid: str) -> None:
    """Grow the size of `uid`'s heap object so that libhdf5's walk of the collection lands in its zeroed free
    space, where an object of index 0 and size 0 never advances: the read spins forever inside C."""
    data = bytearray(path.read_bytes())
    start, at = _heap_object(data, uid)
    p = start + 16
    while struct.unpack_from("<H", data, p)[0] != 0:  # to the free-space object, which ends the collection
        p += 16 + (struct.unpack_from("<Q", data, p + 8)[0] + 7) // 8 * 8
    struct.pack_into("<Q", data, at + 8, p - at)
    path.write_bytes(bytes(data))


def _flip(path: Path, offset: int, mask: int = 0xFF) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= mask
    path.write_bytes(bytes(data))


def _swap(path: Path, a: str, b: str) -> None:
    """Write each of two ids (of one length) over the other, wherever the file holds them."""
    data = bytearray(path.read_bytes())
    assert len(a) == len(b) and data.count(a.encode()) == 1 and data.count(b.encode()) == 1
    at_a, at_b = data.find(a.encode()), data.find(b.encode())
    data[at_a:at_a + len(a)], data[at_b:at_b + len(b)] = b.encode(), a.encode()
    path.write_bytes(bytes(data))


def _lock_is_free(store: Path) -> None:
    with StoreWriter(store):
        pass


@pytest.fixture
def legacy_demo(demo_store, tmp_path) -> Path:
    """A copy of demo_store whose egemaps-func.h5 is a format-2 file (id strings in a global heap)."""
    store = tmp_path / "store"
    shutil.copytree(demo_store, store)
    _as_format_2(store / "egemaps-func.h5")
    return store


# ---------------------------------------------------------------------------------------------- item 1: spinning heaps

@pytest.mark.parametrize("command", ["verify", "train", "extract"])
def test_a_global_heap_that_makes_hdf5_spin_is_one_line_not_a_hang(legacy_demo, demo_corpus, tmp_path, command):
    path = legacy_demo / "egemaps-func.h5"
    _spin_heap(path, "f1_happy_00")
    args = {"verify": ["verify", legacy_demo],
            "train": ["train", legacy_demo, "--out", tmp_path / "r.csv", *SMALL_GRID, "--no-progress"],
            "extract": ["extract", "demo", demo_corpus, "--features", "egemaps-func", "--out", legacy_demo, "--no-progress"]}
    started = time.monotonic()
    try:
        result = _cli(*args[command], cwd=tmp_path, timeout=90, env=QUICK)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`featbench {command}` still reading the damaged file after 90 s")
    assert time.monotonic() - started < 60
    text = result.stdout + result.stderr
    if command == "verify":
        assert result.returncode == 1 and "Traceback" not in text, text
        assert f"egemaps-func: unreadable ({path}: " in text and "did not finish" in text, text
        assert "egemaps-lld: 32 clips ok" in text, text
    else:
        _assert_one_line_error(result.returncode, text, str(path), "did not finish", "featbench verify")
    _lock_is_free(legacy_demo)


def test_verify_repair_moves_a_spinning_file_aside_and_extract_redoes_it(legacy_demo, demo_corpus, tmp_path):
    path = legacy_demo / "egemaps-func.h5"
    _spin_heap(path, "f1_happy_00")
    repair = _cli("verify", legacy_demo, "--repair", cwd=tmp_path, timeout=90, env=QUICK)
    assert repair.returncode == 0 and "moved unreadable egemaps-func.h5 aside" in repair.stdout, repair.stdout + repair.stderr
    redo = _cli("extract", "demo", demo_corpus, "--features", "egemaps-func", "--out", legacy_demo, "--no-progress",
                cwd=tmp_path, timeout=180)
    assert redo.returncode == 0 and "32 extracted" in redo.stdout, redo.stdout + redo.stderr
    assert [h.line() for h in verify(legacy_demo)] == ["egemaps-func: 32 clips ok", "egemaps-lld: 32 clips ok"]


def test_ctrl_c_while_hdf5_spins_exits_130_and_frees_the_store(legacy_demo, demo_corpus, tmp_path):
    _spin_heap(legacy_demo / "egemaps-func.h5", "f1_happy_00")
    args = ["extract", "demo", demo_corpus, "--features", "egemaps-func", "--out", legacy_demo, "--no-progress"]
    proc = _popen(*args, cwd=tmp_path, env={**os.environ, "FEATBENCH_READ_TIMEOUT": "600"}, start_new_session=True,
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    family = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:  # until it reads the file (or spins itself)
            me = psutil.Process(proc.pid)
            family = me.children(recursive=True)
            if family or me.cpu_times().user > 6:
                break
            time.sleep(0.1)
        time.sleep(2)
        assert proc.poll() is None, proc.communicate()
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches every process of the foreground group
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("Ctrl-C did not stop `featbench extract` within 30 s of a spinning read")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err, err
    time.sleep(0.5)
    assert not [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], "a reader process outlived the run"
    _lock_is_free(legacy_demo)


# ---------------------------------------------------------------------------------------------- item 2: the index

def test_swapped_ids_are_refused_by_train_and_named_by_verify(demo_store, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(demo_store, store)
    path = store / "egemaps-func.h5"
    _swap(path, "f1_angry_00", "f1_happy_00")  # the angry clip's rows now under the happy id, and back
    check = _cli("verify", store, cwd=tmp_path, timeout=90)
    assert check.returncode == 1, check.stdout + check.stderr
    assert f"egemaps-func: unreadable ({path}: damaged store file: its ids fail their checksum)" in check.stdout, check.stdout
    train = _cli("train", store, "--out", tmp_path / "r.csv", *SMALL_GRID, "--no-progress", cwd=tmp_path, timeout=120)
    _assert_one_line_error(train.returncode, train.stdout + train.stderr, str(path), "ids fail their checksum")
    assert not (tmp_path / "r.csv").exists() or "f1_" not in (tmp_path / "r.csv").read_text()


def test_duplicate_ids_are_refused_on_read(tmp_path):
    path = _toy_store(tmp_path)
    _as_format_2(path)  # no index checksum: the duplicate itself must be seen
    data = path.read_bytes()
    path.write_bytes(data.replace(b"clip-b", b"clip-c"))
    with pytest.raises(CorruptStoreError, match=r"toy\.h5: damaged store file: duplicate ids \(clip-c\)"):
        read_family(tmp_path, "toy")
    assert "duplicate ids (clip-c)" in verify(tmp_path)[0].line()


PARTS = {  # dataset -> (what verify calls it, byte to flip within its stored values)
    "ids": ("ids", 3), "audio_hash": ("audio hashes", 2), "offsets": ("offsets", 8), "lengths": ("lengths", 0),
    "checksums": ("clip checksums", 1), "columns": ("column names", 0),
}


@pytest.mark.parametrize("name", sorted(PARTS))
def test_verify_names_the_damaged_part_of_the_index(tmp_path, name):
    path = _toy_store(tmp_path / "s")
    label, byte = PARTS[name]
    with h5py.File(path, "r") as h5:
        offset = h5[name].id.get_offset()
    _flip(path, offset + byte, 0x01)
    check = _cli("verify", tmp_path / "s", cwd=tmp_path, timeout=90, env=QUICK)
    assert check.returncode == 1, check.stdout + check.stderr
    assert f"toy: unreadable ({path}: damaged store file: its {label} fail their checksum)" in check.stdout, check.stdout


def test_verify_names_damaged_metadata(tmp_path):
    path = _toy_store(tmp_path / "s")
    data = path.read_bytes()
    assert data.count(b"a toy family") == 1
    _flip(path, data.find(b"a toy family") + 2, 0x01)  # 'a uoy family'
    check = _cli("verify", tmp_path / "s", cwd=tmp_path, timeout=90, env=QUICK)
    assert check.returncode == 1, check.stdout + check.stderr
    assert f"toy: unreadable ({path}: damaged store file: its metadata fail their checksum)" in check.stdout, check.stdout


# ---------------------------------------------------------------------------------------------- files of format 2

def test_a_format_2_file_says_its_index_is_not_checked_and_repair_adds_the_checksums(tmp_path):
    path = _toy_store(tmp_path)
    _as_format_2(path)
    line = verify(tmp_path)[0].line()
    assert line.startswith("toy: 6 clips ok; index not checked") and "--repair" in line, line
    with StoreWriter(tmp_path) as writer:
        assert "toy: rewritten with index checksums" in " ".join(writer.repair())
    assert verify(tmp_path)[0].line() == "toy: 6 clips ok"
    assert b"GCOL" not in path.read_bytes()
    assert list(read_family(tmp_path, "toy").ids) == IDS


@pytest.mark.parametrize("where", ["collection size", "object index", "object size", "spin", "id text", "free space"])
def test_heap_damage_in_a_format_2_file_is_never_endless_nor_called_ok(tmp_path, where):
    path = _toy_store(tmp_path / "s")
    _as_format_2(path)
    data = path.read_bytes()
    start, at = _heap_object(data, "clip-d")
    if where == "spin":
        _spin_heap(path, "clip-d")
    else:
        _flip(path, {"collection size": start + 9, "object index": at, "object size": at + 8, "id text": at + 16 + 5,
                     "free space": start + 4096 - 8}[where], 0x04)
    try:
        check = _cli("verify", tmp_path / "s", cwd=tmp_path, timeout=90, env=QUICK)
    except subprocess.TimeoutExpired:
        pytest.fail("`featbench verify` still reading after 90 s")
    line = check.stdout.strip()
    assert "Traceback" not in check.stderr, check.stderr
    assert line.startswith("toy: unreadable (") or "index not checked" in line, line
