"""The single writer of a store folder: prepare families, add arrays, flush shards, consolidate, repair.

New results go to small shard files in ``<store>/.pending/<family>/`` (written to a temporary name and
renamed, so a killed run never leaves half a shard); ``consolidate`` merges them into the main file the
same way. A run killed at any moment therefore leaves a readable store. One writer at a time: the
store folder itself is locked (no lock file), and released by the OS if the process dies.

Families whose rows are tokens pass a TextRecord with each utterance (`add(..., text=)`): the token
string of every row, the transcript and its source, kept beside the rows (see `files`).

>>> import tempfile, numpy as np
>>> from featbench.store import read_family
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

import contextlib
import glob
import os
import time
from pathlib import Path
from collections.abc import Iterator

import numpy as np

from featbench.errors import CorruptStoreError, FeatbenchError
from featbench.dtypes import cast
from featbench.locking import check_writable, exclusive
from featbench.store.files import FamilyIndex, TextRecord, checksum, write_file
from featbench.store.bounded import check_settings
from featbench.store.meta import FamilyMeta
from featbench.store.reader import PENDING, _of_family, family_path, latest_records, pending_files, sources, verify


class StoreWriter:
    """The single writer of a store folder. Use as a context manager.

    Opening it creates the folder, takes the lock and checks that the folder can take new files, so a
    read-only store fails before any clip is touched.
    """

    def __init__(self, store: str | Path, flush_utterances: int = 64, flush_bytes: int = 64 << 20):
        check_settings()  # before the folder is made or locked
        self.store = Path(store)
        self.store.mkdir(parents=True, exist_ok=True)
        self._lock = exclusive(self.store, "store")
        self._lock.__enter__()
        try:
            check_writable(self.store, "store")
            if (self.store / PENDING).is_dir():
                for folder in [self.store / PENDING, *(p for p in (self.store / PENDING).iterdir() if p.is_dir())]:
                    check_writable(folder, "store")
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        self.flush_utterances, self.flush_bytes = flush_utterances, flush_bytes
        self.meta: dict[str, FamilyMeta] = {}
        self._buffer: dict[str, list[tuple[str, str, np.ndarray, TextRecord | None]]] = {}
        self._buffered_bytes = 0
        self._buffered_utterances: set[str] = set()
        self.messages: list[str] = []
        self.left: list[str] = []  # files `repair` left in place (not proven damaged), one line each

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Flush what is buffered (finished utterances are kept, also on Ctrl-C), tidy up, release the lock."""
        try:
            self.flush()
            self._remove_empty_pending()
        finally:
            self._lock.__exit__(None, None, None)

    def _shelve(self, family: str) -> list[str]:
        """Move each damaged file of `family` aside (lines saying so); files unreadable for another reason go to
        `left`."""
        lines = []
        main = family_path(self.store, family)
        for path in [main] * os.path.lexists(main) + pending_files(self.store, family):
            try:
                _of_family(FamilyIndex.read(path), family)
            except FileNotFoundError:
                continue  # gone meanwhile
            except CorruptStoreError:  # proof of damage: kept aside for inspection, never read again
                lines.append(_moved_aside(family, path))
            except FeatbenchError as err:  # not damage: the user's to fix
                self.left.append(f"{family}: left in place, not proven damaged: {err}")
        return lines

    def _remove_empty_pending(self) -> None:
        pending = self.store / PENDING
        if pending.is_dir():
            for folder in [*pending.iterdir(), pending]:
                with contextlib.suppress(OSError):  # not empty (shards of an interrupted run): kept
                    folder.rmdir()

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
        for leftover in [*self.store.glob(f"{glob.escape(meta.family)}.h5.tmp*"),  # a name may hold '*', '?', '['
                         *(self.store / PENDING / meta.family).glob("*.tmp*")]:
            leftover.unlink()  # half-written by a killed run; never renamed, so never read
        for shard in pending_files(self.store, meta.family):
            if FamilyIndex.read(shard).meta.config_hash != meta.config_hash:
                shard.unlink()
        done = {}
        for source in sources(self.store, meta.family):
            done.update(zip(source.ids, source.hashes))
        return done

    def add(self, family: str, uid: str, audio_hash: str, array: np.ndarray, text: TextRecord | None = None) -> None:
        """Buffer one utterance's features (and, for token rows, its TextRecord: one token per row); shards are
        written every `flush_utterances` utterances or `flush_bytes`. The array is kept in the family's stored
        dtype (FamilyMeta.dtype); a value that dtype cannot hold is a ValueError."""
        array = cast(array, self.meta[family].dtype)
        if text is not None and len(text.tokens) != len(array):
            raise ValueError(f"{family}: '{uid}' has {len(array)} rows but {len(text.tokens)} tokens")
        self._buffer[family].append((uid, audio_hash, array, text))
        self._buffered_bytes += array.nbytes
        self._buffered_utterances.add(uid)
        if len(self._buffered_utterances) >= self.flush_utterances or self._buffered_bytes >= self.flush_bytes:
            self.flush()

    def flush(self) -> None:
        """Write every non-empty buffer as one shard per family (atomically)."""
        for family, records in self._buffer.items():
            if not records:
                continue
            folder = self.store / PENDING / family
            folder.mkdir(parents=True, exist_ok=True)
            shard = folder / f"{time.time_ns():020d}-{os.getpid()}.h5"
            write_file(shard, self.meta[family], [(u, h, len(a), checksum(a)) for u, h, a, _ in records],
                       ((a, t) for _, _, a, t in records))
            self._buffer[family] = []
        self._buffered_bytes = 0
        self._buffered_utterances.clear()

    def consolidate(self, family: str, order: list[str], expected: dict[str, str] | None = None,
                    drop: set[str] | None = None, rewrite: bool = False) -> int:
        """Merge main file and shards into one file in `order` (ids not in `order` follow, sorted).

        Records whose audio hash differs from `expected` (the current file's hash) and ids in `drop` are
        left out, so a changed clip is never served. `rewrite` rewrites a file already in order; a file
        without index checksums (format 1 or 2) is always rewritten (in the current format, with them).
        Streams utterance by utterance: memory does not grow with the store. Returns the number of
        utterances in the new file.
        """
        self.flush()
        indexes = sources(self.store, family)
        if not indexes:
            return 0
        latest = _current(indexes, expected, drop)
        in_order = [u for u in order if u in latest] + sorted(set(latest) - set(order))
        main = family_path(self.store, family)
        if not rewrite and len(indexes) == 1 and indexes[0].path == main and indexes[0].ids == in_order \
                and indexes[0].index_checked:
            return len(in_order)  # already consolidated in this order: nothing to rewrite
        with _Sources(indexes, latest, main) as read:
            records = read.records(in_order)
            try:
                if any(r[3] is None for r in records):  # a format-1 file: checksums start now
                    arrays = list(read.fetch(in_order))
                    records = [(u, h, n, checksum(a)) for (u, h, n, _), (a, _) in zip(records, arrays)]
                    write_file(main, self.meta.get(family, indexes[-1].meta), records, iter(arrays))
                else:
                    write_file(main, self.meta.get(family, indexes[-1].meta), records, read.fetch(in_order))
            except CorruptStoreError as err:
                raise CorruptStoreError(str(err), store=self.store, family=family, ids=err.ids) from None
        for shard in pending_files(self.store, family):
            shard.unlink()
        return len(records)

    def repair(self) -> list[str]:
        """Remove damaged clips (and move damaged files aside) so that the next extraction redoes them. Returns one
        line per change. A file is moved only on proof of damage (a CorruptStoreError: checksums, HDF5 that cannot
        be parsed, a read that never ends); one that cannot be read for another reason (permissions, a folder or a
        FIFO in its place, a format or value this featbench does not know) is left in place, and `left` says why."""
        self.left = []
        lines = []
        for health in verify(self.store):
            if health.unreadable:
                lines += self._shelve(health.family)
            if health.damaged or health.rewrite:
                main = family_path(self.store, health.family)
                order = list(FamilyIndex.read(main).ids) if main.is_file() else []
                self.consolidate(health.family, order, drop=set(health.damaged), rewrite=True)
                if health.damaged:
                    lines.append(f"{health.family}: removed {len(health.damaged)} damaged clip(s); extract again to redo them")
                if health.unchecked:
                    lines.append(f"{health.family}: rewritten with checksums ({health.unchecked} clips)")
                elif health.index_unchecked:
                    lines.append(f"{health.family}: rewritten with index checksums ({health.index_unchecked} clips)")
        return lines


