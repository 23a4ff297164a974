"""Log-Mel filter banks through librosa (default 80 bands, 25 ms window, 10 ms hop).

>>> import numpy as np
>>> from featbench.features import build_family
>>> build_family("fbank").extract(np.zeros(16000, np.float32) + 0.01, 16000).shape
(101, 80)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featbench.errors import FeatbenchError
from featbench.features.base import FeatureFamily


@dataclass(frozen=True)
class FbankConfig:
    n_mels: int = 80
    win_ms: float = 25.0
    hop_ms: float = 10.0
    n_fft: int = 512
    fmin: float = 0.0
    fmax: float = 0.0  # 0 means sample_rate / 2
    log_floor: float = 1e-10
    center: bool = True


class Fbank(FeatureFamily):
    name = "fbank"
    description = "log-Mel filter banks (librosa), 80 bands, 25 ms / 10 ms by default"
    Config = FbankConfig

    def validate(self) -> None:
        c = self.config
        win = int(round(c.win_ms * self.audio.sample_rate / 1000))
        if win > c.n_fft:
            raise FeatbenchError(f"fbank: window {win} samples exceeds n_fft {c.n_fft}; raise n_fft")
        if c.n_mels < 1 or c.hop_ms <= 0 or c.log_floor <= 0:
            raise FeatbenchError("fbank: n_mels >= 1, hop_ms > 0 and log_floor > 0 are required")

    @property
    def columns(self) -> list[str]:
        return [f"mel_{i:03d}" for i in range(self.config.n_mels)]

    @property
    def frame_rate(self) -> float:
        return 1000.0 / self.config.hop_ms

    def library_versions(self) -> dict[str, str]:
        import librosa

        return {"librosa": librosa.__version__}

    def extract(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        import librosa

        c = self.config
        mel = librosa.feature.melspectrogram(
            y=signal, sr=sample_rate, n_fft=c.n_fft,
            win_length=int(round(c.win_ms * sample_rate / 1000)),
            hop_length=int(round(c.hop_ms * sample_rate / 1000)),
            n_mels=c.n_mels, fmin=c.fmin, fmax=c.fmax or None, center=c.center, power=2.0,
        )
        return np.log(np.maximum(mel, c.log_floor)).T.astype(np.float32)
