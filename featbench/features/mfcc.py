"""MFCCs through librosa: what ``librosa.feature.mfcc`` computes on the mel options shared with `fbank`
(default 80 bands, 25 ms window, 10 ms hop: 100 frames a second), optionally with deltas and per-utterance
mean/variance normalisation.

Options (besides the mel options of featbench.features.mel.MelConfig):
- ``n_mfcc`` (13): coefficients kept (DCT-II, orthonormal, of the log-power mel spectrogram in dB:
  ``librosa.power_to_db`` with floor ``log_floor`` and librosa's ``top_db=80``, as librosa.feature.mfcc)
- ``deltas`` (0, 1 or 2): append the first (``d1_mfcc_k``) and second (``d2_mfcc_k``) order deltas
  (``librosa.feature.delta``, window ``delta_width`` frames, 9 by default: a clip needs that many frames)
- ``cmvn`` (false): per-utterance cepstral mean and variance normalisation of every column (after the deltas)

>>> import numpy as np
>>> from featbench.features import build_family
>>> family = build_family("mfcc", {"deltas": 2})
>>> family.extract(np.zeros(16000, np.float32) + 0.01, 16000).shape, family.columns[13], family.columns[-1]
((101, 39), 'd1_mfcc_0', 'd2_mfcc_12')
>>> build_family("mfcc", {"deltas": 3})
Traceback (most recent call last):
featbench.errors.FeatbenchError: mfcc.deltas=3: choose 0 (none), 1 (deltas) or 2 (deltas and delta-deltas)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featbench.errors import FeatbenchError
from featbench.features.mel import MelConfig, MelFamily

MAX_DELTA_MS = 60_000  # a delta window over more audio than this is a mistake (and the warm-up clip would hold it)


@dataclass(frozen=True)
class MfccConfig(MelConfig):
    n_mfcc: int = 13
    deltas: int = 0
    delta_width: int = 9
    cmvn: bool = False


class Mfcc(MelFamily):
    name = "mfcc"
    description = ("MFCCs (librosa.feature.mfcc), 13 of 80 mel bands, 25 ms / 10 ms by default; "
                   "deltas=1|2 appends deltas, cmvn=true normalises each utterance")
    Config = MfccConfig

    def validate(self) -> None:
        c = self.config
        if not 1 <= c.n_mfcc <= c.n_mels:
            raise FeatbenchError(f"mfcc.n_mfcc={c.n_mfcc}: must be between 1 and n_mels ({c.n_mels})")
        if c.deltas not in (0, 1, 2):
            raise FeatbenchError(f"mfcc.deltas={c.deltas}: choose 0 (none), 1 (deltas) or 2 (deltas and delta-deltas)")
        if c.delta_width < 3 or c.delta_width % 2 == 0:
            raise FeatbenchError(f"mfcc.delta_width={c.delta_width}: must be an odd number of frames, at least 3")
        if c.deltas and c.delta_width * c.hop_ms > MAX_DELTA_MS:
            raise FeatbenchError(f"mfcc.delta_width={c.delta_width}: {c.delta_width} frames of hop_ms={c.hop_ms:g} span "
                                 f"{c.delta_width * c.hop_ms / 1000:g} s, more than {MAX_DELTA_MS // 1000} s of audio; "
                                 "lower delta_width or hop_ms")
        super().validate()

    @property
    def min_frames(self) -> int:
        """A clip needs `delta_width` frames when deltas are asked for."""
        return self.config.delta_width if self.config.deltas else 1

    @property
    def columns(self) -> list[str]:
        names = [f"mfcc_{i}" for i in range(self.config.n_mfcc)]
        return names + [f"d{order}_{n}" for order in range(1, self.config.deltas + 1) for n in names]

    def extract(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        from librosa.core.fft import get_fftlib
        from librosa.core.spectrum import power_to_db

        c = self.config
        log_mel = power_to_db(self.mel_power(signal, sample_rate), amin=c.log_floor)
        mfcc = get_fftlib().dct(log_mel, axis=-2, type=2, norm="ortho")[:c.n_mfcc]  # as librosa.feature.mfcc
        blocks = [mfcc] + [self._delta(mfcc, order) for order in range(1, c.deltas + 1)]
        features = np.concatenate(blocks).T
        if c.cmvn:
            from sklearn.preprocessing import scale

            features = scale(features.astype(np.float64))  # a constant column is centred, not scaled
        return features.astype(np.float32)

    def _delta(self, mfcc: np.ndarray, order: int) -> np.ndarray:
        """librosa.feature.delta along time; a ValueError (that clip's failure) for a clip shorter than its window."""
        from librosa.feature.utils import delta

        width = self.config.delta_width
        if mfcc.shape[1] < width:
            raise ValueError(f"mfcc.deltas: the clip has {mfcc.shape[1]} frames, fewer than delta_width={width}; "
                             "lower mfcc.delta_width (odd, >= 3) or set mfcc.deltas=0")
        return delta(mfcc, width=width, order=order, axis=-1)
