"""What a store file records about its features: how they were made, and what one row of them is.

>>> meta = FamilyMeta("toy", "", {}, "abc", {}, {}, 16000, 0.0, ["a", "b"])
>>> meta.rows, meta.layers, meta.dim
('utterance', 0, 2)
>>> FamilyMeta("w", "", {}, "h", {}, {}, 16000, 50.0, ["x"] * 6, rows="frames", layers=3).layer_dim
2
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from featbench.row_kinds import RowKind

FORMAT_VERSION = 2


def string_dtype():
    import h5py

    return h5py.string_dtype("utf-8")


@dataclass
class FamilyMeta:
    """Everything a store file records about how its features were made.

    `rows` is a RowKind value; `layers` is 0 for one representation, or the number of layers an
    all-layer file holds side by side (each `dim // layers` columns wide, layer 0 first).
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

    def __post_init__(self):
        if not self.rows:
            self.rows = (RowKind.UTTERANCE if self.frame_rate == 0.0 else RowKind.FRAMES).value
        self.rows = RowKind(self.rows).value
        if self.layers and self.dim % self.layers:
            raise ValueError(f"{self.family}: {self.dim} columns do not split into {self.layers} layers")

    @property
    def dim(self) -> int:
        return len(self.columns)

    @property
    def layer_dim(self) -> int:
        """Columns per layer (the whole width for single-representation files)."""
        return self.dim // self.layers if self.layers else self.dim

    def layer_columns(self, layer: int) -> np.ndarray:
        """Column indices of one layer of an all-layer file."""
        if not 0 <= layer < self.layers:
            raise IndexError(f"{self.family} holds layers 0..{self.layers - 1}, not {layer}")
        return np.arange(layer * self.layer_dim, (layer + 1) * self.layer_dim, dtype=np.int64)

    @classmethod
    def of(cls, family) -> "FamilyMeta":
        """Metadata of a FeatureFamily instance (featbench, numpy and h5py versions added)."""
        import h5py

        from featbench import __version__

        versions = {"featbench": __version__, "numpy": np.__version__, "h5py": h5py.__version__,
                    **family.library_versions()}
        return cls(family.name, family.description, family.config_dict(), family.config_hash(),
                   family.audio.to_dict(), versions, family.audio.sample_rate, float(family.frame_rate),
                   list(family.columns), rows=family.row_kind.value, layers=family.n_layers)

    def write_attrs(self, h5) -> None:
        h5.attrs.update(dict(
            format_version=FORMAT_VERSION, family=self.family, description=self.description,
            config=json.dumps(self.config, sort_keys=True), config_hash=self.config_hash,
            audio=json.dumps(self.audio, sort_keys=True), versions=json.dumps(self.versions, sort_keys=True),
            sample_rate=self.sample_rate, frame_rate=self.frame_rate, dim=self.dim, rows=self.rows, layers=self.layers,
        ))
        h5.create_dataset("columns", data=np.array(self.columns, dtype=object), dtype=string_dtype())

    @classmethod
    def read_attrs(cls, h5) -> "FamilyMeta":
        a = h5.attrs
        columns = [c.decode() if isinstance(c, bytes) else c for c in h5["columns"][:]]
        rows, layers = (str(a["rows"]), int(a["layers"])) if "rows" in a else _format1_kind(a, columns)
        return cls(str(a["family"]), str(a["description"]), json.loads(a["config"]), str(a["config_hash"]),
                   json.loads(a["audio"]), json.loads(a["versions"]), int(a["sample_rate"]),
                   float(a["frame_rate"]), columns, rows=rows, layers=layers)


def _format1_kind(attrs, columns: list[str]) -> tuple[str, int]:
    """Row kind and layer count of a format-1 file (featbench 0.1 stored neither): the one place that
    reads them from the family name, the frame rate and the all-layer column names 'Lkk_ddd'."""
    if float(attrs["frame_rate"]) == 0.0:
        return RowKind.UTTERANCE.value, 0
    if str(attrs["family"]) == "raw":
        return RowKind.WAVEFORM.value, 0
    layer_ids = {c[1:3] for c in columns if len(c) > 4 and c[0] == "L" and c[3] == "_"}
    return RowKind.FRAMES.value, len(layer_ids)
