"""Lossy codecs and the telephone channel, encoded and decoded in-process with FFmpeg's libraries through PyAV:
`mp3:BITRATE` (LAME), `opus:BITRATE` (libopus), `amr-nb:BITRATE` (OpenCORE AMR-NB at 8 kHz, its eight modes 4.75k to
12.2k) and `telephone` (band 300-3400 Hz, 8 kHz, AMR-NB at 12.2k, back to the clip's rate).

A bitrate is spelled in bit/s ('8000') or kbit/s ('8k', '12.2k'); the canonical text uses kbit/s ('mp3:8k'). The
clip is resampled (soxr) to the nearest rate the codec takes where its own is not one of them, encoded into an
in-memory file, decoded, resampled back, aligned on the input by cross-correlation (the codec's delay taken out) and
cut or zero-padded to the input's length. GSM 06.10 is not offered: the FFmpeg in PyAV's wheels decodes it but has no
encoder. The codecs are deterministic: the same clip gives the same bytes.

>>> import numpy as np
>>> from featbench.protocol.conditions import parse_condition, ConditionClip
>>> parse_condition("mp3:32000").text, parse_condition("amr-nb:12.2k").text
('mp3:32k', 'amr-nb:12.2k')
>>> x = (0.3 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
>>> y = parse_condition("telephone").apply(x, 16000, ConditionClip("u1"))
>>> y.shape, y.dtype
((16000,), dtype('float32'))
>>> parse_condition("amr-nb:9k")
Traceback (most recent call last):
featbench.errors.FeatbenchError: condition 'amr-nb:9k': AMR-NB has no 9k mode (4.75k, 5.15k, 5.9k, ...
"""
from __future__ import annotations

import io
from abc import abstractmethod
import re
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from featbench.protocol.conditions.base import Condition, ConditionClip, refuse, register, short

MAX_DELAY = 0.1
"""Longest codec delay (s) the alignment looks for."""
_BITRATE = re.compile(r"(\d+(?:\.\d+)?)(k?)")
MP3_BITRATES = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 192, 224, 256, 320)
MP3_RATES = {(8000, 11025, 12000, 16000, 22050, 24000): (8, 160), (32000, 44100, 48000): (32, 320)}
"""LAME's sample rates by MPEG version (2 and 2.5 / 1) and the bitrates (kbit/s) each takes."""
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
AMR_MODES = (4750, 5150, 5900, 6700, 7400, 7950, 10200, 12200)
TELEPHONE_BAND = (300.0, 3400.0)


def bitrate(value: str, text: str) -> int:
    """A bitrate in bit/s from '8k', '12.2k' or '8000', or the condition's one-line refusal."""
    match = _BITRATE.fullmatch(value.strip())
    if not match:
        raise refuse(text, f"bitrate '{value}' is not a number of bit/s ('8000') or kbit/s ('8k')")
    bps = float(match.group(1)) * (1000 if match.group(2) else 1)
    if bps != int(bps) or not bps > 0:
        raise refuse(text, f"bitrate '{value}' is not a whole positive number of bit/s")
    return int(bps)


def kbps(bps: int) -> str:
    return f"{short(bps / 1000)}k"


def _frames(container) -> np.ndarray:
    parts = []
    for frame in container.decode(audio=0):
        data = frame.to_ndarray()
        if np.issubdtype(data.dtype, np.integer):
            data = data / float(np.iinfo(data.dtype).max + 1)
        parts.append(data.reshape(len(frame.layout.channels), -1).mean(axis=0) if data.size else data.reshape(-1))
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, dtype=np.float32)


def roundtrip(signal: np.ndarray, rate: int, codec: str, container: str, bps: int) -> tuple[np.ndarray, int]:
    """`signal` (mono float32 at `rate`, a rate the codec takes) encoded with `codec` at `bps` into an in-memory
    `container` file and decoded back: (decoded signal, its rate). A ValueError where FFmpeg fails."""
    import av

    buffer = io.BytesIO()
    try:
        with av.open(buffer, "w", format=container) as out:
            stream = out.add_stream(codec, rate=rate, layout="mono")
            stream.bit_rate = bps
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(signal[None], dtype=np.float32), format="fltp",
                                               layout="mono")
            frame.sample_rate, frame.pts = rate, 0
            for packet in [*stream.encode(frame), *stream.encode(None)]:
                out.mux(packet)
        with av.open(io.BytesIO(buffer.getvalue()), "r") as back:
            out_rate = back.streams.audio[0].codec_context.sample_rate
            return _frames(back), int(out_rate)
    except av.FFmpegError as err:
        raise ValueError(f"{codec} at {kbps(bps)}bit/s failed on a clip of {signal.size} samples ({err})") from err


def aligned(reference: np.ndarray, decoded: np.ndarray, rate: int) -> np.ndarray:
    """`decoded` shifted back by the lag (0 to MAX_DELAY s) that best matches `reference`, cut or zero-padded to
    its length."""
    longest = int(MAX_DELAY * rate)
    padded = np.zeros(reference.size + longest, dtype=np.float64)
    padded[: min(decoded.size, padded.size)] = decoded[: padded.size]
    from scipy import signal as sps  # lazily: importing scipy.signal takes about 1 s
    score = sps.correlate(padded, reference.astype(np.float64), mode="valid", method="fft")
    lag = int(np.argmax(score)) if np.any(score) else 0
    return padded[lag: lag + reference.size].astype(np.float32)


