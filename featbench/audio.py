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
import os
import struct
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from featbench.errors import FeatbenchError


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

    def __post_init__(self):
        if not 1000 <= self.sample_rate <= 384000:
            raise FeatbenchError(f"sample rate {self.sample_rate} Hz: choose a rate between 1000 and 384000 Hz (e.g. 16000)")
        if self.min_duration < 0 or self.silence_peak < 0:
            raise FeatbenchError("min_duration and silence_peak must not be negative")

    def to_dict(self) -> dict:
        return asdict(self)


class AudioProblem(ValueError):
    """A clip that cannot be used: unreadable, truncated, empty, too short, non-finite or silent."""


def file_hash(path: str | Path, chunk: int = 1 << 20) -> str:
    """Content hash of a file (sha256, first 16 hex digits): a changed file gets a new hash."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()[:16]


_UNKNOWN_DATA_SIZES = (0, 0xFFFFFFFF)  # streaming writers leave the data size open
_MAX_CHUNKS = 1024  # a sane WAV has a handful of chunks before its data


def wav_truncation(path: str | Path) -> str | None:
    """'truncated WAV: ...' when a RIFF/WAVE file holds fewer data bytes than its data chunk declares, else None.

    Reads chunk headers only, seeking over chunk bodies (odd sizes are padded to even). Files that are not
    RIFF/WAVE (RF64 included), data sizes left open by streaming writers (0, 0xFFFFFFFF) and headers too
    damaged to walk give None: decoding then reads or rejects them as before.

    >>> import tempfile, soundfile as sf
    >>> p = os.path.join(tempfile.mkdtemp(), "t.wav"); sf.write(p, np.zeros(1000, np.float32), 16000, subtype="PCM_16")
    >>> wav_truncation(p) is None
    True
    >>> os.truncate(p, 44 + 2 * 600); wav_truncation(p)
    'truncated WAV: header declares 1000 samples, file holds 600'
    """
    file_size = os.path.getsize(path)
    with open(path, "rb") as handle:
        riff = handle.read(12)
        if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
            return None
        block_align = 0
        for _ in range(_MAX_CHUNKS):
            header = handle.read(8)
            if len(header) < 8:
                return None
            chunk_id, size = struct.unpack("<4sI", header)
            if chunk_id == b"data":
                held = file_size - handle.tell()
                if size in _UNKNOWN_DATA_SIZES or held >= size:
                    return None
                if block_align:
                    return f"truncated WAV: header declares {size // block_align} samples, file holds {held // block_align}"
                return f"truncated WAV: header declares {size} data bytes, file holds {held}"
            if chunk_id == b"fmt " and size >= 14:
                fmt = handle.read(14)  # format tag, channels, rate, byte rate, block align (same in EXTENSIBLE)
                if len(fmt) < 14:
                    return None
                block_align = struct.unpack("<H", fmt[12:14])[0]
                handle.seek(size - 14 + (size & 1), os.SEEK_CUR)
            else:
                handle.seek(size + (size & 1), os.SEEK_CUR)
    return None


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
    try:
        truncated = wav_truncation(path)  # WAV only: it looks at the first 12 bytes of other files and stops
    except OSError as err:
        raise AudioProblem(f"unreadable audio ({err})") from err
    if truncated:
        raise AudioProblem(truncated)
    data, rate = decode(path)
    if data.size and not np.all(np.isfinite(data)):  # before down-mixing and resampling, which cannot take them
        raise AudioProblem(f"non-finite samples ({int((~np.isfinite(data)).sum())} NaN/inf)")
    with np.errstate(over="ignore", invalid="ignore"):  # huge float samples: the check below names them
        signal = resample(to_mono(data), rate, cfg.sample_rate) if data.size else np.zeros(0, np.float32)
    problem = check_signal(signal, cfg)
    if problem:
        raise AudioProblem(problem)
    return signal
