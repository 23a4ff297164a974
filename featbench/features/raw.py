"""The raw waveform at the audio sample rate, one column.

>>> import numpy as np
>>> from featbench.features import build_family
>>> build_family("raw").extract(np.ones(5, np.float32), 16000).shape
(5, 1)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featbench.features.base import FeatureFamily
from featbench.row_kinds import RowKind


@dataclass(frozen=True)
class RawConfig:
    pass


class RawWaveform(FeatureFamily):
    name = "raw"
    description = "raw waveform samples (16 kHz by default), for learnable front ends"
    Config = RawConfig
    # float16 keeps 11 significant bits, fewer than the 16-bit PCM the corpora come in: samples above 1/8
    # of full scale would be rounded more coarsely than in the source file, changing the waveform a
    # learnable front end sees. A waveform store is a copy of the audio; it is kept exact.
    float16_refused = "the waveform is kept as float32 (float16 keeps 11 significant bits, fewer than 16-bit audio)"

    @property
    def columns(self) -> list[str]:
        return ["sample"]

    @property
    def row_kind(self) -> RowKind:
        return RowKind.WAVEFORM

    @property
    def frame_rate(self) -> float:
        return float(self.audio.sample_rate)

    def extract(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        return np.asarray(signal, dtype=np.float32).reshape(-1, 1)
