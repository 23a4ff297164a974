"""One store file on disk: write it atomically, read its index, check each clip's checksum.

Layout of ``<store>/<family>.h5`` (see README): ``features`` float32, or float16 where the family's
``dtype`` option says so (attribute ``dtype``), (total_rows, dim), every utterance's rows back to back;
``ids``, ``audio_hash`` (str), ``offsets``, ``lengths`` (int64) and ``checksums`` (uint32, CRC-32 of each
utterance's rows as float32, also in a float16 file: float16 -> float32 is exact) per utterance;
``columns``; attributes from FamilyMeta.

Files whose rows are tokens (row kind ``tokens``, the text families) also hold ``tokens`` (str
(total_rows,), the token string of each feature row, parallel to ``features``), ``text`` (str (n,), the
transcript each utterance's rows were encoded from) and ``text_source`` (str (n,), where it came from:
``corpus`` or ``asr:<model>``). They are for inspection: the checksums cover the feature rows only. Files
without them (every other row kind, and files written before they existed) read as before.

>>> import numpy as np
>>> checksum(np.zeros((2, 3), np.float32)) == checksum(np.zeros((2, 3), np.float64))
True
"""
from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from featbench.errors import CorruptStoreError, FeatbenchError
from featbench.row_kinds import RowKind
from featbench.store.meta import FamilyMeta, string_dtype

TOKENS, TEXT, TEXT_SOURCE = "tokens", "text", "text_source"


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


@dataclass
class FamilyIndex:
    """The index of one store file: ids, offsets, lengths, audio hashes and checksums (None in format-1 files)."""

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
    tokens: np.ndarray | None = None  # per row (str objects); read with the features only

    @classmethod
    def read(cls, path: Path, with_features: bool = False):
        """The index of the file at `path`; with `with_features`, (index, features) from the same open file,
        so that a file replaced meanwhile (a consolidation) is never read half old, half new."""
        import h5py

        try:
            with h5py.File(path, "r") as h5:
                index = cls(path, FamilyMeta.read_attrs(h5), list(h5["ids"].asstr()[:]), h5["offsets"][:],
                            h5["lengths"][:], list(h5["audio_hash"].asstr()[:]),
                            h5["checksums"][:] if "checksums" in h5 else None, int(h5["features"].shape[0]))
                if TEXT in h5:
                    index.texts, index.text_sources = list(h5[TEXT].asstr()[:]), list(h5[TEXT_SOURCE].asstr()[:])
                index._check_shape()
                features = h5["features"][:] if with_features else None
                if with_features and TOKENS in h5:
                    index.tokens = h5[TOKENS].asstr()[:].astype(object)
                    if len(index.tokens) != index.n_rows:
                        raise FeatbenchError(f"{path}: damaged store file ({len(index.tokens)} tokens for "
                                             f"{index.n_rows} feature rows)")
        except FileNotFoundError:
            raise
        except FeatbenchError:
            raise
        except Exception as err:  # h5py raises OSError, KeyError, ValueError, UnicodeDecodeError on damaged files
            raise FeatbenchError(f"{path}: not a readable featbench store file ({type(err).__name__}: {err})") from None
        return (index, features) if with_features else index

    def _check_shape(self) -> None:
        n = len(self.ids)
        sizes = {len(self.offsets), len(self.lengths), len(self.hashes)} | ({len(self.checksums)} if self.checksums is not None else set())
        sizes |= {len(v) for v in (self.texts, self.text_sources) if v is not None}
        ends = self.offsets + self.lengths
        if sizes != {n} or (n and ((self.offsets < 0).any() or (self.lengths < 0).any() or ends.max() > self.n_rows)):
            raise FeatbenchError(f"{self.path}: damaged store file (its index does not fit its {self.n_rows} feature rows)")

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
            h5.create_dataset("ids", data=np.array([r[0] for r in records], dtype=object), dtype=string_dtype())
            h5.create_dataset("audio_hash", data=np.array([r[1] for r in records], dtype=object), dtype=string_dtype())
            h5.create_dataset("offsets", data=offsets)
            h5.create_dataset("lengths", data=lengths)
            h5.create_dataset("checksums", data=np.array([r[3] for r in records], dtype=np.uint32))
            with_text = meta.rows == RowKind.TOKENS.value
            tokens, texts, text_sources = [], [], []
            for (uid, _, length, crc), start, (array, text) in zip(records, offsets, fetch):
                if len(array) != length or (length and array.shape[1] != meta.dim):
                    raise FeatbenchError(f"{path}: array of shape {array.shape} does not fit ({length}, {meta.dim})")
                array = np.asarray(array, dtype=meta.dtype)  # the checksum is checked on the values stored
                if checksum(array) != crc:
                    raise CorruptStoreError(f"{path}: the stored rows of '{uid}' fail their checksum; the file they "
                                            "come from was damaged on disk", family=meta.family, ids=[uid])
                data[start:start + length] = array
                if with_text:
                    text = text or TextRecord(("",) * length)
                    if len(text.tokens) != length:
                        raise FeatbenchError(f"{path}: '{uid}' has {length} rows but {len(text.tokens)} tokens")
                    tokens += text.tokens
                    texts.append(text.text)
                    text_sources.append(text.source)
            if with_text:
                for name, values in ((TOKENS, tokens), (TEXT, texts), (TEXT_SOURCE, text_sources)):
                    h5.create_dataset(name, data=np.array(values, dtype=object), dtype=string_dtype())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
