"""What the pretrained families share besides code: the typed layer choice, the encoder options, the
model fingerprint and library versions that enter the config hash, the fields read from a Hugging Face
config.json, and one-line loading errors.

>>> Layer.parse("last").is_last, EncoderOptions().chunk_seconds
(True, 20.0)
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

from featbench.options import is_whole
from featbench.errors import FeatbenchError


def fingerprint(path: Path) -> str:
    """Content fingerprint of a checkpoint file or model folder: sizes plus the first and last MiB of each file."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        size = file.stat().st_size
        digest.update(f"{file.name}:{size}".encode())
        with file.open("rb") as handle:
            digest.update(handle.read(1 << 20))
            if size > 2 << 20:
                handle.seek(-(1 << 20), 2)
                digest.update(handle.read())
    return digest.hexdigest()[:16]


MAX_CONFIG_BYTES = 1 << 20
MAX_LAYERS, MAX_WIDTH = 256, 16384  # a config.json beyond these is crafted: its column names alone would not fit


def installed_version(package: str) -> str | None:
    """The installed version of `package` from its metadata, without importing it (torch and transformers take
    2-3 s to import, which `study plan` would pay for a config hash); None when it is not installed.

    >>> installed_version("numpy") is not None, installed_version("no-such-package-here")
    (True, None)
    """
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def hf_config(folder: Path):
    """The configuration of a Hugging Face model folder, for its model type and layer shape.

    config.json is read as JSON when it names its model type and the layer count and width that featbench reads
    (a saved model's file always does), so that checking a family imports neither transformers nor torch; any
    other file goes through transformers' AutoConfig, which applies the class defaults (remote code refused).
    """
    path = folder / "config.json"
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise FeatbenchError(f"{path}: {path.stat().st_size} bytes; a model's configuration is a few KB "
                             f"(at most {MAX_CONFIG_BYTES} read)")
    raw = json.loads(path.read_text(encoding="utf-8"))
    kind = raw.get("model_type") if isinstance(raw, dict) else None
    shape = ("encoder_layers", "d_model") if kind == "whisper" else ("num_hidden_layers", "hidden_size")
    if isinstance(kind, str) and all(type(raw.get(name)) is int for name in shape):
        return SimpleNamespace(**raw)
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)

def checked_shape(layers, width, folder) -> tuple[int, int]:
    """(layers, width) from a model's config.json when they are whole numbers in 1-MAX_LAYERS and 1-MAX_WIDTH;
    FeatbenchError naming the folder otherwise.

    >>> checked_shape(6, 512, "m")
    (6, 512)
    >>> checked_shape(10**9, 512, "m")
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: m: config.json gives 1000000000 layers of width 512; an encoder has 1-256 layers of 1-16384
    """
    if type(layers) is not int or type(width) is not int or not (0 < layers <= MAX_LAYERS and 0 < width <= MAX_WIDTH):
        raise FeatbenchError(f"{folder}: config.json gives {str(layers)[:40]} layers of width {str(width)[:40]}; an "
                             f"encoder has 1-{MAX_LAYERS} layers of 1-{MAX_WIDTH}")
    return layers, width

@dataclass(frozen=True)
class Layer:
    """A layer choice, parsed once from the ``layer`` option: 'last', 'all' or a layer number.

    >>> Layer.parse(" 4 "), Layer.parse("all").is_all
    (Layer(kind='index', index=4), True)
    >>> Layer.parse("\u00b2")
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: layer must be 'last', 'all' or a layer number, not '²'
    >>> Layer.parse("middle")
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: layer must be 'last', 'all' or a layer number, not 'middle'
    """

    kind: str  # "last", "all" or "index"
    index: int = -1

    @classmethod
    def parse(cls, text) -> Layer:
        value = str(text).strip().lower()
        if value in ("last", "all"):
            return cls(value)
        if is_whole(value):
            return cls("index", int(value))
        raise FeatbenchError(f"layer must be 'last', 'all' or a layer number, not '{value}'")

    @property
    def is_all(self) -> bool:
        return self.kind == "all"

    @property
    def is_last(self) -> bool:
        return self.kind == "last"

    def check(self, n_layers: int, family: str) -> None:
        """A layer number must exist in a model with `n_layers` transformer layers (0..n_layers)."""
        if self.kind == "index" and self.index > n_layers:
            raise FeatbenchError(f"{family}.layer={self.index}: the model has layers 0..{n_layers} "
                                 f"(0 = input to the first transformer layer)")


class LoadErrors:
    """Turns any failure while loading a model (a damaged file, a wrong format) into one FeatbenchError line."""

    def __init__(self, path, option: str, what: str):
        self.path, self.option, self.what = path, option, what

    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb):
        if err is None or isinstance(err, (FeatbenchError, KeyboardInterrupt)) or not isinstance(err, Exception):
            return False
        detail = (str(err).strip().splitlines() or [""])[0][:300]
        raise FeatbenchError(f"{self.path}: cannot load the {self.what} (option {self.option}): "
                             f"{type(err).__name__}: {detail}") from None


@dataclass(frozen=True)
class EncoderOptions:
    """Options every transformer encoder family shares (``precision``: see `featbench.device.Precision`)."""

    layer: str = "last"
    chunk_seconds: float = 20.0
    overlap_seconds: float = 0.5
    precision: str = "float32"


def with_precision(config: dict, precision) -> dict:
    """A neural family's option dict with its ``precision`` (a `featbench.device.Precision`) written only where
    it is not float32, so that the config hash of every float32 store stays the one it always had.

    >>> from featbench.device import Precision
    >>> with_precision({"layer": "all", "precision": "float32"}, Precision.FLOAT32)
    {'layer': 'all'}
    >>> with_precision({"precision": "bf16"}, Precision.BFLOAT16)
    {'precision': 'bfloat16'}
    """
    config = {k: v for k, v in config.items() if k != "precision"}
    return config if precision.is_default else {**config, "precision": precision.value}
