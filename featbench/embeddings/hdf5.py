"""HDF5 import sources, read from the file given and nothing else, within a memory budget.

An import reads only the file named on its command line. HDF5 can point elsewhere: an external link
(another file, any path on this machine), a virtual dataset (values mapped from other files), a dataset whose
values are kept in external raw files; reading any of them would read a file the user never named (another
user's, /dev/zero, one that changes between runs). They are refused in one line, and so are soft links
(a second name, or a dangling one, for something in the file: say which one you mean).

Before any value is read, every dataset's shape and type is checked against the `MemoryBudget`, and so is
the worst case of its compressed chunks: libhdf5 inflates a deflate chunk for as long as its stream goes on,
whatever the chunk's declared size, so a chunk of stored size S may become up to 1032 S bytes (deflate's
largest ratio; lzf's is smaller). Filters other than libhdf5's and h5py's own are refused (their worst
case is unknown). Variable-length ids are read in a child process with a time limit (`featbench.store.bounded`):
libhdf5 can walk a damaged global heap forever, where Ctrl-C cannot stop it.

>>> import tempfile, h5py
>>> d = Path(tempfile.mkdtemp())
>>> with h5py.File(d / "e.h5", "w") as h5:
...     h5["a"], h5["g/b"] = np.ones((2, 3)), np.zeros(4, np.int8)
>>> handle, datasets = open_hdf5(d / "e.h5", MemoryBudget.of("1"))
>>> sorted(datasets), datasets["g/b"].shape
(['a', 'g/b'], (4,))
>>> handle.close()
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from featbench.embeddings.budget import ID_BYTES, MemoryBudget, describe, size
from featbench.embeddings.messages import reason
from featbench.errors import FeatbenchError

FILTERS = {1: "deflate", 2: "shuffle", 3: "fletcher32", 4: "szip", 5: "nbit", 6: "scaleoffset", 32000: "lzf"}
COMPRESSING = {1, 4, 32000}  # filters whose output can be larger than their input chunk
WORST_RATIO = 1032  # deflate's largest inflation ratio: the most a compressed chunk can become, per stored byte
OUTSIDE = "an import reads only the file it is given"


def open_hdf5(path: Path, budget: MemoryBudget):
    """(the open h5py.File, {dataset path: Dataset}) of an HDF5 file whose links all stay inside it; a one-line
    FeatbenchError for a file h5py cannot open or one that links elsewhere."""
    import h5py

    try:
        handle = h5py.File(path, "r")
    except Exception as err:  # OSError for most damage; h5py raises others on odd superblocks
        raise FeatbenchError(f"{path}: not a readable HDF5 file ({reason(err)})") from None
    try:
        return handle, _datasets(path, handle)
    except BaseException:
        handle.close()
        raise


def _datasets(path: Path, handle) -> dict:
    import h5py

    links: list[tuple[bytes, int]] = []
    try:
        handle.id.links.visit(lambda name, info: links.append((name, info.type)), info=True)
    except Exception as err:
        raise FeatbenchError(f"{path}: cannot list its contents ({reason(err)})") from None
    found = {}
    for raw, kind in links:
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FeatbenchError(f"{path}: holds a name that is not UTF-8 text ({raw!r})") from None
        if kind == h5py.h5l.TYPE_EXTERNAL:
            target = handle.get(name, getlink=True)
            raise FeatbenchError(f"{path}: {name!r} is an external link to {target.filename!r} ({target.path!r}); "
                                 f"{OUTSIDE}")
        if kind != h5py.h5l.TYPE_HARD:
            what = "a soft" if kind == h5py.h5l.TYPE_SOFT else "a user-defined"
            raise FeatbenchError(f"{path}: {name!r} is {what} link; an import reads datasets by their own names only "
                                 "(store each array under its clip's id)")
        try:
            item = handle[name]
        except Exception as err:
            raise FeatbenchError(f"{path}: cannot open {name!r} ({reason(err)})") from None
        if isinstance(item, h5py.Dataset):
            found[name] = item
    return found


def check_dataset(where: str, dataset, budget: MemoryBudget, shape: tuple | None = None) -> None:
    """Refuse in one line a dataset an import must not read: values outside the file, no values, not numbers, or a
    read of `shape` (default: the whole dataset) costing more than `budget`, its chunks' worst case included."""
    _contained(where, dataset)
    budget.check(where, dataset.shape if shape is None else shape, dataset.dtype, extra=_chunk_cost(where, dataset, budget))


