"""Precomputed embeddings on disk: which clips a source holds and each clip's array, read one at a time.

A source (``featbench import --from PATH``) is one of:

- a folder of ``<id>.npy`` (or ``<id>.npz`` holding one array) per clip, searched recursively: a clip's id is
  its path below the folder without the suffix (``Actor_01/03-01-05-01-01-01-01``), as `featbench predict`
  names the clips of a folder;
- one ``.npz`` file, or one HDF5 file (``.h5``, ``.hdf5``), with one array per clip named by its id (HDF5:
  the dataset's path, groups included);
- one ``.npz`` or HDF5 file with two arrays ``ids`` (N strings) and ``embeddings`` (N x dim, or N x layers x dim):
  one utterance row per clip.

Every array is read within a `MemoryBudget` (its declared shape and type checked before its values are read),
without unpickling, and from the named files only (`npy`, `hdf5`).

>>> import tempfile
>>> d = Path(tempfile.mkdtemp())
>>> np.savez(d / "e.npz", ids=np.array(["a", "b"]), embeddings=np.ones((2, 3)))
>>> source = open_source(d / "e.npz", MemoryBudget.of("1"))
>>> source.ids, source.utterance_only, [a.shape for _, a in source.arrays(["b"])]
(['a', 'b'], True, [(3,)])
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Iterator

import numpy as np

from featbench.embeddings.budget import ID_BYTES, MemoryBudget, describe
from featbench.embeddings.hdf5 import check_dataset, open_hdf5, read_ids
from featbench.embeddings.npy import NpzArchive, read_npy
from featbench.embeddings.messages import plain, reason, shown
from featbench.errors import FeatbenchError

SUFFIXES = (".npy", ".npz")
HDF5_SUFFIXES = (".h5", ".hdf5")
MATRIX_KEYS = {"ids", "embeddings"}  # one file, one utterance row per clip


@dataclass
class EmbeddingSource:
    """A source's clip ids (sorted) and a reader of one clip's array (`read(id)`); `utterance_only` when the
    source holds one row per clip by its form (``ids`` + ``embeddings``)."""

    path: Path
    form: str
    ids: list[str]
    read: Callable[[str], np.ndarray]
    utterance_only: bool = False
    close: Callable[[], None] = field(default=lambda: None)

    def arrays(self, ids: list[str]) -> Iterator[tuple[str, np.ndarray]]:
        """(id, array) for each of `ids`, read one at a time; an unreadable one is a one-line FeatbenchError."""
        for uid in ids:
            try:
                array = np.asarray(self.read(uid))
            except FeatbenchError:
                raise
            except Exception as err:  # numpy, zipfile and h5py raise many kinds on damaged files
                raise FeatbenchError(f"{self.path}: cannot read the embedding of {shown(uid)} ({reason(err)})") from None
            yield uid, array


def open_source(path: str | Path, budget: MemoryBudget | None = None) -> EmbeddingSource:
    """The EmbeddingSource at `path` (a folder, an .npz or an HDF5 file), read within `budget` (default:
    `MemoryBudget.of()`); a one-line FeatbenchError when it is none of them, holds no clip, or declares more than
    the budget."""
    path = Path(path).expanduser()
    budget = budget or MemoryBudget.of()
    if path.is_dir():
        source = _folder(path, budget)
    elif not path.is_file():
        raise FeatbenchError(f"--from {path}: no such file or folder")
    elif path.suffix.lower() in (".npz", *HDF5_SUFFIXES):
        source = _opened(path, _npz if path.suffix.lower() == ".npz" else _hdf5, budget)
    else:
        raise FeatbenchError(f"--from {path}: not a folder of .npy/.npz files, an .npz file or an HDF5 file (.h5, .hdf5)")
    if not source.ids:
        source.close()
        raise FeatbenchError(f"--from {path}: holds no embeddings")
    return source


def _opened(path: Path, opener: Callable, budget: MemoryBudget) -> EmbeddingSource:
    """`opener(path, budget)`; what a damaged file makes numpy, zipfile or h5py raise is one line naming it."""
    try:
        return opener(path, budget)
    except FeatbenchError:
        raise
    except Exception as err:  # h5py raises OSError, RuntimeError, KeyError, ... on damaged metadata
        raise FeatbenchError(f"{path}: cannot read it, damaged? ({reason(err)})") from None


def _folder(root: Path, budget: MemoryBudget) -> EmbeddingSource:
    files: dict[str, Path] = {}
    for file in sorted(p for p in root.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()):
        uid = file.relative_to(root).with_suffix("").as_posix()
        if uid in files:
            raise FeatbenchError(f"--from {root}: clip {shown(uid)} has two files ({plain(files[uid].name)} and "
                                 f"{plain(file.name)})")
        files[uid] = file
    return EmbeddingSource(root, "folder of .npy/.npz files", sorted(files), lambda uid: _one_array(files[uid], budget))


def _one_array(file: Path, budget: MemoryBudget) -> np.ndarray:
    """The array of a per-clip .npy file, or the only array of a per-clip .npz file."""
    if file.suffix.lower() == ".npy":
        return read_npy(file, budget)
    archive = NpzArchive(file, budget)
    try:
        if len(archive.names) != 1:
            raise FeatbenchError(f"{plain(file)}: a clip's .npz file must hold one array, not {len(archive.names)} "
                                 f"({', '.join(archive.names[:5])})")
        return archive.read(archive.names[0])
    finally:
        archive.close()


def _ids(where: str, values: np.ndarray) -> list[str]:
    """The ids of an 'ids' array (text or integers): each once, text in UTF-8."""
    if values.dtype.kind not in "SUOiu" or values.ndim != 1:
        raise FeatbenchError(f"{where}: ids of type {describe(values.dtype)} and shape {values.shape} are not one axis "
                             "of text or integers")
    try:
        ids = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]
    except UnicodeDecodeError as err:
        raise FeatbenchError(f"{where}: an id is not UTF-8 text ({reason(err)})") from None
    seen: set[str] = set()
    for uid in ids:
        if uid in seen:
            raise FeatbenchError(f"{where} names clip {shown(uid)} twice")
        seen.add(uid)
    return ids


def _matrix(path: Path, form: str, ids: list[str], shape: tuple, row: Callable[[int], np.ndarray], close) -> EmbeddingSource:
    """A source of one row of an 'embeddings' matrix of `shape` per id (`row(k)` reads row k)."""
    if len(shape) not in (2, 3) or shape[0] != len(ids):
        close()
        raise FeatbenchError(f"{path}: 'embeddings' of shape {tuple(shape)} does not give one row to each of its "
                             f"{len(ids)} ids (N x dim, or N x layers x dim)")
    rows = {uid: k for k, uid in enumerate(ids)}
    return EmbeddingSource(path, form, sorted(ids), lambda uid: row(rows[uid]), utterance_only=True, close=close)


def _npz(path: Path, budget: MemoryBudget) -> EmbeddingSource:
    archive = NpzArchive(path, budget)
    try:
        if set(archive.names) != MATRIX_KEYS:
            return EmbeddingSource(path, ".npz file (one array per clip)", archive.names, archive.read,
                                   close=archive.close)
        where = archive.where("ids")
        shape, dtype = archive.header("ids")
        if dtype.kind not in "SUiu":
            raise FeatbenchError(f"{where}: ids of type {describe(dtype)} are neither text nor integers")
        budget.require(where, math.prod(shape) * (dtype.itemsize + ID_BYTES), f"shape {shape} of ids")
        ids = _ids(where, archive.read("ids", checked=False))
        matrix = archive.read("embeddings")  # the whole matrix: a zip member is read from its start
    except BaseException:
        archive.close()
        raise
    return _matrix(path, ".npz file (ids + embeddings)", ids, matrix.shape, matrix.__getitem__, archive.close)


def _hdf5(path: Path, budget: MemoryBudget) -> EmbeddingSource:
    handle, datasets = open_hdf5(path, budget)
    try:
        if set(handle.keys()) == MATRIX_KEYS:
            groups = sorted(MATRIX_KEYS - set(datasets))
            if groups:
                raise FeatbenchError(f"{path}: '{groups[0]}' is a group, not a dataset")
            matrix, shape = handle["embeddings"], handle["embeddings"].shape
            check_dataset(f"{path}: a row of 'embeddings' (of shape {shape})", matrix, budget, shape[1:] if shape else None)
            ids = _ids(f"{path}: 'ids'", read_ids(f"{path}: 'ids'", handle["ids"], budget))
            return _matrix(path, "HDF5 file (ids + embeddings)", ids, matrix.shape or (), matrix.__getitem__, handle.close)
        for name, dataset in datasets.items():
            check_dataset(f"{path}: {name!r}", dataset, budget)
    except BaseException:
        handle.close()
        raise
    return EmbeddingSource(path, "HDF5 file (one dataset per clip)", sorted(datasets), lambda uid: datasets[uid][()],
                           close=handle.close)
