"""Surface: feature stores handed to featbench (store folders of other people, damaged disks, hand edits).

The contract, through the store's library calls (`read_family`, `verify`, `StoreWriter.repair`): a store file
is refused in one line naming it, or read exactly as written; `verify` never calls a damaged or unreadable file
ok; `repair` moves a file aside only on proof of damage, and what it leaves readable is what was written.

Cases (seeded, endless): bytes of a format-3 family file (frame rows, or token rows with their texts) or of a
shard damaged by `mutate` (tests/test_store_damage.py aims single flips at named parts of the index and at
format-2 global heaps; here the damage lands anywhere); attributes set to other values and types, the metadata
checksum recomputed (a hand edit, or another featbench: unknown format_version, rows and dtype values must be
refused); datasets replaced by others of another dtype or shape, their checksums recomputed; hostile family
names; a dangling link, a folder, a FIFO, a link loop or an empty file in place of the family file.
"""

from __future__ import annotations

import fcntl
import os
import random
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from featbench.errors import CorruptStoreError, FeatbenchError
from featbench.store import FamilyMeta, StoreWriter, read_family, verify
from featbench.store.files import CRC, META_CRC, PENDING, TextRecord, _meta_crc, _stored_crc
from featbench.store.meta import fixed_strings
from hostile.contract import HOSTILE_NAMES, Case, Surface, campaign, cases_budget, hostile_value, mutate, run_cli

FRAMES = FamilyMeta(
    "toy", "a toy family", {"k": 1}, "hash1", {"sample_rate": 16000}, {"x": "1"}, 16000, 100.0, ["a", "b", "c"]
)
TOKENS = FamilyMeta("words", "token rows", {}, "hash2", {}, {}, 16000, 0.0, ["d0", "d1"], rows="tokens")
IDS = [f"clip-{k}" for k in range(5)]


