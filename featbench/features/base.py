"""The protocol every feature family implements, and its stable config hash.

`FeatureFamily` is public: families of other packages subclass it and reach featbench through the
``featbench.families`` entry-point group (`featbench.features.plugins`; the contract, with an example that
runs, is docs/plugins.md; ``featbench families --check NAME`` tests a family against it).

A family turns one validated mono signal into a float32 array of shape (frames, dim)
(utterance-level families return one row). A family never writes files.

What a family reads is its `input` (an InputKind): AUDIO (the default: `extract(signal, sample_rate)`)
or TEXT (a TextFeatureFamily: `extract_text(texts)` on each utterance's transcript, and `row_tokens`,
the token each output row stands for). Extraction decodes audio only for clips an AUDIO family needs.

Besides its own options, every family takes the storage options `dtype` and `pooled` (`storage`, see
featbench.features.storage): how the store keeps its features. They enter the config hash only when
they differ from the defaults, so stores of the default form keep their hash.

>>> from featbench.features import build_family
>>> fam = build_family("fbank", {"n_mels": 40})
>>> fam.dim, fam.frame_rate, fam.columns[:2]
(40, 100.0, ['mel_000', 'mel_001'])
>>> fam.config_hash() == build_family("fbank", {"n_mels": 40}).config_hash() != build_family("fbank").config_hash()
True
>>> build_family("fbank", {"dtype": "float16"}).config_hash() != build_family("fbank").config_hash()
True
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from abc import ABC, abstractmethod
from enum import Enum
from typing import ClassVar

import numpy as np

from featbench.audio import AudioConfig
from featbench.device import CPU, Device, place
from featbench.errors import FeatbenchError
from featbench.features.storage import Storage
from featbench.options import coerce_option  # noqa: F401 (re-exported: families' option parsing)
from featbench.row_kinds import RowKind


class InputKind(str, Enum):
    """What a family reads for each utterance.

    - AUDIO: the decoded, validated signal (`FeatureFamily.extract`)
    - TEXT: the utterance's transcript (`TextFeatureFamily.extract_text`); its audio is never decoded
    """

    AUDIO = "audio"
    TEXT = "text"


class FeatureFamily(ABC):
    """Base class: subclasses set `name`, `Config` (a frozen dataclass) and implement the properties and `extract`."""

    name: ClassVar[str]
    Config: ClassVar[type]
    plugin_origin: ClassVar[dict[str, str]] = {}  # {distribution: version} of a plug-in (set by `plugins.discover`)
    description: ClassVar[str] = ""
    input: ClassVar[InputKind] = InputKind.AUDIO
    float16_refused: ClassVar[str] = ""  # why dtype=float16 is refused for this family ("": allowed)
    accelerated: ClassVar[bool] = False  # runs a torch network: takes a device (`use_device`) and a precision option
    device: Device = CPU

    def __init__(self, options: dict | None = None, audio: AudioConfig = AudioConfig()):
        fields = {f.name: f for f in dataclasses.fields(self.Config)}
        options = dict(options or {})
        self.storage = Storage.pop(self.name, options)
        unknown = sorted(set(options) - set(fields))
        if unknown:
            raise FeatbenchError(
                f"family '{self.name}' has no option '{unknown[0]}'; options: {', '.join([*fields, *Storage.OPTIONS])}"
            )
        typed = {k: coerce_option(self.name, k, v, type(fields[k].default)) for k, v in options.items()}
        self.config = self.Config(**typed)
        self.audio = audio
        self.validate()
        self.storage.check(self)

    def validate(self) -> None:  # noqa: B027 (optional hook: most families have nothing to check)
        """Raise FeatbenchError for an invalid option combination (at construction, not mid-run)."""

    def load(self) -> None:  # noqa: B027 (optional hook: most families load nothing heavy)
        """Load what is heavy (a model, a native library) now, so that the first clip is not slow."""

    def use_device(self, device: Device) -> None:
        """Run on `device` (a resolved `featbench.device.Device`) from now on; where the work runs is no part of
        the features' identity (the config hash). Families without a network (`accelerated` False) stay on the CPU."""
        if self.accelerated:
            self.device = device
            if getattr(self, "_model", None) is not None:  # loaded already (a torch module): it moves too
                self._model = place(self._model, device)

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

    @property
    def row_kind(self) -> RowKind:
        """What one row of the output is (stored with the features, so that nobody parses column names)."""
        return RowKind.UTTERANCE if self.frame_rate == 0.0 else RowKind.FRAMES

    @property
    def n_layers(self) -> int:
        """0 for one representation; the number of layers an all-layer output holds side by side."""
        return 0

    def library_versions(self) -> dict[str, str]:
        """Versions of the libraries whose output this family depends on (part of the config hash)."""
        return {}

    def config_dict(self) -> dict:
        return dataclasses.asdict(self.config)

    def identity(self) -> dict:
        """What makes the features what they are: family name, options, audio settings, library versions (and a
        plug-in's own distribution and version)."""
        return {"family": self.name, "config": self.config_dict(), "audio": self.audio.to_dict(),
                "versions": {**self.library_versions(), **self.plugin_origin}}

    def config_hash(self) -> str:
        """Stable hash of `identity`, plus the storage form where it is not the default (12 hex digits)."""
        identity = self.identity()
        if self.storage.config():  # only then: stores of the default form keep the hash they always had
            identity["storage"] = self.storage.config()
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]

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


class TextFeatureFamily(FeatureFamily):
    """A family whose input is each utterance's transcript (``input = InputKind.TEXT``).

    Subclasses implement `extract_text` (one transcript at a time: the reference), `extract_text_batch`
    (several at once, exactly or within float rounding of `extract_text`) and `row_tokens` (the token
    string each output row stands for, so that the store can keep them beside the rows).
    """

    input: ClassVar[InputKind] = InputKind.TEXT

    def extract(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        raise TypeError(f"family '{self.name}' reads transcripts, not audio: use extract_text")

    @abstractmethod
    def extract_text(self, texts: list[str]) -> list[np.ndarray]:
        """Features of each transcript, encoded one at a time: float32 (rows, dim) each."""

    def extract_text_batch(self, texts: list[str]) -> list[np.ndarray]:
        """Features of several transcripts at once; one by one unless a family can batch."""
        return self.extract_text(texts)

    @abstractmethod
    def row_tokens(self, texts: list[str]) -> list[list[str]]:
        """For each transcript, the token each row of its features stands for (as many as rows)."""
