"""How a store keeps a family's features: the options `dtype` (float32, float16) and `pooled` (true, false).

Every family takes them besides its own options (``--set whisper.dtype=float16``). Half precision halves
the store; a pooled store keeps one row per utterance, every frame column's mean then every frame
column's std, as `featbench.pooling.pool` computes them (the same bits as pooling the frame store when
training), for users who need no sequence model. The defaults leave the features, the store and the
config hash as they were; other values enter the config hash. Refused at construction, in one line:
`pooled` for families whose rows are not frames, float16 where a family says why
(`FeatureFamily.float16_refused`: raw, compare-lld).

>>> storage = Storage.pop("fbank", {"dtype": "float16", "pooled": "yes", "n_mels": "40"})
>>> storage.config(), storage.columns(["a", "b"])
({'dtype': 'float16', 'pooled': True}, ['mean_a', 'mean_b', 'std_a', 'std_b'])
>>> storage.apply(np.array([[1.0, 2.0], [3.0, 2.0]], np.float32))
array([[2., 2., 1., 0.]], dtype=float16)
>>> Storage().config()
{}
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from featbench.dtypes import Dtype, cast  # noqa: F401 (re-exported)
from featbench.errors import FeatbenchError
from featbench.options import coerce_option
from featbench.pooling import pool
from featbench.row_kinds import RowKind


_WHAT_ROWS = {RowKind.UTTERANCE: "one row per utterance already", RowKind.WAVEFORM: "waveform rows (samples)",
              RowKind.TOKENS: "token rows"}


@dataclass(frozen=True)
class Storage:
    """A family's storage form: `dtype` and `pooled` (one row of mean and std per utterance)."""

    dtype: Dtype = Dtype.FLOAT32
    pooled: bool = False

    OPTIONS: ClassVar[tuple[str, ...]] = ("dtype", "pooled")

    @classmethod
    def pop(cls, family: str, options: dict) -> Storage:
        """The storage options taken out of `options` (a family's options: text from ``--set`` or typed values)."""
        default = cls()
        value = options.pop("dtype", default.dtype)
        text = coerce_option(family, "dtype", value.value if isinstance(value, Dtype) else value, str)
        try:
            dtype = Dtype(str(text).lower())
        except ValueError:
            raise FeatbenchError(f"{family}.dtype={str(text)!r}: choose {' or '.join(d.value for d in Dtype)}") from None
        return cls(dtype, coerce_option(family, "pooled", options.pop("pooled", default.pooled), bool))

    def check(self, family) -> None:
        """One-line FeatbenchError for a form `family` cannot be stored in (called at construction)."""
        kind = family.row_kind
        if self.pooled and kind is not RowKind.FRAMES:
            raise FeatbenchError(f"{family.name}.pooled=true: only frame-level families are stored pooled; "
                                 f"{family.name} has {_WHAT_ROWS[kind]}")
        if self.dtype is Dtype.FLOAT16 and family.float16_refused:  # raw, compare-lld: see why there
            raise FeatbenchError(f"{family.name}.dtype=float16: {family.float16_refused}")

    def config(self) -> dict:
        """The options that differ from the defaults (empty for the default form: config hashes unchanged)."""
        default = Storage()
        return {**({"dtype": self.dtype.value} if self.dtype is not default.dtype else {}),
                **({"pooled": True} if self.pooled else {})}

    def columns(self, columns: list[str]) -> list[str]:
        """Names of the stored columns, given the family's: ``mean_<c>`` then ``std_<c>`` when pooled."""
        return [f"mean_{c}" for c in columns] + [f"std_{c}" for c in columns] if self.pooled else list(columns)

    def row_kind(self, kind: RowKind) -> RowKind:
        """What one stored row is, given what one row of the family's output is."""
        return RowKind.UTTERANCE if self.pooled else kind

    def apply(self, array: np.ndarray) -> np.ndarray:
        """One utterance's rows as stored: pooled (`pool`, in float64, then float32) when `pooled`, then cast to
        `dtype`; a ValueError (a failure of that clip) for a clip without frames or a value float16 cannot hold."""
        array = np.asarray(array, dtype=np.float32)
        if self.pooled:
            array = pool(array, np.zeros(1, np.int64), np.array([len(array)], np.int64))
        return cast(array, self.dtype)
