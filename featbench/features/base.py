"""The protocol every feature family implements, and its stable config hash.

A family turns one validated mono signal into a float32 array of shape (frames, dim)
(utterance-level families return one row). A family never writes files.

>>> from featbench.features import build_family
>>> fam = build_family("fbank", {"n_mels": 40})
>>> fam.dim, fam.frame_rate, fam.columns[:2]
(40, 100.0, ['mel_000', 'mel_001'])
>>> fam.config_hash() == build_family("fbank", {"n_mels": 40}).config_hash() != build_family("fbank").config_hash()
True
"""
from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
import hashlib
import json
from typing import Any, ClassVar

import numpy as np

from featbench.audio import AudioConfig
from featbench.errors import FeatbenchError


def _coerce(value: Any, to_type: type) -> Any:
    if isinstance(value, str) and to_type in (int, float):
        return to_type(value)
    if isinstance(value, str) and to_type is bool:
        return value.lower() in ("1", "true", "yes", "on")
    return value


class FeatureFamily(ABC):
    """Base class: subclasses set `name`, `Config` (a frozen dataclass) and implement the properties and `extract`."""

    name: ClassVar[str]
    Config: ClassVar[type]
    description: ClassVar[str] = ""

    def __init__(self, options: dict | None = None, audio: AudioConfig = AudioConfig()):
        fields = {f.name: f for f in dataclasses.fields(self.Config)}
        options = dict(options or {})
        unknown = sorted(set(options) - set(fields))
        if unknown:
            raise FeatbenchError(
                f"family '{self.name}' has no option '{unknown[0]}'; options: {', '.join(fields) or 'none'}"
            )
        typed = {k: _coerce(v, type(fields[k].default)) for k, v in options.items()}
        self.config = self.Config(**typed)
        self.audio = audio
        self.validate()

    def validate(self) -> None:
        """Raise FeatbenchError for an invalid option combination (at construction, not mid-run)."""

    # -- description -------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return len(self.columns)

    @property
    @abstractmethod
    def columns(self) -> list[str]:
        """One name per feature dimension."""

    @property
    @abstractmethod
    def frame_rate(self) -> float:
        """Frames per second; 0.0 for utterance-level families (one row per utterance)."""

    def library_versions(self) -> dict[str, str]:
        """Versions of the libraries whose output this family depends on (part of the config hash)."""
        return {}

    def config_dict(self) -> dict:
        return dataclasses.asdict(self.config)

    def config_hash(self) -> str:
        """Stable hash of family name, options, audio settings and library versions (12 hex digits)."""
        blob = json.dumps(
            {"family": self.name, "config": self.config_dict(), "audio": self.audio.to_dict(),
             "versions": self.library_versions()},
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    # -- work ----------------------------------------------------------------------------------
    @abstractmethod
    def extract(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        """Features of one clip, float32 (frames, dim)."""

    def extract_batch(self, signals: list[np.ndarray], sample_rate: int) -> list[np.ndarray]:
        """Features of several clips (similar lengths, see `featbench extract --batch-size`); one by one
        unless a family can batch exactly."""
        return [self.extract(signal, sample_rate) for signal in signals]

    def __getstate__(self):
        # Heavy handles (openSMILE, torch models) are rebuilt lazily after pickling.
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
