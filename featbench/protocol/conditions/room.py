"""Rooms: `room:RT60` simulates a shoebox room with pyroomacoustics (image source method), `rir:FOLDER` convolves
with measured impulse responses from a user's folder.

A room condition draws `CONFIGURATIONS` rooms from the condition seed (dimensions, absorption from Sabine's formula
for the RT60, source and microphone positions); each clip picks one with its own random source. The image source
method alone (no ray tracing, no randomised images) makes every response deterministic; its shoebox decays a little
slower than Sabine predicts, so the response's decay is then reshaped (an exponential envelope) until the RT60
measured on it (T30: Schroeder backward integration, -5 to -35 dB) is within 2 % of the request. Responses are cached in the process. The convolved clip keeps its length,
starts at the direct path (no propagation delay) and keeps its power.

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
from scipy import signal as sps

from featbench.protocol.conditions.base import Condition, ConditionClip, number, refuse, register, short
from featbench.protocol.conditions.folder import AudioFolder, read

CONFIGURATIONS = 8
"""Rooms drawn per condition and seed: each clip gets one of them."""
RT60_RANGE = (0.1, 2.0)
ROOM_SIZE = ((6.0, 10.0), (4.0, 7.0), (3.0, 4.0))
"""Length, width and height ranges in metres (rooms of 3 m or more in height keep the image order affordable)."""
WALL_GAP = 1.0


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
    """Room `index` of room:rt60 under `seed`, at `rate`: its impulse response from the direct path on, reshaped to
    decay at `rt60`, at unit energy."""
    import pyroomacoustics as pra

    rng = ConditionClip(f"room#{index}", seed).rng(f"room:{short(rt60)}")
    size = np.array([rng.uniform(low, high) for low, high in ROOM_SIZE])
    source, microphone = (rng.uniform(WALL_GAP, size - WALL_GAP) for _ in range(2))
    absorption, max_order = pra.inverse_sabine(rt60, size)
    room = pra.ShoeBox(size, fs=rate, materials=pra.Material(absorption), max_order=max_order,
                       use_rand_ism=False, air_absorption=False, ray_tracing=False)
    room.add_source(source)
    room.add_microphone(microphone)
    room.compute_rir()
    response = np.asarray(room.rir[0][0], dtype=np.float64)
    direct = int(round(np.linalg.norm(source - microphone) / pra.constants.get("c") * rate)) + (
        pra.constants.get("frac_delay_length") - 1) // 2
    response = reshaped(response[direct:], rt60, rate)
    response /= np.sqrt(np.sum(np.square(response)))
    response.setflags(write=False)
    return response


def reverberate(signal: np.ndarray, response: np.ndarray) -> np.ndarray:
    """`signal` convolved with `response` (which starts at its direct path), cut to the signal's length, at the
    signal's power."""
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