def _moved_aside(family: str, path: Path) -> str:
    os.replace(path, path.with_name(path.name + ".damaged"))
    return f"{family}: moved unreadable {path.name} aside as {path.name}.damaged"


def _current(indexes: list, expected: dict[str, str] | None, drop: set[str] | None) -> dict[str, tuple[int, int]]:
    """{id: (source, row)} of each utterance's latest record, less those whose audio hash differs from `expected`
    and the ids in `drop`."""
    latest = latest_records(indexes)
    if expected:
        latest = {u: sr for u, sr in latest.items()
                  if expected.get(u, indexes[sr[0]].hashes[sr[1]]) == indexes[sr[0]].hashes[sr[1]]}
    return {u: sr for u, sr in latest.items() if u not in (drop or set())}


class _Sources:
    """The main file and shards of a family open for reading while `consolidate` writes the merged file: the
    records and rows of each utterance's latest version. The main file is read utterance by utterance (memory does
    not grow with the store), a shard whole (at most flush_bytes), one shard at a time."""

    def __init__(self, indexes: list, latest: dict[str, tuple[int, int]], main: Path):
        self.indexes, self.latest, self.main = indexes, latest, main
        self.handles: list = []
        self.shard: dict[int, np.ndarray] = {}  # the shard in use

    def __enter__(self) -> _Sources:
        import h5py

        self.handles = [h5py.File(s.path, "r") for s in self.indexes]
        return self

    def __exit__(self, *exc) -> None:
        for h in self.handles:
            h.close()

    def field(self, uid: str, name: str):
        s, r = self.latest[uid]
        values = getattr(self.indexes[s], name)
        return values[r] if values is not None else None

    def records(self, in_order: list[str]) -> list[tuple]:
        """(id, audio hash, rows, checksum or None) of each utterance, in order."""
        return [(u, self.field(u, "hashes"), int(self.field(u, "lengths")),
                 int(self.field(u, "checksums")) if self.field(u, "checksums") is not None else None) for u in in_order]

    def rows(self, s: int, start: int, length: int) -> np.ndarray:
        if self.indexes[s].path == self.main:  # utterance by utterance: memory does not grow with the store
            return self.handles[s]["features"][start:start + length]
        if s not in self.shard:
            self.shard.clear()
            self.shard[s] = self.handles[s]["features"][:]
        return self.shard[s][start:start + length]

    def text(self, s: int, r: int) -> TextRecord | None:
        index = self.indexes[s]
        if index.texts is None:
            return None
        start, length = index.offsets[r], index.lengths[r]
        if index.tokens is not None:  # read already (a format-2 file: never read its heap here)
            return index.text_record(r, index.tokens[start:start + length])
        return index.text_record(r, self.handles[s]["tokens"].asstr()[start:start + length] if length else ())

    def fetch(self, in_order: list[str]) -> Iterator[tuple[np.ndarray, TextRecord | None]]:
        """(rows, TextRecord or None) of each utterance, in order, read as they are written."""
        for uid in in_order:
            s, r = self.latest[uid]
            yield self.rows(s, self.indexes[s].offsets[r], self.indexes[s].lengths[r]), self.text(s, r)
