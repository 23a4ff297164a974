"""What a store file records about its features: how they were made, and what one row of them is.

>>> meta = FamilyMeta("toy", "", {}, "abc", {}, {}, 16000, 0.0, ["a", "b"])
>>> meta.rows, meta.layers, meta.dim
('utterance', 0, 2)
>>> FamilyMeta("w", "", {}, "h", {}, {}, 16000, 50.0, ["x"] * 6, rows="frames", layers=3).layer_dim
2
>>> kept = FamilyMeta("w", "", {}, "h", {}, {}, 16000, 50.0, ["x"] * 12, layers=3, dtype="float16", pooled=True)
>>> kept.rows, kept.frame_dim, kept.layer_dim, kept.statistic_columns(kept.layer_columns(1)).tolist()
('utterance', 6, 2, [2, 3, 8, 9])

From format 3 on, every string of a store file (attribute or dataset) is of fixed length (`fixed_strings`),
kept inline rather than in an HDF5 global heap, whose damage can make libhdf5 spin (see `bounded`):

>>> fixed_strings(["ab", "é"]).tolist(), text(fixed_strings(["é"])[0])
([b'ab', b'\\xc3\\xa9'], 'é')
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from featbench.row_kinds import RowKind

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


@dataclass
class FamilyMeta:
    """Everything a store file records about how its features were made.

    `rows` is a RowKind value; `layers` is 0 for one representation, or the number of layers an
    all-layer file holds side by side (each `frame_dim // layers` columns wide, layer 0 first).

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

    def __post_init__(self):
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

    @property
    def dim(self) -> int:
        return len(self.columns)

    @property
    def frame_dim(self) -> int:
        """Columns of the frames the features describe: `dim`, or half of it in a pooled file (mean and std)."""
        return self.dim // 2 if self.pooled else self.dim

    @property
    def layer_dim(self) -> int:
        """Frame columns per layer (the whole frame width for single-representation files)."""
        return self.frame_dim // self.layers if self.layers else self.frame_dim

    def layer_columns(self, layer: int) -> np.ndarray:
        """Column indices of one layer of an all-layer file."""
        if not 0 <= layer < self.layers:
            raise IndexError(f"{self.family} holds layers 0..{self.layers - 1}, not {layer}")
        return np.arange(layer * self.layer_dim, (layer + 1) * self.layer_dim, dtype=np.int64)

    def statistic_columns(self, columns: np.ndarray) -> np.ndarray:
        """Where the mean and std of frame columns `columns` sit in a pooled row (this file's rows if `pooled`,
        else what `pool` makes of them): the means, then the stds."""
        return np.concatenate([columns, columns + self.frame_dim])

    @classmethod
    def of(cls, family) -> "FamilyMeta":
        """Metadata of a FeatureFamily instance (featbench, numpy and h5py versions added); its storage
        options other than the defaults are part of `config`."""
        import h5py

        from featbench import __version__

        versions = {"featbench": __version__, "numpy": np.__version__, "h5py": h5py.__version__,
                    **family.library_versions()}
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
    def read_attrs(cls, h5, columns: list[str]) -> "FamilyMeta":
        """The FamilyMeta of an open file whose ``columns`` were read (as text) already."""
        a = h5.attrs
        rows, layers = (text(a["rows"]), int(a["layers"])) if "rows" in a else _format1_kind(a, columns)
        return cls(text(a["family"]), text(a["description"]), json.loads(a["config"]), text(a["config_hash"]),
                   json.loads(a["audio"]), json.loads(a["versions"]), int(a["sample_rate"]),
                   float(a["frame_rate"]), columns, rows=rows, layers=layers,
                   dtype=text(a.get("dtype", "float32")), pooled=bool(a.get("pooled", False)))


def _format1_kind(attrs, columns: list[str]) -> tuple[str, int]:
    """Row kind and layer count of a format-1 file (featbench 0.1 stored neither): the one place that
    reads them from the family name, the frame rate and the all-layer column names 'Lkk_ddd'."""
    if float(attrs["frame_rate"]) == 0.0:
        return RowKind.UTTERANCE.value, 0
    if text(attrs["family"]) == "raw":
        return RowKind.WAVEFORM.value, 0
    layer_ids = {c[1:3] for c in columns if len(c) > 4 and c[0] == "L" and c[3] == "_"}
    return RowKind.FRAMES.value, len(layer_ids)
