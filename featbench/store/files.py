"""One store file on disk: write it atomically, read its index, check each part's checksum.

Layout of ``<store>/<family>.h5`` (see docs/store.md): ``features`` float32, or float16 where the family's
``dtype`` option says so (attribute ``dtype``), (total_rows, dim), every utterance's rows back to back;
``ids``, ``audio_hash`` (str), ``offsets``, ``lengths`` (int64) and ``checksums`` (uint32, CRC-32 of each
utterance's rows as float32, also in a float16 file: float16 -> float32 is exact) per utterance;
``columns``; attributes from FamilyMeta.

Files whose rows are tokens (row kind ``tokens``, the text families) also hold ``tokens`` (str
(total_rows,), the token string of each feature row, parallel to ``features``), ``text`` (str (n,), the
transcript each utterance's rows were encoded from) and ``text_source`` (str (n,), where it came from:
``corpus`` or ``asr:<model>``). Files without them (every other row kind, and files written before they
existed) read as before.

Format 3: every string is of fixed length (no HDF5 global heap, see `meta.fixed_strings`), and every
dataset but ``features`` carries attribute ``crc32``, the CRC-32 of its stored bytes; attribute
``meta_crc32`` covers the other attributes. They are checked on every read: ids, offsets, lengths, audio
hashes or clip checksums damaged on disk stop the read with one line naming the file and the part
(CorruptStoreError), and so do duplicate ids in any file. Files of format 1 and 2 carry no such checksums
(``index_checked`` is False: `verify` says so) and keep their strings in a global heap, which is read in
a child process with a time limit (`bounded`): damaged, it can make libhdf5 spin forever.

>>> import numpy as np
>>> checksum(np.zeros((2, 3), np.float32)) == checksum(np.zeros((2, 3), np.float64))
True
"""
from __future__ import annotations

import os
import stat
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterable

import numpy as np

from featbench.errors import CorruptStoreError, FeatbenchError, one_line
from featbench.row_kinds import RowKind
from featbench.store.bounded import read_bounded
from featbench.store.attrs import Attrs
from featbench.store.meta import FORMAT_VERSION, FamilyMeta, fixed_strings, text

TOKENS, TEXT, TEXT_SOURCE = "tokens", "text", "text_source"
PENDING = ".pending"  # <store>/.pending/<family>/*.h5: shards of unfinished runs
CRC, META_CRC = "crc32", "meta_crc32"
# every dataset but `features`: what a message calls it
PARTS = {"ids": "ids", "audio_hash": "audio hashes", "offsets": "offsets", "lengths": "lengths",
         "checksums": "clip checksums", "columns": "column names", TOKENS: "tokens", TEXT: "transcripts",
         TEXT_SOURCE: "transcript sources"}
_CACHE: dict[tuple, dict | FeatbenchError] = {}  # what a child process read from a file of format 1-2 (or
# the error it met), by file identity: read once per process
_CACHE_SIZE = 16


@dataclass(frozen=True)
class TextRecord:
    """What a file of token rows keeps besides one utterance's rows: the token string of each row, the
    transcript encoded and its source ('corpus' or 'asr:<model>')."""

    tokens: tuple[str, ...]
    text: str = ""
    source: str = ""


def checksum(array: np.ndarray) -> int:
    """CRC-32 of an utterance's rows as float32 (C order): of the stored values, whatever the stored dtype."""
    return zlib.crc32(np.ascontiguousarray(array, dtype=np.float32).tobytes())


def _stored_crc(values) -> int:
    """CRC-32 of values as stored: their type (so that bytes read as another type differ) and bytes
    (fixed-length strings with their padding)."""
    values = np.ascontiguousarray(values)
    return zlib.crc32(values.tobytes(), zlib.crc32(values.dtype.str.encode()))


def _meta_crc(h5) -> int:
    """CRC-32 of every root attribute but META_CRC: names, types and values as stored."""
    crc = 0
    for name in sorted(h5.attrs):
        if name != META_CRC:
            crc = zlib.crc32(name.encode() + b"\0", crc)
            crc = zlib.crc32(_stored_crc(h5.attrs[name]).to_bytes(4, "little"), crc)
    return crc


def _uses_heap(h5) -> bool:
    """Whether any dataset or attribute of the open file is of variable length (kept in a global heap);
    answered from the types alone: no heap is read."""
    return any(h5[name].dtype.kind == "O" for name in h5) or \
        any(h5.attrs.get_id(name).dtype.kind == "O" for name in h5.attrs)


