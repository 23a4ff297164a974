"""Additive noise at a signal-to-noise ratio measured on active speech: `white:SNR`, `pink:SNR` (power falling as
1/f) and `brown:SNR` (as 1/f^2), each seeded per clip; babble and a user's noise folder live in `babble` and `folder`.

The SNR is that of the clip's active speech (the non-silent intervals `librosa.effects.split` finds 40 dB below
the clip's peak, the usual stand-in for ITU-T P.56's active speech level) to the noise's mean power over the clip.
A clip with no active speech cannot be given an SNR: its failure (ValueError) goes to errors.csv.

>>> import numpy as np
>>> from featbench.protocol.conditions import parse_condition, ConditionClip
>>> t = np.arange(16000) / 16000
>>> speech = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
>>> noisy = parse_condition("white:10").apply(speech, 16000, ConditionClip("u1"))
>>> round(float(snr_db(speech, noisy - speech, 16000)), 2)
10.0
>>> noisy = parse_condition("pink:5").apply(speech, 16000, ConditionClip("u1"))
>>> round(float(snr_db(speech, noisy - speech, 16000)), 2)
5.0
"""
from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np

from featbench.protocol.conditions.base import Condition, ConditionClip, number, refuse, register, short

TOP_DB = 40.0
"""Frames quieter than this many dB below the clip's peak are not active speech (librosa.effects.split)."""
SNR_RANGE = (-20.0, 60.0)
MIN_ACTIVE_SECONDS = 0.1
"""Less active speech than this cannot be given an SNR: the clip's failure (errors.csv)."""
MIN_ACTIVE_DBFS = -60.0
"""Active speech quieter than this (its mean power, dB re full scale) is near-silence: the clip's failure."""


def active_speech(signal: np.ndarray, rate: int) -> np.ndarray:
    """The samples of `signal`'s active speech, concatenated; a ValueError where there is none."""
    intervals = librosa.effects.split(np.asarray(signal, dtype=np.float32), top_db=TOP_DB,
                                      frame_length=int(0.032 * rate), hop_length=int(0.008 * rate))
    active = np.concatenate([signal[a:b] for a, b in intervals]) if len(intervals) else signal[:0]
    if not active.size or not np.any(active):
        raise ValueError("no active speech to measure an SNR on (a silent clip)")
    if active.size < MIN_ACTIVE_SECONDS * rate:
        raise ValueError(f"too little active speech for an SNR ({active.size / rate:.3f} s < {MIN_ACTIVE_SECONDS} s)")
    level = 10 * np.log10(float(np.mean(np.square(active.astype(np.float64)))))
    if level < MIN_ACTIVE_DBFS:
        raise ValueError(f"active speech at {level:.1f} dBFS, below {MIN_ACTIVE_DBFS:g} dBFS: too quiet for an SNR "
                         "(a near-silent clip)")
    return active


def snr_db(speech: np.ndarray, added: np.ndarray, rate: int) -> float:
    """The SNR of `speech` (its active speech's power) to `added` (its mean power over the clip), in dB."""
    power = float(np.mean(np.square(active_speech(speech, rate).astype(np.float64))))
    return 10 * np.log10(power / float(np.mean(np.square(added.astype(np.float64)))))


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr: float, rate: int) -> np.ndarray:
    """`speech` plus `noise` (as long as it) scaled to `snr` dB below its active speech level."""
    if noise.shape != speech.shape:
        raise ValueError(f"noise of {noise.size} samples for a clip of {speech.size}")
    noise_power = float(np.mean(np.square(noise.astype(np.float64))))
    if not noise_power > 0:
        raise ValueError("the noise is silent: no SNR can be reached")
    speech_power = float(np.mean(np.square(active_speech(speech, rate).astype(np.float64))))
    scale = np.sqrt(speech_power / (noise_power * 10 ** (snr / 10)))
    return (speech.astype(np.float64) + scale * noise).astype(np.float32)


def _snr(args: list[str], text: str, kind: str, what: str = "SNR") -> float:
    if len(args) != 1:
        raise refuse(text, f"{kind} takes {what} in dB ({kind}:SNR)")
    return number(args[0], text, "SNR in dB", *SNR_RANGE)


@register
@dataclass(frozen=True, eq=False)
class White(Condition):
    """Gaussian white noise at `snr` dB on active speech."""

    snr: float
    kind, forms, axis = "white", ("white:SNR",), "SNR (dB)"

    @classmethod
    def parse(cls, args: list[str], text: str) -> White:
        return cls(_snr(args, text, cls.kind))

    @property
    def text(self) -> str:
        return f"{self.kind}:{short(self.snr)}"

    @property
    def severity(self) -> float:
        return self.snr

    def apply(self, signal: np.ndarray, rate: int, clip: ConditionClip) -> np.ndarray:
        return mix_at_snr(signal, clip.rng(self.text).standard_normal(signal.size), self.snr, rate)


def coloured_noise(rng: np.random.Generator, size: int, exponent: float) -> np.ndarray:
    """Gaussian noise of `size` samples whose power falls as 1/f**exponent (0 white, 1 pink, 2 brown): white noise
    shaped in the frequency domain (over a fast transform length, then cut), the DC bin removed, at unit variance."""
    from scipy import fft

    length = fft.next_fast_len(size, real=True)  # a clip's length may have large prime factors: slow transforms
    spectrum = fft.rfft(rng.standard_normal(length))
    frequency = np.arange(spectrum.size, dtype=np.float64)
    frequency[0] = np.inf  # no DC: a brown walk's offset is not noise
    shaped = fft.irfft(spectrum / frequency ** (exponent / 2), n=length)[:size]
    deviation = float(np.std(shaped))
    if not deviation > 0:
        raise ValueError(f"a clip of {size} samples is too short to carry coloured noise")
    return shaped / deviation


@register
@dataclass(frozen=True, eq=False)
class Pink(White):
    """Pink noise (power as 1/f) at `snr` dB on active speech."""

    kind, forms, axis = "pink", ("pink:SNR",), "SNR (dB)"
    exponent = 1.0

    def apply(self, signal: np.ndarray, rate: int, clip: ConditionClip) -> np.ndarray:
        noise = coloured_noise(clip.rng(self.text), signal.size, self.exponent)
        return mix_at_snr(signal, noise, self.snr, rate)


@register
@dataclass(frozen=True, eq=False)
class Brown(Pink):
    """Brown (red) noise (power as 1/f^2) at `snr` dB on active speech."""

    kind, forms, axis = "brown", ("brown:SNR",), "SNR (dB)"
    exponent = 2.0