def coded(signal: np.ndarray, rate: int, codec_rate: int, codec: str, container: str, bps: int) -> np.ndarray:
    """`signal` through the codec at `codec_rate` and back to `rate`, aligned, of the same length."""
    from featbench.audio import resample

    if not signal.size:
        raise ValueError("an empty clip cannot be encoded")
    inside = resample(np.asarray(signal, dtype=np.float32), rate, codec_rate)
    decoded, decoded_rate = roundtrip(inside, codec_rate, codec, container, bps)
    back = resample(decoded, decoded_rate, rate) if decoded.size else decoded
    return aligned(signal, back, rate)


@dataclass(frozen=True, eq=False)
class _Codec(Condition):
    bps: int
    codec: ClassVar[str] = ""
    container: ClassVar[str] = ""
    axis = "bitrate (kbit/s)"

    @classmethod
    def parse(cls, args: list[str], text: str) -> _Codec:
        if len(args) != 1:
            raise refuse(text, f"{cls.kind} takes a bitrate ({cls.forms[0]}, e.g. {cls.kind}:{cls.example})")
        return cls(cls.valid(bitrate(args[0], text), args[0], text))

    @property
    def text(self) -> str:
        return f"{self.kind}:{kbps(self.bps)}"

    @property
    def severity(self) -> float:
        return self.bps / 1000

    @abstractmethod
    def codec_rate(self, rate: int) -> int:
        """The sample rate the codec encodes a clip of `rate` Hz at."""

    def apply(self, signal: np.ndarray, rate: int, clip: ConditionClip) -> np.ndarray:
        return coded(signal, rate, self.codec_rate(rate), self.codec, self.container, self.bps)


@register
@dataclass(frozen=True, eq=False)
class Mp3(_Codec):
    """MP3 (LAME, constant bitrate) at `bps` bit/s, at the highest MPEG rate up to the clip's that takes it."""

    kind, forms, codec, container, example = "mp3", ("mp3:BITRATE",), "libmp3lame", "mp3", "8k"

    @classmethod
    def valid(cls, bps: int, value: str, text: str) -> int:
        if bps % 1000 or bps // 1000 not in MP3_BITRATES:
            raise refuse(text, f"MP3 has no {value} bitrate ({', '.join(f'{b}k' for b in MP3_BITRATES)})")
        return bps

    def codec_rate(self, rate: int) -> int:
        usable = sorted(r for rates, (low, high) in MP3_RATES.items() for r in rates if low <= self.bps // 1000 <= high)
        return max((r for r in usable if r <= rate), default=usable[0])


@register
@dataclass(frozen=True, eq=False)
class Opus(_Codec):
    """Opus (libopus, variable bitrate around `bps`) at the clip's rate where Opus takes it, else at 48 kHz."""

    kind, forms, codec, container, example = "opus", ("opus:BITRATE",), "libopus", "ogg", "16k"

    @classmethod
    def valid(cls, bps: int, value: str, text: str) -> int:
        if not 6000 <= bps <= 510000:
            raise refuse(text, f"Opus bitrate {value} is outside 6k to 510k")
        return bps

    def codec_rate(self, rate: int) -> int:
        return rate if rate in OPUS_RATES else 48000


@register
@dataclass(frozen=True, eq=False)
class AmrNb(_Codec):
    """AMR narrowband (the GSM/3G telephone speech codec) at one of its modes, at 8 kHz."""

    kind, forms, codec, container, example = "amr-nb", ("amr-nb:BITRATE",), "libopencore_amrnb", "amr", "12.2k"

    @classmethod
    def valid(cls, bps: int, value: str, text: str) -> int:
        if bps not in AMR_MODES:
            raise refuse(text, f"AMR-NB has no {value} mode ({', '.join(kbps(m) for m in AMR_MODES)})")
        return bps

    def codec_rate(self, rate: int) -> int:
        return 8000


@register
@dataclass(frozen=True, eq=False)
class Telephone(Condition):
    """A telephone line: band-pass 300-3400 Hz at 8 kHz, AMR-NB at 12.2 kbit/s, back to the clip's rate."""

    kind, forms, axis = "telephone", ("telephone",), ""

    @classmethod
    def parse(cls, args: list[str], text: str) -> Telephone:
        if args:
            raise refuse(text, "telephone takes no arguments")
        return cls()

    @property
    def text(self) -> str:
        return self.kind

    def apply(self, signal: np.ndarray, rate: int, clip: ConditionClip) -> np.ndarray:
        from featbench.audio import resample

        if not signal.size:
            raise ValueError("an empty clip cannot be encoded")
        narrow = resample(np.asarray(signal, dtype=np.float32), rate, 8000)
        from scipy import signal as sps  # lazily: importing scipy.signal takes about 1 s
        sos = sps.butter(4, TELEPHONE_BAND, btype="band", fs=8000, output="sos")
        if narrow.size <= 3 * (2 * len(sos) + 1):  # sosfiltfilt's padding
            raise ValueError(f"a clip of {signal.size} samples is too short for the telephone band")
        band = sps.sosfiltfilt(sos, narrow)
        decoded, decoded_rate = roundtrip(band.astype(np.float32), 8000, AmrNb.codec, AmrNb.container, AMR_MODES[-1])
        return aligned(signal, resample(decoded, decoded_rate, rate) if decoded.size else decoded, rate)
