"""Channel conditions that need no model of the world: `gain:DB` (level change), `clip:PERCENT` (hard clipping of
the loudest PERCENT % of samples), `lowpass:HZ` (an 8th-order Butterworth low-pass, zero phase).

>>> import numpy as np
>>> from featbench.protocol.conditions import parse_condition, ConditionClip
>>> x = np.linspace(-1, 1, 101).astype(np.float32)
>>> round(float(np.abs(parse_condition("gain:-6").apply(x, 16000, ConditionClip("u"))).max()), 3)
0.501
>>> round(float(parse_condition("clip:10").apply(x, 16000, ConditionClip("u")).max()), 2)
0.9
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featbench.protocol.conditions.base import Condition, ConditionClip, number, refuse, register, short


@register
@dataclass(frozen=True, eq=False)
class Gain(Condition):
    """A level change of `db` decibels (no clipping: the features see the scaled floats)."""

    db: float
    kind, forms, axis = "gain", ("gain:DB",), "gain (dB)"

    @classmethod
    def parse(cls, args: list[str], text: str) -> Gain:
        if len(args) != 1:
            raise refuse(text, "gain takes a level change in dB (gain:DB)")
        return cls(number(args[0], text, "gain in dB", -60, 40))

    @property
    def text(self) -> str:
        return f"gain:{short(self.db)}"

    @property
    def severity(self) -> float:
        return self.db

    def apply(self, signal: np.ndarray, rate: int, clip: ConditionClip) -> np.ndarray:
        return (signal * np.float32(10 ** (self.db / 20))).astype(np.float32)


@register
@dataclass(frozen=True, eq=False)
class Clip(Condition):
    """Hard clipping: samples beyond the (100 - percent)th percentile of |x| are cut to it."""

    percent: float
    kind, forms, axis = "clip", ("clip:PERCENT",), "clipped samples (%)"

    @classmethod
    def parse(cls, args: list[str], text: str) -> Clip:
        if len(args) != 1:
            raise refuse(text, "clip takes the percentage of samples clipped (clip:PERCENT)")
        return cls(number(args[0], text, "clipped percentage", 0, 100, low_open=True))

    @property
    def text(self) -> str:
        return f"clip:{short(self.percent)}"

    @property
    def severity(self) -> float:
        return self.percent

    def apply(self, signal: np.ndarray, rate: int, clip: ConditionClip) -> np.ndarray:
        level = np.percentile(np.abs(signal), 100 - self.percent)
        return np.clip(signal, -level, level).astype(np.float32)


@register
@dataclass(frozen=True, eq=False)
class Lowpass(Condition):
    """An 8th-order Butterworth low-pass at `hz`, applied forwards and backwards (zero phase)."""

    hz: float
    kind, forms, axis = "lowpass", ("lowpass:HZ",), "cut-off (Hz)"

    @classmethod
    def parse(cls, args: list[str], text: str) -> Lowpass:
        if len(args) != 1:
            raise refuse(text, "lowpass takes a cut-off in Hz (lowpass:HZ)")
        return cls(number(args[0], text, "cut-off in Hz", 50, 192000))

    @property
    def text(self) -> str:
        return f"lowpass:{short(self.hz)}"

    @property
    def severity(self) -> float:
        return self.hz

    def apply(self, signal: np.ndarray, rate: int, clip: ConditionClip) -> np.ndarray:
        if self.hz >= rate / 2:
            raise ValueError(f"lowpass at {short(self.hz)} Hz is at or above the Nyquist rate of {rate} Hz audio")
        from scipy import signal as sps  # lazily: importing scipy.signal takes about 1 s
        sos = sps.butter(8, self.hz, btype="low", fs=rate, output="sos")
        return sps.sosfiltfilt(sos, signal).astype(np.float32)
