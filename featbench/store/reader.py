"""Read a store back: the families it holds, one family's features in one read, and its health.

Every read checks each utterance's checksum, so bytes damaged on disk never reach training: the
damaged clips are named (CorruptStoreError) and `repair` removes them, so that the next extraction
computes them again. A file whose index (ids, offsets, lengths, audio hashes, ...) is damaged is named
with the part (CorruptStoreError); `repair` moves it aside.

A family of token rows (the text families) is read with the token string of each row and each
utterance's transcript and its source: ``FeatureSet.tokens(uid)``, ``.text(uid)``, ``.text_source(uid)``.

>>> import tempfile
>>> list_families(tempfile.mkdtemp())
[]
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from featbench.errors import CorruptStoreError, FeatbenchError
from featbench.store.bounded import check_settings
from featbench.store.files import PENDING, FamilyIndex
from featbench.store.meta import FamilyMeta


MAX_NAME_BYTES = 200  # a file name holds 255 bytes; '<family>.<config hash>.h5' (a family kept aside) needs 16 more


def family_path(store: str | Path, family: str) -> Path:
    """Where family `family` is kept in `store`; a name that would leave the folder (a path, '..') or that no
    file can have is a one-line FeatbenchError.

    >>> family_path("s", "fbank").as_posix()
    's/fbank.h5'
    >>> family_path("s", "../x")
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: '../x': not a family name a store can hold (a file name: no '/', NUL or '..', at most 200 bytes)
    """
    if not family or family in (".", "..") or any(c in family for c in ("/", os.sep, "\0")) \
            or len(family.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        raise FeatbenchError(f"{family[:80]!r}: not a family name a store can hold (a file name: no '/', NUL or '..', "
                             f"at most {MAX_NAME_BYTES} bytes)")
    return Path(store) / f"{family}.h5"


def pending_files(store: Path, family: str) -> list[Path]:
    folder = Path(store) / PENDING / family
    return sorted(folder.glob("*.h5")) if folder.is_dir() else []


def _paths(store: Path, family: str) -> list[Path]:
    """The family's files: the main file whenever something has its name (a folder, a FIFO or a dangling link
    there is named when read, never taken for no file), then the shards."""
    main = family_path(store, family)
    return ([main] if os.path.lexists(main) else []) + pending_files(store, family)


def sources(store: Path, family: str, with_features: bool = False) -> list:
    """Main file first, then shards oldest first; later sources override earlier ones for the same id.
    With `with_features`, (index, features) pairs. A file that a concurrent consolidation removed
    meanwhile makes the listing start again."""
    for attempt in range(5):
        try:
            return [_of_family(FamilyIndex.read(p, with_features), family) for p in _paths(Path(store), family)]
        except FileNotFoundError:
            if attempt == 4:
                raise FeatbenchError(f"{store}: the '{family}' files keep changing while being read; "
                                     "read again when the extraction writing them has finished") from None
    return []


def _of_family(read, family: str):
    """`read` (an index, or (index, features)) unless its file says it holds another family (a renamed file)."""
    index = read[0] if isinstance(read, tuple) else read
    if index.meta.family != family:
        raise FeatbenchError(f"{index.path}: holds family {index.meta.family[:80]!r}, not '{family}' (a file renamed "
                             "by hand? give it back its name)")
    return read


def latest_records(indexes: list[FamilyIndex]) -> dict[str, tuple[int, int]]:
    """id -> (source number, row in that source), the newest record winning."""
    latest = {}
    for s, source in enumerate(indexes):
        for row, uid in enumerate(source.ids):
            latest[uid] = (s, row)
    return latest


def list_families(store: str | Path) -> list[str]:
    """Family names present in a store folder (consolidated or pending); not the files kept aside under an older
    config (``<family>.<config hash>.h5``). A name may hold a '.' (a condition's slug: 'fbank~room_0.6')."""
    store = Path(store)
    names = {p.stem for p in store.glob("*.h5")} | {p.name for p in (store / PENDING).glob("*") if p.is_dir()}
    return sorted(n for n in names if not _KEPT_ASIDE.search(n))


_KEPT_ASIDE = re.compile(r"\.[0-9a-f]{12,64}$")


@dataclass
class FeatureSet:
    """A whole family read back: features (total_rows, dim), in the dtype stored (`meta.dtype`), plus the index.

    Families of token rows also carry `token_rows` (str objects, (total_rows,), parallel to `features`),
    `texts` and `text_sources` (n,); None for every other family.
    """

    meta: FamilyMeta
    ids: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray
    hashes: np.ndarray
    features: np.ndarray
    position: dict = field(default_factory=dict)
    token_rows: np.ndarray | None = None
    texts: np.ndarray | None = None
    text_sources: np.ndarray | None = None

    def __post_init__(self):
        self.position = {uid: i for i, uid in enumerate(self.ids)}

    def sequence(self, i: int) -> np.ndarray:
        """Rows of the i-th utterance, shape (lengths[i], dim)."""
        return self.features[self.offsets[i]:self.offsets[i] + self.lengths[i]]

    def get(self, uid: str) -> np.ndarray:
        return self.sequence(self.position[uid])

    def _text_field(self, values):
        if values is None:
            raise FeatbenchError(f"family '{self.meta.family}' stores no tokens (its rows are {self.meta.rows})")
        return values

    def tokens(self, uid: str) -> list[str]:
        """The token string of each row of `uid` (as many as `get(uid)` has rows)."""
        i = self.position[uid]
        return list(self._text_field(self.token_rows)[self.offsets[i]:self.offsets[i] + self.lengths[i]])

    def text(self, uid: str) -> str:
        """The transcript `uid`'s rows were encoded from."""
        return str(self._text_field(self.texts)[self.position[uid]])

    def text_source(self, uid: str) -> str:
        """Where that transcript came from: 'corpus' or 'asr:<model>'."""
        return str(self._text_field(self.text_sources)[self.position[uid]])


def _names(ids: list[str], limit: int = 5) -> str:
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


def read_family(store: str | Path, family: str) -> FeatureSet:
    """Read one family: one contiguous read per file (the main file, plus any shards an interrupted run
    left), every utterance checked against its checksum. Raises CorruptStoreError naming damaged clips."""
    store = Path(store)
    check_settings()
    pairs = sources(store, family, with_features=True)
    if not pairs:
        have = ", ".join(list_families(store)) or "none"
        raise FeatbenchError(f"{store}: no '{family}' features in this store (families present: {have})")
    indexes, matrices = [p[0] for p in pairs], [p[1] for p in pairs]
    latest = latest_records(indexes)
    damaged = sorted({uid for index, matrix in zip(indexes, matrices) for uid in index.damaged(matrix)
                      if indexes[latest[uid][0]] is index})
    if damaged:
        raise CorruptStoreError(f"{store / (family + '.h5')}: {len(damaged)} clip(s) fail their checksum "
                                f"({_names(damaged)}); the file was damaged on disk", store=store, family=family, ids=damaged)
    if len(indexes) == 1:
        src = indexes[0]
        return FeatureSet(src.meta, np.array(src.ids, dtype=object), src.offsets, src.lengths,
                          np.array(src.hashes, dtype=object), matrices[0], **_text_fields(src))
    chosen = sorted(latest.items())
    lengths = np.array([indexes[s].lengths[r] for _, (s, r) in chosen], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    parts = [matrices[s][indexes[s].offsets[r]:indexes[s].offsets[r] + indexes[s].lengths[r]] for _, (s, r) in chosen]
    features = np.concatenate(parts) if parts else np.zeros((0, indexes[-1].meta.dim), indexes[-1].meta.dtype)
    text = {}
    if chosen and all(indexes[s].texts is not None and indexes[s].tokens is not None for _, (s, _) in chosen):
        text = {"token_rows": np.array([t for _, (s, r) in chosen for t in indexes[s].tokens[
                    indexes[s].offsets[r]:indexes[s].offsets[r] + indexes[s].lengths[r]]], dtype=object),
                "texts": np.array([indexes[s].texts[r] for _, (s, r) in chosen], dtype=object),
                "text_sources": np.array([indexes[s].text_sources[r] for _, (s, r) in chosen], dtype=object)}
    return FeatureSet(indexes[-1].meta, np.array([u for u, _ in chosen], dtype=object), offsets, lengths,
                      np.array([indexes[s].hashes[r] for _, (s, r) in chosen], dtype=object), features, **text)


def _text_fields(index: FamilyIndex) -> dict:
    """The FeatureSet text fields of a single source (none for files without text)."""
    if index.texts is None or index.tokens is None:
        return {}
    return {"token_rows": index.tokens, "texts": np.array(index.texts, dtype=object),
            "text_sources": np.array(index.text_sources, dtype=object)}


@dataclass
class FamilyHealth:
    """What `verify` found for one family: clips checked, damaged clip ids, or the file-level problem."""

    family: str
    checked: int = 0
    damaged: list[str] = field(default_factory=list)
    unreadable: str = ""
    unchecked: int = 0  # clips of format-1 files, which hold no checksums
    index_unchecked: int = 0  # clips of format-1 and -2 files, whose index (ids, offsets, ...) has no checksum

    @property
    def ok(self) -> bool:
        return not self.damaged and not self.unreadable

    @property
    def rewrite(self) -> bool:
        """Whether `repair` would rewrite the family with the checksums it lacks."""
        return bool(self.unchecked or self.index_unchecked)

    def line(self) -> str:
        if self.unreadable:
            return f"{self.family}: unreadable ({self.unreadable})"
        if self.damaged:
            return f"{self.family}: {len(self.damaged)} of {self.checked} clips damaged: {_names(self.damaged, 20)}"
        if self.unchecked:
            line = (f"{self.family}: {self.checked - self.unchecked} clips ok, {self.unchecked} not checked (written by "
                    "featbench 0.1, without checksums; repair rewrites them with checksums)")
        else:
            line = f"{self.family}: {self.checked} clips ok"
        if self.index_unchecked:
            line += (f"; index not checked (ids, offsets, lengths and audio hashes of {self.index_unchecked} clips, "
                     "written before index checksums existed; --repair rewrites them with checksums)")
        return line


def verify(store: str | Path) -> list[FamilyHealth]:
    """Check every clip of every family against its checksum, and every file's index (ids, offsets, lengths,
    audio hashes, clip checksums, columns, metadata) against its own (the whole store is read once).

    >>> import tempfile
    >>> verify(tempfile.mkdtemp())
    []
    """
    check_settings()  # a bad FEATBENCH_* setting is one line before any file is read, never a file's damage
    report = []
    for family in list_families(store):
        health = FamilyHealth(family)
        try:
            pairs = sources(Path(store), family, with_features=True)
            indexes = [p[0] for p in pairs]
            latest = latest_records(indexes)
            health.checked = len(latest)
            health.unchecked = sum(1 for s, _ in latest.values() if indexes[s].checksums is None)
            health.index_unchecked = sum(1 for s, _ in latest.values() if not indexes[s].index_checked)
            for index, matrix in pairs:
                health.damaged += [u for u in index.damaged(matrix) if indexes[latest[u][0]] is index]
        except FeatbenchError as err:
            health.unreadable = str(err)
        health.damaged.sort()
        report.append(health)
    return report