def _arrays(meta: FamilyMeta, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {uid: rng.normal(size=(k + 1, meta.dim)).astype(np.float32) for k, uid in enumerate(IDS)}


def _record(uid: str, rows: int) -> TextRecord:
    return TextRecord(tuple(f"{uid}-t{k}" for k in range(rows)), f"text of {uid}", "corpus")


def make_store(folder: Path, meta: FamilyMeta, shard: bool = False) -> dict[str, np.ndarray]:
    """A store holding `meta`'s family (IDS, consolidated; with `shard`, the last clip left in a shard); its arrays."""
    arrays = _arrays(meta, len(meta.family))
    with StoreWriter(folder) as writer:
        writer.prepare(meta)
        for uid in IDS[:-1] if shard else IDS:
            writer.add(
                meta.family,
                uid,
                f"sha-{uid}",
                arrays[uid],
                text=_record(uid, len(arrays[uid])) if meta.rows == "tokens" else None,
            )
        writer.consolidate(meta.family, IDS)
        if shard:
            writer.add(
                meta.family,
                IDS[-1],
                f"sha-{IDS[-1]}",
                arrays[IDS[-1]],
                text=_record(IDS[-1], len(arrays[IDS[-1]])) if meta.rows == "tokens" else None,
            )
    return arrays


def read_as_written(result, meta: FamilyMeta, arrays: dict, ids=None, **attrs) -> bool:
    """Whether a FeatureSet holds exactly `arrays` (of `ids`, default all), with `meta`'s columns (and `attrs`)."""
    ids = sorted(arrays) if ids is None else sorted(ids)
    if sorted(result.ids) != ids or list(result.meta.columns) != list(meta.columns):
        return False
    if any(getattr(result.meta, name) != value for name, value in attrs.items()):
        return False
    for uid in ids:
        if not np.array_equal(result.get(uid), arrays[uid]) or result.hashes[result.position[uid]] != f"sha-{uid}":
            return False
        if meta.rows == "tokens" and (
            result.tokens(uid) != list(_record(uid, len(arrays[uid])).tokens) or result.text(uid) != f"text of {uid}"
        ):
            return False
    return True


def _verified(store: Path, family: str):
    """verify's health of `family` as a refusal (its line) when it is not ok; else what read_family reads."""
    health = {h.family: h for h in verify(store)}[family]
    if not health.ok:
        raise FeatbenchError(health.line())
    return read_family(store, family)


def _repaired(store: Path, family: str, path: Path, arrays: dict):
    """repair, then read_family: (moved aside?, ids that were refused, what is read); a file never moved without proof."""
    try:
        read_family(store, family)
        proof = False
    except CorruptStoreError:
        proof = True
    except FeatbenchError:
        proof = None  # refused, but not as damage: repair must leave it
    with StoreWriter(store) as writer:
        writer.repair()
    moved = path.with_name(path.name + ".damaged").exists()
    if moved and not proof:
        return ("moved without proof", proof)
    return (
        read_family(store, family)
        if (store / f"{family}.h5").exists() or (store / PENDING / family).is_dir()
        else "empty"
    )


def _repair_check(result, meta, arrays) -> bool:
    if isinstance(result, tuple):
        return False
    if result == "empty":
        return True
    return read_as_written(result, meta, arrays, ids=[u for u in result.ids])


# ---------------------------------------------------------------------------------------------- case makers


def _bytes_case(rng: random.Random, folder: Path, meta: FamilyMeta) -> Case:
    shard = rng.random() < 0.3
    arrays = make_store(folder, meta, shard=shard)
    path = (
        next((folder / PENDING / meta.family).glob("*.h5"))
        if shard and rng.random() < 0.5
        else folder / f"{meta.family}.h5"
    )
    data = path.read_bytes()
    for _ in range(rng.randrange(1, 3)):
        data = mutate(data, rng)
    path.write_bytes(data)
    how = rng.choice(["read", "read", "verify", "repair"])
    label = f"{how} {path.relative_to(folder.parent)} damaged ({len(data)} bytes)"
    names = (str(path), meta.family)
    if how == "read":
        return Case(label, lambda: read_family(folder, meta.family), lambda r: read_as_written(r, meta, arrays), names)
    if how == "verify":
        return Case(label, lambda: _verified(folder, meta.family), lambda r: read_as_written(r, meta, arrays), names)
    return Case(
        label, lambda: _repaired(folder, meta.family, path, arrays), lambda r: _repair_check(r, meta, arrays), names
    )


ATTRS = {
    "format_version": [4, 99, 0, -1, 2**40],
    "rows": ["xyz", "Frames", "", "tokens", "utterance"],
    "dtype": ["int8", "float64", "float16", "complex64", "", "f4"],
    "sample_rate": [0, -1, 8000, 2**62],
    "frame_rate": [-1.0, float("nan"), float("inf"), 50.0, 0.0],
    "layers": [-1, 3, 2**40, 1],
    "dim": [0, 2, 4, 99],
    "pooled": [True, "false", 1],
    "config": ["[1]", "{", "null", '{"k": 2}', '"x"'],
    "audio": ["[]", "{}", "nope"],
    "versions": ["{}", "1"],
    "family": ["toy", "other", ""],
    "config_hash": ["", "x" * 300],
    "description": list(HOSTILE_NAMES),
}
WRITTEN = {"sample_rate": int, "frame_rate": float, "config_hash": str, "description": str}


def _set_attr(h5, name: str, value) -> None:
    if isinstance(value, str):
        h5.attrs.create(name, fixed_strings([value]).reshape(()))
    else:
        h5.attrs[name] = value
    h5.attrs[META_CRC] = np.uint32(_meta_crc(h5))


def _attr_case(rng: random.Random, folder: Path, meta: FamilyMeta) -> Case:
    arrays = make_store(folder, meta)
    path = folder / f"{meta.family}.h5"
    name = rng.choice(sorted(ATTRS))
    value = rng.choice(ATTRS[name] + [hostile_value(rng)])
    try:
        with h5py.File(path, "r+") as h5:
            _set_attr(h5, name, value)
    except (
        TypeError,
        ValueError,
        OverflowError,
    ):  # a value HDF5 cannot hold as an attribute (None, {}, [], a NUL): another one
        value = "x"
        with h5py.File(path, "r+") as h5:
            _set_attr(h5, name, value)
    expect = {}
    if name in WRITTEN and isinstance(value, WRITTEN[name]) and not isinstance(value, bool):
        expect = {name: value}  # accepted, it reads as written (another type, or a bad value: refused)
    return Case(
        f"{path.name}: attribute {name} = {value!r}"[:200],
        lambda: read_family(folder, meta.family),
        lambda r: (
            read_as_written(r, meta, arrays, **expect)
            and name not in ("format_version", "pooled")
            and (name != "dim" or value == meta.dim)
        ),
        (str(path),),
    )


def _dataset_case(rng: random.Random, folder: Path, meta: FamilyMeta) -> Case:
    arrays = make_store(folder, meta)
    path = folder / f"{meta.family}.h5"
    with h5py.File(path, "r+") as h5:
        name = rng.choice([n for n in h5 if n != "features"] + ["features"] * 3)
        data = h5[name][()]
        change = rng.choice(["float64", "int32", "float16", "uint8", "text", "2-D", "1-D", "wider", "shorter", "empty"])
        if change == "text":  # numbers as text; text of variable length (in a global heap, as format 2 kept it)
            new = (
                fixed_strings([str(v) for v in data.reshape(-1)])
                if data.dtype.kind != "S"
                else np.array([v.decode() for v in data], dtype=h5py.string_dtype())
            )
        elif change == "2-D":
            new = data.reshape(len(data), -1)[:, :, None] if data.ndim == 2 else data.reshape(-1, 1)
        elif change == "1-D":
            new = data.reshape(-1)
        elif change == "wider":
            new = np.concatenate([data, data], axis=-1) if data.ndim == 2 else np.concatenate([data, data])
        elif change == "shorter":
            new = data[:-1]
        elif change == "empty":
            new = data[:0]
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                new = data.astype(change) if data.dtype.kind != "S" else np.arange(len(data)).astype(change)
        attrs = dict(h5[name].attrs)
        del h5[name]
        h5.create_dataset(name, data=new)
        for key, value in attrs.items():
            h5[name].attrs[key] = value
        if CRC in h5[name].attrs:
            h5[name].attrs[CRC] = np.uint32(_stored_crc(h5[name][()]))
    return Case(
        f"{path.name}: dataset {name} made {change}",
        lambda: read_family(folder, meta.family),
        lambda r: read_as_written(r, meta, arrays),
        (str(path),),
    )


def _name_case(rng: random.Random, folder: Path, meta: FamilyMeta) -> Case:
    name = rng.choice(HOSTILE_NAMES + ("..", ".", "a/b", "x\0y", "-", "ok_name"))
    hostile = FamilyMeta(
        name,
        meta.description,
        meta.config,
        meta.config_hash,
        meta.audio,
        meta.versions,
        meta.sample_rate,
        meta.frame_rate,
        meta.columns,
    )
    outside = sorted(p.name for p in folder.parent.iterdir())

    def action():
        arrays = make_store(folder, hostile)
        return arrays, read_family(folder, name)

    def check(result) -> bool:
        arrays, read = result
        return read_as_written(read, hostile, arrays) and sorted(p.name for p in folder.parent.iterdir()) == outside + [
            folder.name
        ]

    return Case(f"family named {name!r}"[:120], action, check, (repr(name)[:60], name))


def _in_place_case(rng: random.Random, folder: Path, meta: FamilyMeta) -> Case:
    arrays = make_store(folder, meta)
    path = folder / f"{meta.family}.h5"
    kind = rng.choice(["dangling link", "folder", "fifo", "link loop", "empty file", "link to the file"])
    kept = folder.parent / f"{folder.name}-kept.h5"
    shutil.move(path, kept)
    if kind == "dangling link":
        path.symlink_to(folder / "nowhere.h5")
    elif kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "link loop":
        path.symlink_to(path)
    elif kind == "empty file":
        path.write_bytes(b"")
    else:
        path.symlink_to(kept)
    how = rng.choice(["read", "verify"])
    action = (lambda: read_family(folder, meta.family)) if how == "read" else (lambda: _verified(folder, meta.family))
    return Case(
        f"{how}: {kind} in place of {path.name}",
        action,
        lambda r: read_as_written(r, meta, arrays),
        (str(path),),
        seconds=10,
    )


MAKERS = [(_bytes_case, 5), (_attr_case, 2), (_dataset_case, 2), (_name_case, 1), (_in_place_case, 1)]


def store_cases(rng: random.Random, workdir: Path):
    makers = [maker for maker, weight in MAKERS for _ in range(weight)]
    number = 0
    while True:
        number += 1
        folder = workdir / f"case{number}" / "store"
        folder.parent.mkdir(parents=True)
        meta = FRAMES if rng.random() < 0.7 else TOKENS
        yield rng.choice(makers)(rng, folder, meta)


SURFACE = Surface("stores", store_cases)


def test_damaged_and_hand_edited_stores_are_read_as_written_or_refused(tmp_path):
    campaign(SURFACE, cases_budget(80), tmp_path).assert_clean(at_least=80)


# ---------------------------------------------------------------------------------------------- defects 5 and 8, item 13


@pytest.mark.parametrize("kind", ["dangling link", "folder", "fifo"])
def test_verify_never_calls_a_family_file_that_is_not_a_file_ok(tmp_path, kind):
    """Defect 8: a dangling symlink, a folder or a FIFO named toy.h5 was "toy: 0 clips ok" (and a FIFO must not hang)."""
    path = tmp_path / "toy.h5"
    {
        "dangling link": lambda: path.symlink_to(tmp_path / "gone.h5"),
        "folder": path.mkdir,
        "fifo": lambda: os.mkfifo(path),
    }[kind]()
    line = verify(tmp_path)[0].line()
    what = {
        "dangling link": "a symbolic link to a missing file",
        "folder": "a folder, not a store file",
        "fifo": "a FIFO, not a store file",
    }[kind]
    assert line.startswith(f"toy: unreadable ({path}: {what}"), line
    with pytest.raises(FeatbenchError, match=what):
        read_family(tmp_path, "toy")


def _format_2_store(folder: Path) -> None:
    from tests.test_store_damage import _as_format_2

    make_store(folder, FRAMES)
    _as_format_2(folder / "toy.h5")  # its strings in a global heap: read in a child process, FEATBENCH_READ_TIMEOUT


@pytest.mark.parametrize("value", ["abc", "0", "inf", "-5", "nan"])
def test_a_bad_read_timeout_is_one_line_before_repair_touches_any_file(tmp_path, value):
    """Defect 5: FEATBENCH_READ_TIMEOUT=abc, 0 or inf made `verify --repair` move an intact file aside."""
    store = tmp_path / "store"
    _format_2_store(store)
    before = sorted(p.name for p in store.iterdir())
    result = run_cli(["verify", str(store), "--repair"], env={"FEATBENCH_READ_TIMEOUT": value}, seconds=60)
    assert result.code == 1 and result.lines == [
        f"featbench: error: FEATBENCH_READ_TIMEOUT={value!r}: give the seconds one store read may take, a number above 0 "
        "and at most 86400 (unset: 60)"
    ], result
    assert result.stdout == "" and sorted(p.name for p in store.iterdir()) == before


def test_repair_leaves_a_file_that_is_merely_unreadable_in_place(tmp_path):
    """Defect 5: a file that cannot be read for a reason other than damage (here a lock another program holds; a
    permission denied is the same) was moved aside as damaged."""
    store = tmp_path / "store"
    arrays = make_store(store, FRAMES)
    path = store / "toy.h5"
    with open(path, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # HDF5's own lock then fails: errno 11, the system's refusal
        health = verify(store)[0]
        assert not health.ok and "cannot be read" in health.unreadable, health.line()
        with StoreWriter(store) as writer:
            assert writer.repair() == []
        assert writer.left == [f"toy: left in place, not proven damaged: {health.unreadable}"]
    assert sorted(p.name for p in store.iterdir()) == ["toy.h5"]
    assert read_as_written(read_family(store, "toy"), FRAMES, arrays)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its permissions")
def test_repair_leaves_a_file_without_read_permission_in_place(tmp_path):
    store = tmp_path / "store"
    make_store(store, FRAMES)
    (store / "toy.h5").chmod(0)
    try:
        with StoreWriter(store) as writer:
            assert writer.repair() == [] and "Permission denied" in writer.left[0]
        assert (store / "toy.h5").exists() and not (store / "toy.h5.damaged").exists()
    finally:
        (store / "toy.h5").chmod(0o644)


def test_repair_still_moves_a_damaged_file_aside(tmp_path):
    store = tmp_path / "store"
    make_store(store, FRAMES)
    (store / "toy.h5").write_bytes(b"not hdf5 at all")
    with StoreWriter(store) as writer:
        assert writer.repair() == ["toy: moved unreadable toy.h5 aside as toy.h5.damaged"] and writer.left == []


@pytest.mark.parametrize(
    "name, value, refusal",
    [
        ("format_version", 4, "store format 4, written by a newer featbench; this one reads formats 1 to 3"),
        ("format_version", 0, "metadata 'format_version' is 0, not a store format from 1 to 3"),
        ("rows", "xyz", "metadata 'rows' is 'xyz', not one of frames, utterance, waveform, tokens"),
        ("dtype", "float64", "metadata 'dtype' is 'float64', not one of float32, float16"),
        ("frame_rate", float("nan"), "metadata 'frame_rate' is nan, not a finite number >= 0"),
    ],
)
def test_unknown_metadata_values_are_refused_in_one_line(tmp_path, name, value, refusal):
    """Issue item 13: unknown format_version/rows/dtype values were accepted (the metadata checksum recomputed,
    as another featbench or a hand edit would leave them); they are refused, and repair leaves the file."""
    make_store(tmp_path, FRAMES)
    with h5py.File(tmp_path / "toy.h5", "r+") as h5:
        _set_attr(h5, name, value)
    with pytest.raises(FeatbenchError) as refused:
        read_family(tmp_path, "toy")
    assert str(refused.value).startswith(f"{tmp_path / 'toy.h5'}: {refusal}") and not isinstance(
        refused.value, CorruptStoreError
    )
    with StoreWriter(tmp_path) as writer:
        writer.repair()
    assert (tmp_path / "toy.h5").exists()


def test_a_family_name_that_leaves_the_store_is_refused(tmp_path):
    hostile = FamilyMeta("../outside", "", {}, "h", {}, {}, 16000, 0.0, ["a"])
    with pytest.raises(FeatbenchError, match="'../outside': not a family name a store can hold"):
        with StoreWriter(tmp_path / "store") as writer:
            writer.prepare(hostile)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


@pytest.mark.parametrize("name", ["**bold**", "a[b]", "*", "?"])
def test_a_family_named_with_glob_characters_is_written_and_read_back(tmp_path, name):
    """Found by the campaign: '**' in a family name crashed StoreWriter.prepare (ValueError: Invalid pattern), and
    '*' made it look for other families' leftovers."""
    meta = FamilyMeta(name, "", {}, "h", {}, {}, 16000, 100.0, FRAMES.columns)
    arrays = make_store(tmp_path, meta)
    assert read_as_written(read_family(tmp_path, name), meta, arrays)


def test_a_file_renamed_to_another_family_is_refused(tmp_path):
    make_store(tmp_path, FRAMES)
    os.replace(tmp_path / "toy.h5", tmp_path / "words.h5")
    with pytest.raises(FeatbenchError, match="words.h5: holds family 'toy', not 'words'"):
        read_family(tmp_path, "words")
    with StoreWriter(tmp_path) as writer:
        assert writer.repair() == [] and len(writer.left) == 1 and "holds family 'toy'" in writer.left[0]
    assert (tmp_path / "words.h5").exists()