def _identity(fd: int) -> tuple:
    info = os.fstat(fd)
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def _format(h5, path: Path) -> int:
    """The file's format version, refused in one line unless it is one this featbench reads (1 to FORMAT_VERSION);
    a newer one before its checksums are read (a newer featbench may check other things)."""
    value = h5.attrs.get("format_version")
    whole = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if whole and value > FORMAT_VERSION:
        raise FeatbenchError(f"{path}: store format {int(value)}, written by a newer featbench; this one reads "
                             f"formats 1 to {FORMAT_VERSION}")
    return int(value) if whole and value >= 1 else 0


def _held(dataset, path: Path, what: str):
    """`dataset`, unless it declares more bytes than the file could hold (checked before anything is allocated):
    featbench writes contiguous, uncompressed datasets; a chunked one may be compressed, within reason."""
    size = os.path.getsize(path)
    if dataset.nbytes > (size if dataset.chunks is None else 100 * size + (64 << 20)):
        raise _damaged(path, f"its {what} declare {dataset.shape} {dataset.dtype} values ({dataset.nbytes:,} bytes), "
                             f"more than its {size:,} bytes can hold")
    return dataset


def _read_parts(h5, path: Path, tokens: bool) -> dict:
    """Everything of an open file but its features, every checksum checked (FamilyIndex fields)."""
    version = _format(h5, path)
    checked = META_CRC in h5.attrs or CRC in h5["ids"].attrs or version >= 3
    if checked and (META_CRC not in h5.attrs or int(h5.attrs[META_CRC]) != _meta_crc(h5)):
        raise _damaged(path, "its metadata fail their checksum")
    if not version:
        raise Attrs(h5.attrs, path).fail("format_version", h5.attrs.get("format_version"),
                                         f"a store format from 1 to {FORMAT_VERSION}")

    def values(name: str, kinds: str = "iu") -> np.ndarray:
        data = _held(h5[name], path, PARTS[name])[()]
        if checked and (CRC not in h5[name].attrs or int(h5[name].attrs[CRC]) != _stored_crc(data)):
            raise _damaged(path, f"its {PARTS[name]} fail their checksum")
        if data.ndim != 1 or data.dtype.kind not in kinds:
            raise _damaged(path, f"its {PARTS[name]} are {data.dtype} of shape {data.shape}, not a list of "
                                 f"{'text' if kinds == 'SOU' else 'whole numbers'}")
        return data

    def strings(name: str) -> list[str]:
        return [text(v) for v in values(name, "SOU")]

    meta = FamilyMeta.read_attrs(h5, strings("columns"), path)
    features = _held(h5["features"], path, "features")
    if features.ndim != 2 or features.shape[1] != meta.dim or features.dtype != np.dtype(meta.dtype):
        raise _damaged(path, f"its features are {features.dtype} of shape {features.shape}, its metadata say "
                             f"{meta.dtype} (rows, {meta.dim})")
    parts = dict(meta=meta, ids=strings("ids"), offsets=values("offsets"), lengths=values("lengths"),
                 hashes=strings("audio_hash"), checksums=values("checksums") if "checksums" in h5 else None,
                 n_rows=int(features.shape[0]), index_checked=checked)
    if TEXT in h5:
        parts.update(texts=strings(TEXT), text_sources=strings(TEXT_SOURCE))
        if tokens:
            parts["tokens"] = np.array(strings(TOKENS), dtype=object)
    return parts


def _read_parts_at(path: Path, tokens: bool) -> tuple[tuple, dict]:
    """(file identity, `_read_parts`) of the file at `path`: what the child process of `bounded` runs."""
    import h5py

    with h5py.File(path, "r") as h5:
        return _identity(h5.id.get_vfd_handle()), _read_parts(h5, path, tokens)


def _read_parts_bounded(h5, path: Path, tokens: bool) -> dict:
    """`_read_parts` of a file with a global heap, in a child process (`bounded`), once per file identity."""
    identity = _identity(h5.id.get_vfd_handle())
    key = (str(path), identity, tokens)
    if key not in _CACHE:
        try:
            theirs, parts = read_bounded(path, _read_parts_at, path, tokens)
        except FeatbenchError as err:  # damaged: not read again (nor waited for again) in this process
            parts = err
        else:
            if theirs != identity:  # replaced since this process opened it (a consolidation): read it again
                raise FileNotFoundError(f"{path} was replaced while being read")
        while len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = parts
    if isinstance(_CACHE[key], FeatbenchError):
        raise _CACHE[key]
    return _CACHE[key]


