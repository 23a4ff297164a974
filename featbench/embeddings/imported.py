"""What an imported family is: how a clip's array becomes stored rows, and the metadata and config hash it is
stored with.

A clip's array is read by its number of axes, or as ``--rows`` declares it:

======  ==========================  ===============================
axes    rows auto (the default)      rows utterance
======  ==========================  ===============================
1       utterance row (dim)          utterance row (dim)
2       frames (frames x dim)        utterance row, layers (layers x dim)
3       frames, layers (layers x frames x dim)   refused
======  ==========================  ===============================

(``--rows frames`` takes 2 and 3 axes as auto does; the ``ids`` + ``embeddings`` form of a file is utterance
rows.) Layers are stored side by side, layer 0 first, as the all-layer families store them, so views such as
``name@L4``, ``name@auto`` and ``name@weighted`` work on them.

The config hash is the sha256 of each imported clip's id and array (as stored: float32, with its shape), in id
order, plus the description, the rows and layers they were read as and the frame rate: the same files imported
again hash the same.

>>> layout = Layout.of("a", np.zeros((3, 5, 4)), Rows.AUTO)
>>> layout, layout.stored(np.arange(24).reshape(3, 2, 4)).shape
(Layout(rows=<RowKind.FRAMES: 'frames'>, layers=3, dim=4), (2, 12))
>>> Layout.of("a", np.zeros((3, 4)), Rows.UTTERANCE).stored(np.zeros((3, 4))).shape
(1, 12)
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import Enum

import numpy as np

from featbench.embeddings.messages import shown
from featbench.errors import FeatbenchError
from featbench.layers import layer_column_names
from featbench.row_kinds import RowKind

IMPORTED = "imported"  # the config key that marks an imported family (FamilyMeta.config, the model's manifest)


class Rows(str, Enum):
    """How a clip's array is read: by its axes (auto), or declared frames or utterance rows."""

    AUTO = "auto"
    FRAMES = "frames"
    UTTERANCE = "utterance"


@dataclass(frozen=True)
class Layout:
    """What every clip's array holds: frame or utterance rows, `layers` (0: no layer axis) of `dim` columns."""

    rows: RowKind
    layers: int
    dim: int

    @classmethod
    def of(cls, uid: str, array: np.ndarray, rows: Rows, utterance_only: bool = False) -> Layout:
        """The layout of clip `uid`'s array as `rows` reads it; a one-line FeatbenchError for one it cannot take."""
        if utterance_only and rows is Rows.FRAMES:
            raise FeatbenchError("--rows frames: an 'ids' + 'embeddings' file holds one utterance row per clip")
        kind = RowKind.UTTERANCE if utterance_only or rows is Rows.UTTERANCE or (rows is Rows.AUTO and array.ndim == 1) \
            else RowKind.FRAMES
        axes = {RowKind.UTTERANCE: (1, 2), RowKind.FRAMES: (2, 3)}[kind]
        if array.ndim not in axes:
            what = "dim or layers x dim" if kind is RowKind.UTTERANCE else "frames x dim or layers x frames x dim"
            raise FeatbenchError(f"clip {shown(uid)}: an array of shape {array.shape} is not {kind.value} rows ({what}); "
                                 "see --rows")
        layered = array.ndim == axes[1]
        if 0 in array.shape:  # refused here: an import of 0 columns would only fail later, in train
            what = "columns" if array.shape[-1] == 0 else "layers" if layered and array.shape[0] == 0 else "rows"
            raise FeatbenchError(f"clip {shown(uid)}: an array of shape {array.shape} has no {what}")
        return cls(kind, array.shape[0] if layered else 0, array.shape[-1])

    @property
    def columns(self) -> list[str]:
        return layer_column_names(self.layers, self.dim) if self.layers else [f"e{d:04d}" for d in range(self.dim)]

    def stored(self, array: np.ndarray) -> np.ndarray:
        """A clip's array as stored rows: float32 (rows, layers x dim), layer 0's columns first (a value too large
        for float32 becomes infinite, which `check` refuses)."""
        with np.errstate(over="ignore"):
            array = np.asarray(array, dtype=np.float32)
        if self.rows is RowKind.UTTERANCE:
            return array.reshape(1, -1)
        if self.layers:
            array = np.moveaxis(array, 0, 1)  # (frames, layers, dim)
        return np.ascontiguousarray(array.reshape(len(array), -1))

    def check(self, uid: str, array: np.ndarray, rows: Rows, utterance_only: bool) -> np.ndarray:
        """Clip `uid`'s stored rows, refused in one line when they do not fit the first clip's layout, hold no
        value, are not numbers or are not finite."""
        if array.dtype.kind not in "fiub":
            raise FeatbenchError(f"clip {shown(uid)}: values of type {array.dtype} are not numbers")
        mine = Layout.of(uid, array, rows, utterance_only)
        if mine != self:
            raise FeatbenchError(f"clip {shown(uid)}: shape {array.shape} does not fit the other clips' "
                                 f"({self.describe()})")
        stored = self.stored(array)
        if not np.all(np.isfinite(stored)):
            raise FeatbenchError(f"clip {shown(uid)}: NaN or infinite values (as float32)")
        return stored

    def describe(self) -> str:
        layers = f"{self.layers} layers of " if self.layers else ""
        return f"{self.rows.value} rows, {layers}{self.dim} columns"


def clip_hash(uid: str, stored: np.ndarray) -> str:
    """A clip's hash: its id and stored rows (shape and float32 bytes); 16 hex digits, as audio file hashes."""
    digest = hashlib.sha256(uid.encode() + b"\0" + str(stored.shape).encode())
    digest.update(np.ascontiguousarray(stored, dtype=np.float32).tobytes())
    return digest.hexdigest()[:16]


def content_hash(hashes: dict[str, str]) -> str:
    """The sha256 of every imported clip's hash, in id order."""
    return hashlib.sha256("\n".join(f"{u}\t{hashes[u]}" for u in sorted(hashes)).encode()).hexdigest()


def config_hash(content: str, description: str, layout: Layout, frame_rate: float) -> str:
    """The imported family's config hash: content, description and how the arrays were read (12 hex digits)."""
    identity = {"imported": content, "description": description, "rows": layout.rows.value, "layers": layout.layers,
                "frame_rate": frame_rate}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]


def is_imported(config: dict) -> bool:
    """Whether a family's recorded config (FamilyMeta.config, a model manifest's) is that of an import."""
    return bool(config.get(IMPORTED))


def identity_differences(spec: dict, meta) -> str:
    """What differs between a model's record of an imported family and a store's import of it (FamilyMeta): the
    description, the rows, the layers, the columns or the frame rate ('' when none does)."""
    if not is_imported(meta.config):
        return "the store's family was extracted, not imported"
    now = {"description": meta.description, "rows": meta.rows, "layers": meta.layers, "dim": meta.dim,
           "frame_rate": meta.frame_rate}
    return ", ".join(f"{k} {spec.get(k)!r} -> {v!r}" for k, v in now.items() if spec.get(k) != v)
