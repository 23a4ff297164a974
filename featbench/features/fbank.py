"""Log-Mel filter banks through librosa (default 80 bands, 25 ms window, 10 ms hop).

>>> import numpy as np
>>> from featbench.features import build_family
>>> build_family("fbank").extract(np.zeros(16000, np.float32) + 0.01, 16000).shape
(101, 80)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featbench.features.mel import MelConfig, MelFamily


@dataclass(frozen=True)
class FbankConfig(MelConfig):
    """fbank's options: the mel options (featbench.features.mel.MelConfig), nothing else."""


class Fbank(MelFamily):
    name = "fbank"
    description = "log-Mel filter banks (librosa), 80 bands, 25 ms / 10 ms by default"
    Config = FbankConfig

    @property
    def columns(self) -> list[str]:
        return [f"mel_{i:03d}" for i in range(self.config.n_mels)]

    def extract(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        mel = self.mel_power(signal, sample_rate)
        return np.log(np.maximum(mel, self.config.log_floor)).T.astype(np.float32)
