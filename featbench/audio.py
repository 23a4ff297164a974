"""Decode, down-mix, resample and validate audio. Knows nothing about features.

>>> import numpy as np
>>> cfg = AudioConfig(sample_rate=16000)
>>> check_signal(np.zeros(16000, dtype=np.float32), cfg)
'silent clip (peak amplitude 0 < 1e-04)'
>>> check_signal(np.full(800, 0.1, dtype=np.float32), cfg)
'too short (0.050 s < 0.250 s)'
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class AudioConfig:
    """How every clip is turned into the signal the feature families see.

    sample_rate: target rate in Hz (clips are resampled to it).
    min_duration: clips shorter than this (seconds) are rejected.
    silence_peak: clips whose peak absolute amplitude is below this are rejected as silent.
    """

    sample_rate: int = 16000
    min_duration: float = 0.25
    silence_peak: float = 1e-4

    def to_dict(self) -> dict:
        return asdict(self)


class AudioProblem(ValueError):
    """A clip that cannot be used: unreadable, empty, too short, non-finite or silent."""


def file_hash(path: str | Path, chunk: int = 1 << 20) -> str:
    """Content hash of a file (sha256, first 16 hex digits): a changed file gets a new hash."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()[:16]


def decode(path: str | Path) -> tuple[np.ndarray, int]:
    """Read a file as float32 (frames, channels) with its native rate; soundfile first, librosa as fallback."""
    import soundfile as sf

    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        return data, int(rate)
    except sf.LibsndfileError as sf_error:
        try:
            import warnings

            import librosa

            with warnings.catch_warnings():  # librosa warns that it falls back to audioread: that is the point
                warnings.simplefilter("ignore")
                data, rate = librosa.load(str(path), sr=None, mono=False, dtype=np.float32)
        except Exception as err:  # audioread raises many unrelated types; report both causes
            detail = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
            raise AudioProblem(f"unreadable audio ({sf_error}; librosa fallback: {detail})") from err
        data = np.atleast_2d(data).T if data.ndim == 1 else data.T
        return np.ascontiguousarray(data, dtype=np.float32), int(rate)


def to_mono(data: np.ndarray) -> np.ndarray:
    """Average the channels of a (frames, channels) array."""
    return data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]


def resample(signal: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Resample with librosa's default high-quality resampler (soxr)."""
    if rate == target:
        return signal
    import librosa

    return librosa.resample(signal, orig_sr=rate, target_sr=target).astype(np.float32)


def check_signal(signal: np.ndarray, cfg: AudioConfig) -> str | None:
    """Return a one-phrase problem description, or None when the clip is usable."""
    if signal.size == 0:
        return "empty clip (0 samples)"
    if not np.all(np.isfinite(signal)):
        return f"non-finite samples ({int((~np.isfinite(signal)).sum())} NaN/inf)"
    duration = signal.size / cfg.sample_rate
    if duration < cfg.min_duration:
        return f"too short ({duration:.3f} s < {cfg.min_duration:.3f} s)"
    peak = float(np.abs(signal).max())
    if peak < cfg.silence_peak:
        return f"silent clip (peak amplitude {peak:.3g} < {cfg.silence_peak:.0e})"
    return None


def load(path: str | Path, cfg: AudioConfig = AudioConfig()) -> np.ndarray:
    """Decode, down-mix and resample one clip to a validated float32 mono signal.

    Raises AudioProblem with a short reason when the clip cannot be used.
    """
    if not Path(path).is_file():
        raise AudioProblem("missing file")
    data, rate = decode(path)
    signal = resample(to_mono(data), rate, cfg.sample_rate) if data.size else np.zeros(0, np.float32)
    problem = check_signal(signal, cfg)
    if problem:
        raise AudioProblem(problem)
    return signal
