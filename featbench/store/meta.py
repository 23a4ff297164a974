"""What a store file records about its features: how they were made, what one row of them is, and where each
layer of a model sits in its matrices (the one layer layout every reader uses).

>>> meta = FamilyMeta("toy", "", {}, "abc", {}, {}, 16000, 0.0, ["a", "b"])
>>> meta.rows, meta.layers, meta.dim
('utterance', 0, 2)
>>> FamilyMeta("w", "", {}, "h", {}, {}, 16000, 50.0, ["x"] * 6, rows="frames", layers=3).layer_dim
2
>>> kept = FamilyMeta("w", "", {}, "h", {}, {}, 16000, 50.0, ["x"] * 12, layers=3, dtype="float16", pooled=True)
>>> kept.rows, kept.frame_dim, kept.layer_dim, kept.statistic_columns(kept.layer_columns(1)).tolist()
('utterance', 6, 2, [2, 3, 8, 9])

A layer has one spelling: the number k of the ``layer=k`` option (0 = the embeddings), written ``Lk`` in
views (``whisper@L4``) and ``Lkk_ddd`` in all-layer columns. A family extracted with ``layer=4`` holds
layer 4 alone, and says so:

>>> FamilyMeta("w", "", {"layer": "4"}, "h", {}, {}, 16000, 50.0, ["d0", "d1"]).layer_numbers
(4,)
>>> layer_name(4), layer_number("L04"), layer_number("l4"), layer_number("L"), layer_column_names(2, 1)
('L4', 4, 4, None, ['L00_000', 'L01_000'])

From format 3 on, every string of a store file (attribute or dataset) is of fixed length (`fixed_strings`),
kept inline rather than in an HDF5 global heap, whose damage can make libhdf5 spin (see `bounded`):

>>> fixed_strings(["ab", "é"]).tolist(), text(fixed_strings(["é"])[0])
([b'ab', b'\\xc3\\xa9'], 'é')
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from featbench.errors import FeatbenchError
from featbench.layers import layer_blocks, layer_column_names, layer_name, layer_number  # noqa: F401 (re-exported)
from featbench.options import is_whole
from featbench.row_kinds import RowKind
from featbench.store.attrs import Attrs

FORMAT_VERSION = 3  # 3: strings of fixed length (no global heap), a checksum of every part (see `files`)


def fixed_strings(values) -> np.ndarray:
    """`values` as UTF-8 byte strings of one fixed length (at least 1 byte), as HDF5 keeps them inline.
    A value holding a NUL character cannot be kept (fixed-length strings end at the first): ValueError."""
    import h5py

    encoded = [str(v).encode("utf-8") for v in values]
    for value, data in zip(values, encoded):
        if b"\0" in data:
            raise ValueError(f"{str(value)!r} holds a NUL character")
    return np.array(encoded, dtype=h5py.string_dtype("utf-8", max([1, *map(len, encoded)])))


def text(value) -> str:
    """An HDF5 string as read back: fixed-length ones come as bytes, variable-length ones (format 2) as str."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _option_layer(config: dict) -> int | None:
    """The layer number of a ``layer=k`` option in `config` (the one parser of that option); None for 'last',
    'all' or no such option."""
    value = str(config.get("layer", "")).strip()
    return int(value) if is_whole(value) else None  # as features.pretrained_options.Layer reads it


