"""Rooms: `room:RT60` simulates a shoebox room with pyroomacoustics (image source method), `rir:FOLDER` convolves
with measured impulse responses from a user's folder.

A room condition draws `CONFIGURATIONS` rooms from the condition seed (dimensions, absorption from Sabine's formula
for the RT60, source and microphone positions); each clip picks one with its own random source. A response is
simulated as hybrid simulators (gpuRIR) do: the direct path and early reflections by the image source method up to
`EARLY_ORDER` (no ray tracing, no randomised images), then a diffuse tail of seeded Gaussian noise decaying 60 dB in
RT60 seconds, at the level the early part reaches: deterministic, and milliseconds a room where the full image
order of a 1 s room costs seconds. The decay is then reshaped (an exponential envelope) until the RT60 measured on
the response (T30: Schroeder backward integration, -5 to -35 dB) is within 2 % of the request. Responses are cached
in the process. The convolved clip keeps its length, starts at the direct path (no propagation delay) and keeps its
power.

>>> import numpy as np
>>> from featbench.protocol.conditions import parse_condition, ConditionClip
>>> x = np.random.default_rng(0).standard_normal(8000).astype(np.float32)
>>> y = parse_condition("room:0.3").apply(x, 16000, ConditionClip("u1"))
>>> y.shape, y.dtype, round(float(np.std(y) / np.std(x)), 3)
((8000,), dtype('float32'), 1.0)
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from featbench.protocol.conditions.base import Condition, ConditionClip, number, refuse, register, short
from featbench.protocol.conditions.folder import AudioFolder, read

CONFIGURATIONS = 8
"""Rooms drawn per condition and seed: each clip gets one of them."""
RT60_RANGE = (0.25, 2.0)
"""Seconds; below 0.25 s the largest rooms drawn need walls that absorb nearly all the sound, and the simulated
decay strays more than 15 % from the request."""
ROOM_SIZE = ((6.0, 10.0), (4.0, 7.0), (3.0, 4.0))
"""Length, width and height ranges in metres (rooms of 3 m or more in height keep the image order affordable)."""
WALL_GAP = 1.0
EARLY_ORDER = 12
"""Reflections simulated image by image up to this order (the first 100 ms or so); the later, diffuse part of a
response is a seeded noise tail decaying at the RT60: the full image order of a 1 s room (about 120) costs seconds
a room, this a few milliseconds."""
TAIL_MATCH = 0.02
TAIL_LENGTH = 1.5
"""The tail runs to 1.5 RT60 (90 dB down), so that the decay measured on it is not bent by its end."""


def measure_rt60(response: np.ndarray, rate: int, decay_db: float = 30.0) -> float:
    """The RT60 (s) of an impulse response: Schroeder backward integration, line fitted from -5 dB to -5 - decay_db,
    extrapolated to 60 dB (pyroomacoustics.experimental.measure_rt60)."""
    from pyroomacoustics.experimental import measure_rt60 as measure

    return float(measure(response, fs=rate, decay_db=decay_db))


def reshaped(response: np.ndarray, rt60: float, rate: int, rounds: int = 4) -> np.ndarray:
    """`response` under an exponential envelope that brings its measured RT60 (T30) to `rt60`: each round steepens
    or flattens the decay by the difference in dB/s, until within 2 %."""
    seconds = np.arange(response.size) / rate
    for _ in range(rounds):
        measured = measure_rt60(response, rate)
        if not np.isfinite(measured) or measured <= 0 or abs(measured / rt60 - 1) < 0.02:
            break
        response = response * 10 ** (-(60 / rt60 - 60 / measured) * seconds / 20)
    return response


@functools.lru_cache(maxsize=64)
def simulated_response(rt60: float, seed: int, index: int, rate: int) -> np.ndarray:
    """Room `index` of room:rt60 under `seed`, at `rate`: its impulse response from the direct path on (image sources
    up to EARLY_ORDER, then the diffuse tail), reshaped to decay at `rt60`, at unit energy."""
    import pyroomacoustics as pra

    rng = ConditionClip(f"room#{index}", seed).rng(f"room:{short(rt60)}")
    size = np.array([rng.uniform(low, high) for low, high in ROOM_SIZE])
    source, microphone = (rng.uniform(WALL_GAP, size - WALL_GAP) for _ in range(2))
    absorption, full_order = pra.inverse_sabine(rt60, size)
    order = min(full_order, EARLY_ORDER)
    room = pra.ShoeBox(size, fs=rate, materials=pra.Material(absorption), max_order=order,
                       use_rand_ism=False, air_absorption=False, ray_tracing=False)
    room.add_source(source)
    room.add_microphone(microphone)
    room.compute_rir()
    speed, distance = pra.constants.get("c"), float(np.linalg.norm(source - microphone))
    direct = int(round(distance / speed * rate)) + (pra.constants.get("frac_delay_length") - 1) // 2
    response = np.asarray(room.rir[0][0], dtype=np.float64)[direct:]
    if order < full_order:  # every path of up to `order` reflections, i.e. every arrival before `complete`
        complete = int((order * size.min() - distance) / speed * rate)
        response = with_diffuse_tail(response[:complete], rt60, rate, rng)
    response = reshaped(response, rt60, rate)
    response /= np.sqrt(np.sum(np.square(response)))
    response.setflags(write=False)
    return response


def with_diffuse_tail(early: np.ndarray, rt60: float, rate: int, rng: np.random.Generator) -> np.ndarray:
    """`early` continued to TAIL_LENGTH x `rt60` seconds by seeded Gaussian noise decaying 60 dB in `rt60`, at the
    level of the last TAIL_MATCH seconds of `early` (the diffuse-field tail of gpuRIR and similar hybrid simulators)."""
    seconds = np.arange(max(int(TAIL_LENGTH * rt60 * rate), early.size + 1)) / rate
    envelope = 10 ** (-3 * seconds / rt60)
    window = slice(max(early.size - int(TAIL_MATCH * rate), 0), early.size)
    level = np.sqrt(np.mean(np.square(early[window])) / np.mean(np.square(envelope[window])))
    tail = level * envelope[early.size:] * rng.standard_normal(seconds.size - early.size)
    return np.concatenate([early, tail])


def reverberate(signal: np.ndarray, response: np.ndarray) -> np.ndarray:
    """`signal` convolved with `response` (which starts at its direct path), cut to the signal's length, at the
    signal's power."""
    from scipy import signal as sps  # lazily: importing scipy.signal takes about 1 s
    wet = sps.fftconvolve(signal.astype(np.float64), response)[: signal.size]
    dry_power, wet_power = float(np.mean(np.square(signal, dtype=np.float64))), float(np.mean(np.square(wet)))
    if wet_power > 0:
        wet *= np.sqrt(dry_power / wet_power)
    return wet.astype(np.float32)


