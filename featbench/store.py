"""The HDF5 feature store: one file per feature family in a store folder, crash-safe and resumable.

Layout of ``<store>/<family>.h5`` (read it with plain h5py, see README):

- ``features``  float32 (total_frames, dim): every utterance's frames, back to back, in corpus order
- ``ids``       str (n,)   utterance ids;  ``offsets``, ``lengths`` int64 (n,): rows of each utterance
- ``audio_hash`` str (n,)  content hash of the audio file the rows came from
- ``columns``   str (dim,) feature names
- attributes: family, description, config (JSON), config_hash, audio (JSON), versions (JSON),
  sample_rate, frame_rate (0 = one row per utterance), dim, format_version

New results go to small shard files in ``<store>/.pending/<family>/`` (written to a temporary name and
renamed, so a killed run never leaves half a shard); ``consolidate`` merges them into the main file the
same way. A run killed at any moment therefore leaves a readable store, and ``read_family`` sees the
shards too. One writer at a time: a second ``StoreWriter`` on the same folder raises StoreLockedError.

>>> import tempfile, numpy as np
>>> d = tempfile.mkdtemp()
>>> meta = FamilyMeta("toy", "", {}, "abc", {}, {}, 16000, 100.0, ["a", "b"])
>>> with StoreWriter(d) as w:
...     _ = w.prepare(meta)
...     w.add("toy", "u2", "h2", np.ones((3, 2), np.float32)); w.add("toy", "u1", "h1", np.zeros((1, 2), np.float32))
...     n = w.consolidate("toy", ["u1", "u2"])
>>> fs = read_family(d, "toy")
>>> list(fs.ids), fs.features.shape, float(fs.sequence(1).sum())
(['u1', 'u2'], (4, 2), 6.0)
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from featbench.errors import FeatbenchError, StoreLockedError

FORMAT_VERSION = 1
_STR = None  # h5py string dtype, created lazily


def _str_dtype():
    import h5py

    global _STR
    if _STR is None:
        _STR = h5py.string_dtype("utf-8")
    return _STR


@dataclass
class FamilyMeta:
    """Everything a store file records about how its features were made."""

    family: str
    description: str
    config: dict
    config_hash: str
    audio: dict
    versions: dict
    sample_rate: int
    frame_rate: float
    columns: list[str]

    @property
    def dim(self) -> int:
        return len(self.columns)

    @classmethod
    def of(cls, family) -> "FamilyMeta":
        """Metadata of a FeatureFamily instance (featbench, numpy and h5py versions added)."""
        import h5py

        from featbench import __version__

        versions = {"featbench": __version__, "numpy": np.__version__, "h5py": h5py.__version__,
                    **family.library_versions()}
        return cls(family.name, family.description, family.config_dict(), family.config_hash(),
                   family.audio.to_dict(), versions, family.audio.sample_rate, float(family.frame_rate),
                   list(family.columns))

    def write_attrs(self, h5) -> None:
        h5.attrs.update(dict(
            format_version=FORMAT_VERSION, family=self.family, description=self.description,
            config=json.dumps(self.config, sort_keys=True), config_hash=self.config_hash,
            audio=json.dumps(self.audio, sort_keys=True), versions=json.dumps(self.versions, sort_keys=True),
            sample_rate=self.sample_rate, frame_rate=self.frame_rate, dim=self.dim,
        ))
        h5.create_dataset("columns", data=np.array(self.columns, dtype=object), dtype=_str_dtype())

    @classmethod
    def read_attrs(cls, h5) -> "FamilyMeta":
        a = h5.attrs
        return cls(str(a["family"]), str(a["description"]), json.loads(a["config"]), str(a["config_hash"]),
                   json.loads(a["audio"]), json.loads(a["versions"]), int(a["sample_rate"]),
                   float(a["frame_rate"]), [c.decode() if isinstance(c, bytes) else c for c in h5["columns"][:]])


@dataclass
class FamilyIndex:
    """The index of one store file: ids, offsets, lengths and audio hashes."""

    path: Path
    meta: FamilyMeta
    ids: list[str]
    offsets: np.ndarray
    lengths: np.ndarray
    hashes: list[str]

    @classmethod
    def read(cls, path: Path) -> "FamilyIndex":
        import h5py

        try:
            with h5py.File(path, "r") as h5:
                return cls(path, FamilyMeta.read_attrs(h5), list(h5["ids"].asstr()[:]), h5["offsets"][:],
                           h5["lengths"][:], list(h5["audio_hash"].asstr()[:]))
        except (OSError, KeyError) as err:
            raise FeatbenchError(f"{path}: not a readable featbench store file ({err})") from err


def _write_file(path: Path, meta: FamilyMeta, records: list[tuple[str, str, int]],
                fetch: Iterable[np.ndarray]) -> None:
    """Write a store file atomically: `records` gives (id, hash, length), `fetch` yields the arrays in order."""
    import h5py

    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    lengths = np.array([r[2] for r in records], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(records) else lengths
    with h5py.File(tmp, "w") as h5:
        meta.write_attrs(h5)
        data = h5.create_dataset("features", shape=(int(lengths.sum()), meta.dim), dtype=np.float32)
        h5.create_dataset("ids", data=np.array([r[0] for r in records], dtype=object), dtype=_str_dtype())
        h5.create_dataset("audio_hash", data=np.array([r[1] for r in records], dtype=object), dtype=_str_dtype())
        h5.create_dataset("offsets", data=offsets)
        h5.create_dataset("lengths", data=lengths)
        for start, length, array in zip(offsets, lengths, fetch):
            if len(array) != length or (length and array.shape[1] != meta.dim):
                raise FeatbenchError(f"{path}: array of shape {array.shape} does not fit ({length}, {meta.dim})")
            data[start:start + length] = array
    os.replace(tmp, path)


@dataclass
class FeatureSet:
    """A whole family read back in one contiguous read: features (total_frames, dim) plus the index."""

    meta: FamilyMeta
    ids: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray
    hashes: np.ndarray
    features: np.ndarray
    position: dict = field(default_factory=dict)

    def __post_init__(self):
        self.position = {uid: i for i, uid in enumerate(self.ids)}

    def sequence(self, i: int) -> np.ndarray:
        """Frames of the i-th utterance, shape (lengths[i], dim)."""
        return self.features[self.offsets[i]:self.offsets[i] + self.lengths[i]]

    def get(self, uid: str) -> np.ndarray:
        return self.sequence(self.position[uid])


def family_path(store: str | Path, family: str) -> Path:
    return Path(store) / f"{family}.h5"


def _pending_files(store: Path, family: str) -> list[Path]:
    folder = store / ".pending" / family
    return sorted(folder.glob("*.h5")) if folder.is_dir() else []


def _sources(store: Path, family: str) -> list[FamilyIndex]:
    """Main file first, then shards oldest first; later sources override earlier ones for the same id."""
    main = family_path(store, family)
    return ([FamilyIndex.read(main)] if main.is_file() else []) + [FamilyIndex.read(p) for p in _pending_files(store, family)]


def _latest_records(sources: list[FamilyIndex]) -> dict[str, tuple[int, int]]:
    """id -> (source number, row in that source), the newest record winning."""
    latest = {}
    for s, source in enumerate(sources):
        for row, uid in enumerate(source.ids):
            latest[uid] = (s, row)
    return latest


def list_families(store: str | Path) -> list[str]:
    """Family names present in a store folder (consolidated or pending)."""
    store = Path(store)
    names = {p.stem for p in store.glob("*.h5")} | {p.name for p in (store / ".pending").glob("*") if p.is_dir()}
    return sorted(n for n in names if "." not in n)


def read_family(store: str | Path, family: str) -> FeatureSet:
    """Read one family: a single contiguous read of the main file, plus any shards an interrupted run left."""
    import h5py

    store = Path(store)
    sources = _sources(store, family)
    if not sources:
        have = ", ".join(list_families(store)) or "none"
        raise FeatbenchError(f"{store}: no '{family}' features in this store (families present: {have})")
    if len(sources) == 1:
        src = sources[0]
        with h5py.File(src.path, "r") as h5:
            features = h5["features"][:]
        return FeatureSet(src.meta, np.array(src.ids, dtype=object), src.offsets, src.lengths,
                          np.array(src.hashes, dtype=object), features)
    latest = _latest_records(sources)
    chunks = []
    for s, source in enumerate(sources):
        with h5py.File(source.path, "r") as h5:
            all_rows = h5["features"][:]
        chunks.append([(uid, all_rows[source.offsets[r]:source.offsets[r] + source.lengths[r]], source.hashes[r])
                       for uid, (si, r) in latest.items() if si == s])
    flat = sorted((c for chunk in chunks for c in chunk), key=lambda c: c[0])
    lengths = np.array([len(c[1]) for c in flat], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    features = np.concatenate([c[1] for c in flat]) if flat else np.zeros((0, sources[0].meta.dim), np.float32)
    return FeatureSet(sources[-1].meta, np.array([c[0] for c in flat], dtype=object), offsets, lengths,
                      np.array([c[2] for c in flat], dtype=object), features)


class StoreWriter:
    """The single writer of a store folder: prepare families, add arrays, flush shards, consolidate.

    Use as a context manager; it holds an exclusive lock on ``<store>/.lock`` (released by the OS if the
    process dies, so a killed run never blocks the next one).
    """

    def __init__(self, store: str | Path, flush_utterances: int = 64, flush_bytes: int = 64 << 20):
        from filelock import FileLock, Timeout

        self.store = Path(store)
        self.store.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(self.store / ".lock"))
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise StoreLockedError(
                f"{self.store}: another featbench process is writing this store; wait for it to finish"
            ) from None
        self.flush_utterances, self.flush_bytes = flush_utterances, flush_bytes
        self.meta: dict[str, FamilyMeta] = {}
        self._buffer: dict[str, list[tuple[str, str, np.ndarray]]] = {}
        self._buffered_bytes = 0
        self._buffered_utterances: set[str] = set()
        self.messages: list[str] = []

    def __enter__(self) -> "StoreWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._lock.release()

    def prepare(self, meta: FamilyMeta) -> dict[str, str]:
        """Register a family; return {utterance id: audio hash} already stored with this exact config.

        A main file made with another config is kept under ``<family>.<old hash>.h5`` (never served for the
        new config, and reused if that config comes back); shards of another config are removed.
        """
        self.meta[meta.family] = meta
        self._buffer.setdefault(meta.family, [])
        main = family_path(self.store, meta.family)
        if main.is_file():
            old = FamilyIndex.read(main).meta
            if old.config_hash != meta.config_hash:
                aside = main.with_name(f"{meta.family}.{old.config_hash}.h5")
                os.replace(main, aside)
                self.messages.append(f"{meta.family}: config changed ({old.config_hash} -> {meta.config_hash}); "
                                     f"previous features kept as {aside.name}")
        if not main.is_file():
            earlier = main.with_name(f"{meta.family}.{meta.config_hash}.h5")
            if earlier.is_file():  # this exact config was extracted before: reuse it
                os.replace(earlier, main)
                self.messages.append(f"{meta.family}: reusing features kept from config {meta.config_hash}")
        for leftover in [*self.store.glob(f"{meta.family}.h5.tmp*"), *(self.store / ".pending" / meta.family).glob("*.tmp*")]:
            leftover.unlink()  # half-written by a killed run; never renamed, so never read
        for shard in _pending_files(self.store, meta.family):
            if FamilyIndex.read(shard).meta.config_hash != meta.config_hash:
                shard.unlink()
        done = {}
        for source in _sources(self.store, meta.family):
            done.update(zip(source.ids, source.hashes))
        return done

    def add(self, family: str, uid: str, audio_hash: str, array: np.ndarray) -> None:
        """Buffer one utterance's features; shards are written every `flush_utterances` utterances or `flush_bytes`."""
        self._buffer[family].append((uid, audio_hash, np.asarray(array, dtype=np.float32)))
        self._buffered_bytes += array.nbytes
        self._buffered_utterances.add(uid)
        if len(self._buffered_utterances) >= self.flush_utterances or self._buffered_bytes >= self.flush_bytes:
            self.flush()

    def flush(self) -> None:
        """Write every non-empty buffer as one shard per family (atomically)."""
        for family, records in self._buffer.items():
            if not records:
                continue
            folder = self.store / ".pending" / family
            folder.mkdir(parents=True, exist_ok=True)
            shard = folder / f"{time.time_ns():020d}-{os.getpid()}.h5"
            _write_file(shard, self.meta[family], [(u, h, len(a)) for u, h, a in records], (a for _, _, a in records))
            self._buffer[family] = []
        self._buffered_bytes = 0
        self._buffered_utterances.clear()

    def consolidate(self, family: str, order: list[str], expected: dict[str, str] | None = None) -> int:
        """Merge main file and shards into one file in `order` (ids not in `order` follow, sorted).

        Records whose audio hash differs from `expected` (the current file's hash) are dropped, so a
        changed clip is never served. Streams utterance by utterance: memory does not grow with the store.
        Returns the number of utterances in the new file.
        """
        import h5py

        self.flush()
        sources = _sources(self.store, family)
        if not sources:
            return 0
        latest = _latest_records(sources)
        if expected:
            latest = {u: sr for u, sr in latest.items() if expected.get(u, sources[sr[0]].hashes[sr[1]]) == sources[sr[0]].hashes[sr[1]]}
        in_order = [u for u in order if u in latest] + sorted(set(latest) - set(order))
        records = [(u, sources[latest[u][0]].hashes[latest[u][1]], int(sources[latest[u][0]].lengths[latest[u][1]]))
                   for u in in_order]
        if len(sources) == 1 and sources[0].path == family_path(self.store, family) and sources[0].ids == in_order:
            return len(records)  # already consolidated in this order: nothing to rewrite
        handles = [h5py.File(s.path, "r") for s in sources]
        try:
            def fetch() -> Iterator[np.ndarray]:
                for uid in in_order:
                    s, r = latest[uid]
                    start = sources[s].offsets[r]
                    yield handles[s]["features"][start:start + sources[s].lengths[r]]

            _write_file(family_path(self.store, family), self.meta.get(family, sources[-1].meta), records, fetch())
        finally:
            for h in handles:
                h.close()
        for shard in _pending_files(self.store, family):
            shard.unlink()
        return len(records)
