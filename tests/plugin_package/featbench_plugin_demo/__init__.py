"""A featbench plug-in family: per-frame log energy and zero-crossing rate (25 ms windows every 10 ms).

>>> import numpy as np
>>> EnergyZcr().extract(np.ones(16000, np.float32), 16000).shape
(98, 2)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featbench.errors import FeatbenchError
from featbench.features import FeatureFamily


@dataclass(frozen=True)
class EnergyZcrConfig:
    """The family's options (``--set energy-zcr.hop_ms=20``); every field needs a default."""

    win_ms: float = 25.0
    hop_ms: float = 10.0


def frames(signal: np.ndarray, win: int, hop: int) -> np.ndarray:
    """The signal cut into windows of `win` samples every `hop` samples: (frames, win)."""
    signal = np.pad(signal, (0, max(0, win - len(signal))))
    return np.lib.stride_tricks.sliding_window_view(signal, win)[::hop]


class EnergyZcr(FeatureFamily):
    name = "energy-zcr"  # must equal the entry point's name
    description = "per-frame log energy and zero-crossing rate (example plug-in)"
    Config = EnergyZcrConfig

    def validate(self) -> None:
        if self.config.win_ms <= 0 or self.config.hop_ms <= 0:
            raise FeatbenchError(f"{self.name}: win_ms and hop_ms must be positive")

    @property
    def columns(self) -> list[str]:
        return ["log_energy", "zcr"]

    @property
    def frame_rate(self) -> float:
        return 1000.0 / self.config.hop_ms

    def extract(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        win = max(1, round(self.config.win_ms * sample_rate / 1000))
        hop = max(1, round(self.config.hop_ms * sample_rate / 1000))
        x = frames(np.asarray(signal, np.float64), win, hop)
        energy = np.log(np.mean(x ** 2, axis=1) + 1e-10)
        zcr = np.mean(np.signbit(x[:, 1:]) != np.signbit(x[:, :-1]), axis=1)
        return np.stack([energy, zcr], axis=1).astype(np.float32)
