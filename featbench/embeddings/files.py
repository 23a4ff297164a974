"""Precomputed embeddings on disk: which clips a source holds and each clip's array, read one at a time.

A source (``featbench import --from PATH``) is one of:

- a folder of ``<id>.npy`` (or ``<id>.npz`` holding one array) per clip, searched recursively: a clip's id is
  its path below the folder without the suffix (``Actor_01/03-01-05-01-01-01-01``), as `featbench predict`
  names the clips of a folder;
- one ``.npz`` file, or one HDF5 file (``.h5``, ``.hdf5``), with one array per clip named by its id (HDF5:
  the dataset's path, groups included);
- one ``.npz`` or HDF5 file with two arrays ``ids`` (N strings) and ``embeddings`` (N x dim, or N x layers x dim):
  one utterance row per clip.

>>> import tempfile
>>> d = Path(tempfile.mkdtemp())
>>> np.savez(d / "e.npz", ids=np.array(["a", "b"]), embeddings=np.ones((2, 3)))
>>> source = open_source(d / "e.npz")
>>> source.ids, source.utterance_only, [a.shape for _, a in source.arrays(["b"])]
(['a', 'b'], True, [(3,)])
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from featbench.errors import FeatbenchError, one_line

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
                raise FeatbenchError(f"{self.path}: cannot read the embedding of '{uid}' ({one_line(err)})") from None
            yield uid, array


def open_source(path: str | Path) -> EmbeddingSource:
    """The EmbeddingSource at `path` (a folder, an .npz or an HDF5 file); a one-line FeatbenchError when it is
    none of them or holds no clip."""
    path = Path(path).expanduser()
    if path.is_dir():
        source = _folder(path)
    elif not path.is_file():
        raise FeatbenchError(f"--from {path}: no such file or folder")
    elif path.suffix.lower() == ".npz":
        source = _npz(path)
    elif path.suffix.lower() in HDF5_SUFFIXES:
        source = _hdf5(path)
    else:
        raise FeatbenchError(f"--from {path}: not a folder of .npy/.npz files, an .npz file or an HDF5 file (.h5, .hdf5)")
    if not source.ids:
        source.close()
        raise FeatbenchError(f"--from {path}: holds no embeddings")
    return source


def _folder(root: Path) -> EmbeddingSource:
    files: dict[str, Path] = {}
    for file in sorted(p for p in root.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()):
        uid = file.relative_to(root).with_suffix("").as_posix()
        if uid in files:
            raise FeatbenchError(f"--from {root}: clip '{uid}' has two files ({files[uid].name} and {file.name})")
        files[uid] = file
    return EmbeddingSource(root, "folder of .npy/.npz files", sorted(files), lambda uid: _one_array(files[uid]))


def _one_array(file: Path) -> np.ndarray:
    """The array of a per-clip .npy file, or the only array of a per-clip .npz file."""
    if file.suffix.lower() == ".npy":
        return np.load(file, allow_pickle=False)
    with np.load(file, allow_pickle=False) as archive:
        if len(archive.files) != 1:
            raise FeatbenchError(f"{file}: a clip's .npz file must hold one array, not {len(archive.files)} "
                                 f"({', '.join(archive.files[:5])})")
        return archive[archive.files[0]]


def _ids(path: Path, values) -> list[str]:
    ids = [v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(values).ravel()]
    if len(set(ids)) != len(ids):
        raise FeatbenchError(f"{path}: 'ids' names a clip twice")
    return ids


def _matrix(path: Path, form: str, ids: list[str], matrix, close) -> EmbeddingSource:
    """A source of one row of `matrix` per id (the ``ids`` + ``embeddings`` form)."""
    if len(matrix.shape) not in (2, 3) or matrix.shape[0] != len(ids):
        close()
        raise FeatbenchError(f"{path}: 'embeddings' of shape {tuple(matrix.shape)} does not give one row to each of its "
                             f"{len(ids)} ids (N x dim, or N x layers x dim)")
    row = {uid: k for k, uid in enumerate(ids)}
    return EmbeddingSource(path, form, sorted(ids), lambda uid: matrix[row[uid]], utterance_only=True, close=close)


def _npz(path: Path) -> EmbeddingSource:
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise FeatbenchError(f"--from {path}: not a readable .npz file ({one_line(err)})") from None
    if set(archive.files) == MATRIX_KEYS:
        matrix = archive["embeddings"]
        return _matrix(path, ".npz file (ids + embeddings)", _ids(path, archive["ids"]), matrix, archive.close)
    return EmbeddingSource(path, ".npz file (one array per clip)", sorted(archive.files), lambda uid: archive[uid],
                           close=archive.close)


def _hdf5(path: Path) -> EmbeddingSource:
    import h5py

    try:
        handle = h5py.File(path, "r")
    except OSError as err:
        raise FeatbenchError(f"--from {path}: not a readable HDF5 file ({one_line(err)})") from None
    if set(handle.keys()) == MATRIX_KEYS:
        return _matrix(path, "HDF5 file (ids + embeddings)", _ids(path, handle["ids"][()]), handle["embeddings"],
                       handle.close)
    names: list[str] = []
    handle.visititems(lambda name, item: names.append(name) if isinstance(item, h5py.Dataset) else None)
    return EmbeddingSource(path, "HDF5 file (one dataset per clip)", sorted(names), lambda uid: handle[uid][()],
                           close=handle.close)