def _contained(where: str, dataset) -> None:
    """Refuse a dataset whose values are outside the file, or that has none."""
    if dataset.is_virtual:
        raise FeatbenchError(f"{where} is a virtual dataset (its values are mapped from other files); {OUTSIDE}")
    if dataset.external:
        raise FeatbenchError(f"{where} keeps its values in external files ({dataset.external[0][0]!r}); {OUTSIDE}")
    if dataset.shape is None:
        raise FeatbenchError(f"{where} holds no values (an empty dataspace)")


def _chunk_cost(where: str, dataset, budget: MemoryBudget) -> int:
    """The most memory one chunk of `dataset` can take while libhdf5 reads it (0 when not chunked)."""
    if dataset.chunks is None:
        return 0
    chunk = math.prod(dataset.chunks) * dataset.dtype.itemsize
    budget.require(where, chunk, f"chunks of shape {dataset.chunks}, each read whole")
    plist = dataset.id.get_create_plist()
    filters = [plist.get_filter(k)[0] for k in range(plist.get_nfilters())]
    unknown = [f for f in filters if f not in FILTERS]
    if unknown:
        raise FeatbenchError(f"{where} is compressed with HDF5 filter {unknown[0]}, which an import does not read (how "
                             "large its chunks can grow is unknown); rewrite it with gzip or without compression")
    if not any(f in COMPRESSING for f in filters):
        return chunk
    stored = dataset.id.get_storage_size()
    if chunk + stored * WORST_RATIO <= budget.bytes:
        return chunk  # even the whole dataset's bytes inflated at the worst ratio fit
    largest = _largest_stored_chunk(dataset)
    worst = max(chunk, largest * WORST_RATIO)
    if worst > budget.bytes:
        raise FeatbenchError(f"{where} has a compressed chunk of {size(largest)} that may inflate to {size(worst)}, more "
                             f"than the import's memory budget ({budget.describe()}); store it without compression or "
                             "with smaller chunks, or raise the budget")
    return worst


def _largest_stored_chunk(dataset) -> int:
    sizes = []
    if hasattr(dataset.id, "chunk_iter"):  # HDF5 1.14 and later: one pass
        dataset.id.chunk_iter(lambda info: sizes.append(info.size))
    else:
        sizes = [dataset.id.get_chunk_info(k).size for k in range(dataset.id.get_num_chunks())]
    return max(sizes, default=0)


def read_ids(where: str, dataset, budget: MemoryBudget) -> np.ndarray:
    """The values of an HDF5 'ids' dataset (text or integers, one axis), within the budget."""
    import h5py

    _contained(where, dataset)
    if len(dataset.shape) != 1:
        raise FeatbenchError(f"{where} must be one axis of ids, not shape {dataset.shape}")
    if not (h5py.check_string_dtype(dataset.dtype) is not None or dataset.dtype.kind in "iu"):
        raise FeatbenchError(f"{where}: ids of type {describe(dataset.dtype)} are neither text nor integers")
    extra = _chunk_cost(where, dataset, budget)
    budget.require(where, dataset.shape[0] * (dataset.dtype.itemsize + ID_BYTES) + extra, f"{dataset.shape[0]} ids")
    text = h5py.check_string_dtype(dataset.dtype)
    if text is None or text.length is not None:
        return dataset[()]
    from featbench.errors import CorruptStoreError
    from featbench.store.bounded import TIMEOUT_VARIABLE, read_bounded, timeout_s

    try:  # variable-length strings live in the file's global heap, which libhdf5 may walk forever when damaged
        return np.array(read_bounded(dataset.file.filename, _variable_length, dataset.file.filename, dataset.name),
                        dtype=object)
    except CorruptStoreError:
        raise FeatbenchError(f"{where}: reading them did not finish within {timeout_s():g} s, or crashed (a damaged "
                             f"HDF5 heap? {TIMEOUT_VARIABLE} sets the time limit)") from None


def _variable_length(path: str, name: str) -> list:
    """The values of variable-length string dataset `name` in HDF5 file `path` (run in a child process)."""
    import h5py

    with h5py.File(path, "r") as handle:
        return list(handle[name][()])