def _damaged(path: Path, what: str) -> CorruptStoreError:
    return CorruptStoreError(f"{path}: damaged store file: {what}")


def _shelved(path: Path, err: CorruptStoreError) -> CorruptStoreError:
    """`err` with the store and family the file at `path` belongs to (for the hint to repair it)."""
    shard = path.parent.parent.name == PENDING
    return CorruptStoreError(str(err), store=path.parents[2] if shard else path.parent,
                             family=path.parent.name if shard else path.stem, ids=err.ids)


def _regular(path: Path) -> None:
    """A one-line FeatbenchError (not damage: `repair` leaves it) unless `path` is a regular file this process can
    read (a symbolic link to one is); FileNotFoundError when nothing is there at all. A FIFO is never opened."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise FeatbenchError(f"{path}: a symbolic link to a missing file ({os.readlink(path)})") from None
        raise
    except OSError as err:
        raise FeatbenchError(f"{path}: cannot be read ({err.strerror or one_line(err)})") from None
    if not stat.S_ISREG(info.st_mode):
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(info.st_mode) else \
            "a socket" if stat.S_ISSOCK(info.st_mode) else "a device" if stat.S_ISCHR(info.st_mode) or \
            stat.S_ISBLK(info.st_mode) else "not a regular file"
        raise FeatbenchError(f"{path}: {what}, not a store file")
    try:
        with open(path, "rb") as handle:
            handle.read(8)
    except OSError as err:
        raise FeatbenchError(f"{path}: cannot be read ({err.strerror or one_line(err)})") from None


def _unopened(path: Path, err: OSError) -> FeatbenchError:
    """Why h5py could not open a readable regular file: damage (its own error, without errno: not HDF5, truncated)
    or the system's (with errno: a lock, an I/O error), which is not proof of damage."""
    if getattr(err, "errno", None) is None:
        return _shelved(path, _damaged(path, f"not an HDF5 file, or truncated ({one_line(err)})"))
    return FeatbenchError(f"{path}: cannot be read ({one_line(err)})")


@dataclass
class FamilyIndex:
    """The index of one store file: ids, offsets, lengths, audio hashes and checksums (None in format-1 files).
    `index_checked`: whether the file carries the checksums of its index (format 3 on)."""

    path: Path
    meta: FamilyMeta
    ids: list[str]
    offsets: np.ndarray
    lengths: np.ndarray
    hashes: list[str]
    checksums: np.ndarray | None
    n_rows: int
    texts: list[str] | None = None  # per utterance, files of token rows only
    text_sources: list[str] | None = None
    tokens: np.ndarray | None = None  # per row (str objects); read with the features (or from a format-2 file)
    index_checked: bool = True

    @classmethod
    def read(cls, path: Path, with_features: bool = False):
        """The index of the file at `path`, every checksum checked; with `with_features`, (index, features)
        from the same open file, so that a file replaced meanwhile (a consolidation) is never read half old,
        half new. Damage is a CorruptStoreError naming the file and the part."""
        import h5py

        try:
            _regular(path)
            try:
                h5 = h5py.File(path, "r")
            except FileNotFoundError:
                raise
            except OSError as err:
                raise _unopened(path, err) from None
            with h5:
                if _uses_heap(h5):  # format 1-2: all of the index in a child process, tokens included
                    index = cls(path, **_read_parts_bounded(h5, path, tokens=TEXT in h5))
                else:
                    index = cls(path, **_read_parts(h5, path, tokens=with_features))
                index._check_shape()
                features = h5["features"][:] if with_features else None
                if with_features and index.tokens is not None and len(index.tokens) != index.n_rows:
                    raise _damaged(path, f"{len(index.tokens)} tokens for {index.n_rows} feature rows")
        except FileNotFoundError:
            raise
        except CorruptStoreError as err:  # with the store and family it belongs to, for the hint to repair it
            raise _shelved(path, err) from None
        except FeatbenchError:
            raise
        except OSError as err:
            if getattr(err, "errno", None) is None:  # h5py's own: the file's structure is damaged
                raise _shelved(path, _damaged(path, f"HDF5 cannot read it ({one_line(err)})")) from None
            raise FeatbenchError(f"{path}: cannot be read ({one_line(err)})") from None  # the system's: not damage
        except Exception as err:  # h5py raises KeyError, ValueError, UnicodeDecodeError on damaged files
            raise _shelved(path, _damaged(path, f"HDF5 cannot read it ({one_line(err)})")) from None
        return (index, features) if with_features else index

    def _check_shape(self) -> None:
        n = len(self.ids)
        sizes = {len(self.offsets), len(self.lengths), len(self.hashes)} | ({len(self.checksums)} if self.checksums is not None else set())
        sizes |= {len(v) for v in (self.texts, self.text_sources) if v is not None}
        ends = self.offsets + self.lengths
        if sizes != {n} or (n and ((self.offsets < 0).any() or (self.lengths < 0).any() or ends.max() > self.n_rows)):
            raise _damaged(self.path, f"its index does not fit its {self.n_rows} feature rows")
        if len(set(self.ids)) != n:
            twice = sorted(uid for uid, count in Counter(self.ids).items() if count > 1)
            raise _damaged(self.path, f"duplicate ids ({', '.join(twice[:5])}{' ...' if len(twice) > 5 else ''})")

    def text_record(self, row: int, tokens: np.ndarray | None = None) -> TextRecord | None:
        """The TextRecord of the utterance in index row `row` (`tokens`: its token strings, read separately),
        or None for files without text."""
        if self.texts is None:
            return None
        return TextRecord(tuple(tokens) if tokens is not None else (), self.texts[row], self.text_sources[row])

    def damaged(self, features: np.ndarray) -> list[str]:
        """Ids whose rows in `features` (this file's whole matrix) do not match their checksum."""
        if self.checksums is None:
            return []
        return [uid for uid, start, length, crc in zip(self.ids, self.offsets, self.lengths, self.checksums)
                if checksum(features[start:start + length]) != int(crc)]