@register
@dataclass(frozen=True, eq=False)
class Room(Condition):
    """A simulated shoebox room of reverberation time `rt60` seconds (one of CONFIGURATIONS rooms per clip)."""

    rt60: float
    kind, forms, axis = "room", ("room:RT60",), "RT60 (s)"

    @classmethod
    def parse(cls, args: list[str], text: str) -> Room:
        if len(args) != 1:
            raise refuse(text, "room takes a reverberation time in seconds (room:RT60)")
        return cls(number(args[0], text, "RT60 in seconds", *RT60_RANGE))

    @property
    def text(self) -> str:
        return f"room:{short(self.rt60)}"

    @property
    def severity(self) -> float:
        return self.rt60

    def response(self, rate: int, clip: ConditionClip) -> np.ndarray:
        index = int(clip.rng(self.text).integers(CONFIGURATIONS))
        return simulated_response(self.rt60, clip.seed, index, rate)

    def apply(self, signal: np.ndarray, rate: int, clip: ConditionClip) -> np.ndarray:
        return reverberate(signal, self.response(rate, clip))


def measured_response(response: np.ndarray) -> np.ndarray:
    """A measured impulse response from its direct path (its loudest sample) on, at unit energy."""
    response = np.asarray(response, dtype=np.float64)[int(np.argmax(np.abs(response))):]
    energy = float(np.sum(np.square(response)))
    if not energy > 0:
        raise ValueError("the impulse response is silent")
    return response / np.sqrt(energy)


@register
@dataclass(frozen=True, eq=False)
class MeasuredRoom(Condition):
    """Measured impulse responses from a user's folder: one per clip, seeded."""

    folder: AudioFolder
    kind, forms, axis = "rir", ("rir:FOLDER",), ""

    @classmethod
    def parse(cls, args: list[str], text: str) -> MeasuredRoom:
        if not args:
            raise refuse(text, "rir takes a folder of impulse responses (rir:FOLDER)")
        return cls(AudioFolder.scan(":".join(args), text))

    @property
    def text(self) -> str:
        return f"rir:{self.folder.root}"

    def config(self) -> dict:
        return {"condition": self.text, "files": self.folder.digest}

    def apply(self, signal: np.ndarray, rate: int, clip: ConditionClip) -> np.ndarray:
        path, _ = self.folder.pick(clip, self.text)
        return reverberate(signal, measured_response(read(path, rate)))
