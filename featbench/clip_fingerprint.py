"""What a clip sounds like once decoded, in 384 numbers: finds the same clip under another name, format or rate.

A file's byte hash (`audio.file_hash`) changes when a clip is re-encoded (FLAC -> WAV), resampled (48 kHz ->
16 kHz) or given another gain, though the model sees the same signal. A fingerprint is taken of what the model
sees: the clip decoded, down-mixed and resampled to 16 kHz (`audio.load`), cut into SEGMENTS equal parts of
its duration and BANDS log-spaced bands (100 Hz to 7 kHz, below where resamplers differ), the energy of each
cell in dB, floored FLOOR_DB under the loudest cell and centred (a gain change moves nothing). Two clips are
the same when their durations differ by at most DURATION_SLACK seconds and their cells by at most TOLERANCE_DB
on average. Measured on RAVDESS and nEMO (benchmarks/clip_fingerprints.py): a 48 kHz original and its 16 kHz
FLAC differ by 0.005 dB at most, a clip and its Ogg Vorbis or MP3 copy by 0.22 dB, while the closest two
distinct clips of 2457 (one actor's two takes of a sentence) are 0.8 dB apart. A copy trimmed or padded by
more than a few milliseconds, or with noise added, is not recognised.

No fingerprinting library fits: Chromaprint (pyacoustid) needs a C library besides pip, is built for music
of 10 s and more, and compares chroma, in which one speaker's takes of a sentence look alike.

>>> rng = np.random.default_rng(0)
>>> clip = (rng.normal(0, 0.1, 16000) * np.hanning(16000)).astype(np.float32)
>>> a = Fingerprints.of(["a", "b"], [clip, clip * 0.5])
>>> [(m.left, m.right, round(m.distance, 3)) for m in near_duplicates(a)]
[(0, 1, 0.0)]
>>> b = Fingerprints.of(["c"], [rng.normal(0, 0.1, 16000).astype(np.float32)])
>>> near_duplicates(a, b)
[]
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from featbench.audio import AudioConfig, AudioProblem, load

RATE = 16000  # every fingerprint is taken at this rate, whatever rate a store's features were computed at
SEGMENTS, BANDS, FLOOR_DB = 48, 8, 40.0
EDGES = np.geomspace(100.0, 7000.0, BANDS + 1)
TOLERANCE_DB = 0.3  # mean absolute difference of two fingerprints of one clip
DURATION_SLACK = 0.05  # seconds
_N_FFT, _HOP = 512, 256
_RADIUS = TOLERANCE_DB * SEGMENTS * BANDS  # TOLERANCE_DB as an L1 distance


def fingerprint(signal: np.ndarray, rate: int = RATE) -> np.ndarray:
    """The fingerprint of a mono signal at `rate` Hz (float32, SEGMENTS * BANDS values in dB, mean 0).

    >>> fingerprint(np.ones(4000, np.float32)).shape
    (384,)
    """
    signal = np.asarray(signal, dtype=np.float64)
    if signal.size < _N_FFT:
        signal = np.pad(signal, (0, _N_FFT - signal.size))
    frames = np.lib.stride_tricks.sliding_window_view(signal, _N_FFT)[::_HOP]
    power = np.abs(np.fft.rfft(frames * np.hanning(_N_FFT), axis=1)) ** 2
    band = np.searchsorted(EDGES, np.fft.rfftfreq(_N_FFT, 1 / rate), side="right") - 1
    inside = (band >= 0) & (band < BANDS)
    bands = np.zeros((BANDS, power.shape[0]))
    np.add.at(bands, band[inside], power[:, inside].T)
    centres = (np.arange(power.shape[0]) * _HOP + _N_FFT / 2) / max(signal.size, 1)  # a frame's place in the clip
    segment = np.minimum((centres * SEGMENTS).astype(int), SEGMENTS - 1)
    cells = np.zeros((SEGMENTS, BANDS))
    np.add.at(cells, segment, bands.T)
    db = 10 * np.log10(cells + 1e-20)
    db = np.maximum(db, db.max() - FLOOR_DB)
    return (db - db.mean()).ravel().astype(np.float32)


@dataclass(frozen=True)
class Match:
    """Clip `left` of one set and clip `right` of the other (or of the same set) sound the same."""

    left: int
    right: int
    distance: float  # mean absolute difference, dB


@dataclass(frozen=True)
class Fingerprints:
    """The fingerprints of clips: ids (n,), vectors (n, SEGMENTS * BANDS), durations (n,) in seconds, and the
    clips that could not be fingerprinted ({id: reason}: missing, unreadable, silent...)."""

    ids: tuple[str, ...]
    vectors: np.ndarray
    durations: np.ndarray
    problems: dict

    @classmethod
    def of(cls, ids: list[str], signals: list[np.ndarray], rate: int = RATE) -> Fingerprints:
        """The fingerprints of signals already decoded at `rate` Hz."""
        vectors = np.array([fingerprint(s, rate) for s in signals], np.float32).reshape(len(signals), SEGMENTS * BANDS)
        return cls(tuple(ids), vectors, np.array([s.size / rate for s in signals]), {})

    @classmethod
    def of_files(cls, ids, paths) -> Fingerprints:
        """The fingerprints of audio files (decoded as `extract` decodes them, at RATE); a clip that cannot be
        used (missing, unreadable, too short, silent: `audio.load`) is in `problems` instead."""
        config, kept, signals, problems = AudioConfig(RATE), [], [], {}
        for uid, path in zip(ids, paths):
            try:
                signals.append(load(Path(path), config))
                kept.append(str(uid))
            except (AudioProblem, OSError) as err:
                problems[str(uid)] = f"{path}: {err}"
        found = cls.of(kept, signals)
        return cls(found.ids, found.vectors, found.durations, problems)


def near_duplicates(a: Fingerprints, b: Fingerprints | None = None) -> list[Match]:
    """Every pair of clips (one of `a`, one of `b`; or two of `a` when `b` is None) that sound the same: durations
    within DURATION_SLACK, fingerprints within TOLERANCE_DB. Sorted by (left, right). A k-d tree finds the
    candidates (scipy's, in L1 distance, the duration a last coordinate), then every candidate is checked."""
    from scipy.spatial import cKDTree

    other = a if b is None else b
    if not len(a.ids) or not len(other.ids):
        return []
    tree = cKDTree(_points(a))
    if b is None:
        pairs = tree.query_pairs(2 * _RADIUS, p=1, output_type="ndarray")
    else:
        pairs = tree.sparse_distance_matrix(cKDTree(_points(b)), 2 * _RADIUS, p=1, output_type="ndarray")
        pairs = np.stack([pairs["i"], pairs["j"]], axis=1) if len(pairs) else np.zeros((0, 2), int)
    i, j = pairs[:, 0].astype(int), pairs[:, 1].astype(int)
    distance = np.abs(a.vectors[i] - other.vectors[j]).mean(axis=1)
    close = (distance <= TOLERANCE_DB) & (np.abs(a.durations[i] - other.durations[j]) <= DURATION_SLACK)
    return sorted((Match(int(x), int(y), float(d)) for x, y, d in zip(i[close], j[close], distance[close])),
                  key=lambda m: (m.left, m.right))


def _points(f: Fingerprints) -> np.ndarray:
    """A clip as a point of the k-d tree: its fingerprint and its duration, scaled so that DURATION_SLACK weighs as
    much as the whole TOLERANCE_DB."""
    return np.hstack([f.vectors.astype(np.float64), (f.durations * _RADIUS / DURATION_SLACK)[:, None]])