def write_file(path: Path, meta: FamilyMeta, records: list[tuple[str, str, int, int]],
               fetch: Iterable[tuple[np.ndarray, TextRecord | None]]) -> None:
    """Write a store file atomically: `records` gives (id, audio hash, length, checksum), `fetch` yields
    (array, TextRecord or None) in the same order; an array that does not match its checksum is refused.
    Files of token rows get the ``tokens``, ``text`` and ``text_source`` datasets (empty strings where a
    record has no TextRecord)."""
    import h5py

    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    lengths = np.array([r[2] for r in records], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(records) else lengths
    try:
        with h5py.File(tmp, "w") as h5:
            meta.write_attrs(h5)
            data = h5.create_dataset("features", shape=(int(lengths.sum()), meta.dim), dtype=meta.dtype)
            h5.create_dataset("ids", data=_strings(path, [r[0] for r in records]))
            h5.create_dataset("audio_hash", data=_strings(path, [r[1] for r in records]))
            h5.create_dataset("offsets", data=offsets)
            h5.create_dataset("lengths", data=lengths)
            h5.create_dataset("checksums", data=np.array([r[3] for r in records], dtype=np.uint32))
            with_text = meta.rows == RowKind.TOKENS.value
            tokens, texts, text_sources = [], [], []
            for (uid, _, length, crc), start, (array, record) in zip(records, offsets, fetch):
                if len(array) != length or (length and array.shape[1] != meta.dim):
                    raise FeatbenchError(f"{path}: array of shape {array.shape} does not fit ({length}, {meta.dim})")
                array = np.asarray(array, dtype=meta.dtype)  # the checksum is checked on the values stored
                if checksum(array) != crc:
                    raise CorruptStoreError(f"{path}: the stored rows of '{uid}' fail their checksum; the file they "
                                            "come from was damaged on disk", family=meta.family, ids=[uid])
                data[start:start + length] = array
                if with_text:
                    record = record or TextRecord(("",) * length)
                    if len(record.tokens) != length:
                        raise FeatbenchError(f"{path}: '{uid}' has {length} rows but {len(record.tokens)} tokens")
                    tokens += record.tokens
                    texts.append(record.text)
                    text_sources.append(record.source)
            if with_text:
                for name, values in ((TOKENS, tokens), (TEXT, texts), (TEXT_SOURCE, text_sources)):
                    h5.create_dataset(name, data=_strings(path, values))
            for name in PARTS:
                if name in h5:
                    h5[name].attrs[CRC] = np.uint32(_stored_crc(h5[name][()]))
            h5.attrs[META_CRC] = np.uint32(_meta_crc(h5))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _strings(path: Path, values: list[str]) -> np.ndarray:
    try:
        return fixed_strings(values)
    except ValueError as err:  # a NUL character
        raise FeatbenchError(f"{path}: cannot store {err}") from None