@dataclass
class FamilyMeta:
    """Everything a store file records about how its features were made.

    `rows` is a RowKind value; `layers` is 0 for one representation, or the number of layers an
    all-layer file holds side by side (each `frame_dim // layers` columns wide, layer 0 first). `layer` (not
    given: read from the ``layer=k`` option in `config`) is the layer number a single-layer family holds.
    Where a layer sits in a matrix of this family is for `slice`, `blocks` and `layer_columns` to say.

    Storage (`featbench.features.storage`): `dtype` is how `features` is stored ("float32" or "float16";
    read back as stored). A `pooled` file keeps one row per utterance (rows "utterance"): the mean of
    every frame column, then the std of every frame column (`featbench.pooling.pool`), so it is
    `2 * frame_dim` columns wide; `layers` and `layer_columns` still speak of frame columns.
    """

    family: str
    description: str
    config: dict
    config_hash: str
    audio: dict
    versions: dict
    sample_rate: int
    frame_rate: float
    columns: list[str]
    rows: str = ""
    layers: int = 0
    dtype: str = "float32"
    pooled: bool = False
    layer: int | None = field(default=None, init=False)

    def __post_init__(self):
        if not (isinstance(self.frame_rate, (int, float)) and np.isfinite(self.frame_rate) and self.frame_rate >= 0):
            raise ValueError(f"{self.family}: frame rate {self.frame_rate!r} is not a finite number >= 0")
        if self.pooled and self.rows not in ("", RowKind.UTTERANCE.value):
            raise ValueError(f"{self.family}: a pooled file holds one row per utterance, not rows '{self.rows}'")
        if not self.rows:
            self.rows = (RowKind.UTTERANCE if self.frame_rate == 0.0 or self.pooled else RowKind.FRAMES).value
        self.rows = RowKind(self.rows).value
        self.dtype = np.dtype(self.dtype).name
        if self.dtype not in ("float32", "float16"):
            raise ValueError(f"{self.family}: features are stored as float32 or float16, not {self.dtype}")
        if self.pooled and self.dim % 2:
            raise ValueError(f"{self.family}: a pooled file has as many std columns as mean columns, not {self.dim} in all")
        if self.layers and self.frame_dim % self.layers:
            raise ValueError(f"{self.family}: {self.frame_dim} columns do not split into {self.layers} layers")
        self.layer = None if self.layers else _option_layer(self.config)

    @property
    def dim(self) -> int:
        return len(self.columns)

    @property
    def precision(self) -> str:
        """The floating-point type a neural family's encoder computed in: its ``precision`` option, which `config`
        holds where it is not float32 (`featbench.device.Precision`; older stores and other families: float32).

        >>> FamilyMeta("w", "", {"precision": "bfloat16"}, "h", {}, {}, 16000, 50.0, ["x"]).precision
        'bfloat16'
        """
        return str(self.config.get("precision", "float32"))

    @property
    def frame_dim(self) -> int:
        """Columns of the frames the features describe: `dim`, or half of it in a pooled file (mean and std)."""
        return self.dim // 2 if self.pooled else self.dim

    @property
    def layer_dim(self) -> int:
        """Frame columns per layer (the whole frame width for single-representation files)."""
        return self.frame_dim // self.layers if self.layers else self.frame_dim

    @property
    def layer_numbers(self) -> tuple[int, ...]:
        """The layer numbers this family holds: 0 to layers - 1 (all-layer), its one layer (``layer=k``), or none."""
        return tuple(range(self.layers)) if self.layers else (() if self.layer is None else (self.layer,))

    @property
    def held_layers(self) -> str:
        """Which layers the family holds, in words: 'layers L0 to L6', 'layer L4 only (extracted with layer=4)'
        or 'no numbered layer'."""
        if self.layers:
            return f"layers {layer_name(0)} to {layer_name(self.layers - 1)}"
        if self.layer is not None:
            return f"layer {layer_name(self.layer)} only (extracted with layer={self.layer})"
        return "no numbered layer"

    def layer_columns(self, layer: int) -> np.ndarray:
        """Frame column indices of layer number `layer` (every frame column of a single-layer family's own layer);
        a layer it does not hold is a one-line FeatbenchError."""
        if layer not in self.layer_numbers:
            raise FeatbenchError(f"{self.family} holds {self.held_layers}, not {layer_name(layer)}")
        if not self.layers:
            return np.arange(self.frame_dim, dtype=np.int64)
        return np.arange(layer * self.layer_dim, (layer + 1) * self.layer_dim, dtype=np.int64)

    def _statistics(self, X) -> bool:
        """Whether `X` holds pooled rows (mean, then std of every frame column) rather than frame columns."""
        if X.shape[-1] not in (self.frame_dim, 2 * self.frame_dim):
            raise ValueError(f"{self.family}: a matrix {X.shape[-1]} columns wide is neither rows of its frame "
                             f"columns ({self.frame_dim}) nor their mean and std ({2 * self.frame_dim})")
        return X.shape[-1] == 2 * self.frame_dim

    def slice(self, X: np.ndarray, layer: int) -> np.ndarray:
        """Layer `layer`'s columns of `X`, rows of this family: frame columns (`frame_dim` wide), or their mean
        and std (`2 * frame_dim` wide, as `pool` makes them and pooled files keep them; the layer's means, then
        its stds). A single-layer family's own layer is `X` itself.

        >>> meta = FamilyMeta("w", "", {}, "h", {}, {}, 16000, 50.0, ["x"] * 4, layers=2)
        >>> meta.slice(np.arange(4)[None], 1).tolist(), meta.slice(np.arange(8)[None], 1).tolist()
        ([[2, 3]], [[2, 3, 6, 7]])
        """
        columns = self.layer_columns(layer)
        if not self.layers:
            return X
        return X[..., self.statistic_columns(columns) if self._statistics(X) else columns]

    def blocks(self, X: np.ndarray) -> np.ndarray:
        """`X` (as `slice` takes it) as one block per layer: (n, layers, width). Of pooled rows, a layer's block
        is its means, then its stds (a copy); of frame columns, a view.

        >>> meta = FamilyMeta("w", "", {}, "h", {}, {}, 16000, 50.0, ["x"] * 4, layers=2)
        >>> meta.blocks(np.arange(8)[None]).tolist()
        [[[0, 1, 4, 5], [2, 3, 6, 7]]]
        """
        n = max(self.layers, 1)
        if not self._statistics(X):
            return layer_blocks(X, n)
        means, stds = X[..., :self.frame_dim], X[..., self.frame_dim:]
        return np.concatenate([layer_blocks(means, n), layer_blocks(stds, n)], axis=-1)

    def statistic_columns(self, columns: np.ndarray) -> np.ndarray:
        """Where the mean and std of frame columns `columns` sit in a pooled row (this file's rows if `pooled`,
        else what `pool` makes of them): the means, then the stds."""
        return np.concatenate([columns, columns + self.frame_dim])

    @classmethod
    def of(cls, family) -> FamilyMeta:
        """Metadata of a FeatureFamily instance (featbench, numpy and h5py versions added); its storage
        options other than the defaults are part of `config`."""
        import h5py

        from featbench import __version__

        versions = {"featbench": __version__, "numpy": np.__version__, "h5py": h5py.__version__,
                    **family.identity()["versions"]}
        storage = family.storage
        return cls(family.name, family.description, {**family.config_dict(), **storage.config()}, family.config_hash(),
                   family.audio.to_dict(), versions, family.audio.sample_rate, float(family.frame_rate),
                   storage.columns(list(family.columns)), rows=storage.row_kind(family.row_kind).value,
                   layers=family.n_layers, dtype=storage.dtype.value, pooled=storage.pooled)

    def write_attrs(self, h5) -> None:
        """The attributes and the ``columns`` dataset; every string of fixed length."""
        strings = dict(family=self.family, description=self.description, config=json.dumps(self.config, sort_keys=True),
                       config_hash=self.config_hash, audio=json.dumps(self.audio, sort_keys=True),
                       versions=json.dumps(self.versions, sort_keys=True), rows=self.rows, dtype=self.dtype)
        h5.attrs.update(dict(format_version=FORMAT_VERSION, sample_rate=self.sample_rate, frame_rate=self.frame_rate,
                             dim=self.dim, layers=self.layers, pooled=self.pooled))
        for name, value in strings.items():
            h5.attrs.create(name, fixed_strings([value]).reshape(()))  # a scalar attribute
        h5.create_dataset("columns", data=fixed_strings(self.columns))

    @classmethod
    def read_attrs(cls, h5, columns: list[str], where="") -> FamilyMeta:
        """The FamilyMeta of an open file (`where`, for messages) whose ``columns`` were read (as text) already; a
        value featbench never writes is a one-line FeatbenchError naming the file and the attribute (`attrs`)."""
        a = Attrs(h5.attrs, where)
        kinds = [kind.value for kind in RowKind]
        rows, layers = (a.choice("rows", kinds), a.integer("layers", 0)) if "rows" in h5.attrs else _format1_kind(h5.attrs, columns)
        if a.integer("dim", 0, default=len(columns)) != len(columns):
            raise a.fail("dim", a.raw("dim"), f"the number of columns ({len(columns)})")
        try:
            return cls(a.text("family"), a.text("description"), a.json_object("config"), a.text("config_hash"),
                       a.json_object("audio"), a.json_object("versions"), a.integer("sample_rate", 0),
                       a.number("frame_rate"), columns, rows=rows, layers=layers,
                       dtype=a.choice("dtype", ["float32", "float16"], default="float32"), pooled=a.flag("pooled", False))
        except ValueError as err:  # a combination featbench never writes (pooled frames, layers that do not divide)
            raise FeatbenchError(f"{where}: {err}") from None


def _format1_kind(attrs, columns: list[str]) -> tuple[str, int]:
    """Row kind and layer count of a format-1 file (featbench 0.1 stored neither): the one place that
    reads them from the family name, the frame rate and the all-layer column names (`layer_column_names`)."""
    if float(attrs["frame_rate"]) == 0.0:
        return RowKind.UTTERANCE.value, 0
    if text(attrs["family"]) == "raw":
        return RowKind.WAVEFORM.value, 0
    layer_ids = {layer_number(c.partition("_")[0]) for c in columns if "_" in c} - {None}
    return RowKind.FRAMES.value, len(layer_ids)
