"""Surface: audio files a corpus hands featbench (WAV, FLAC, OGG; damaged, truncated, lying headers, odd rates).

The contract of one clip: `featbench.audio.load` returns a finite mono float32 signal at the configured rate, or
refuses it with an AudioProblem (the clip then goes to errors.csv; the run goes on). Never another exception,
never a hang, never a huge allocation from a header's claims.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
import soundfile as sf

from hostile.contract import Case, Surface, campaign, cases_budget, mutate

FORMATS = (("WAV", "PCM_16", ".wav"), ("WAV", "FLOAT", ".wav"), ("FLAC", "PCM_16", ".flac"), ("OGG", "VORBIS", ".ogg"))


def _clip(rng: random.Random, fmt: str, subtype: str) -> bytes:
    rate = rng.choice((8000, 16000, 22050, 44100, 48000))
    channels = rng.choice((1, 1, 2))
    t = np.arange(int(rate * rng.uniform(0.3, 0.8))) / rate
    x = 0.3 * np.sin(2 * np.pi * rng.uniform(100, 400) * t)
    data = np.stack([x] * channels, axis=1) if channels > 1 else x
    buffer = io.BytesIO()
    sf.write(buffer, data.astype(np.float32), rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def _is_usable_signal(signal) -> bool:
    return (
        isinstance(signal, np.ndarray)
        and signal.ndim == 1
        and signal.dtype == np.float32
        and signal.size > 0
        and bool(np.all(np.isfinite(signal)))
    )


def audio_cases(rng: random.Random, workdir: Path):
    from featbench.audio import AudioConfig, AudioProblem, load

    cfg = AudioConfig()
    i = 0
    while True:
        fmt, subtype, suffix = rng.choice(FORMATS)
        data = _clip(rng, fmt, subtype)
        for _ in range(rng.randrange(1, 3)):
            data = mutate(data, rng)
        path = workdir / f"clip{i}{suffix}"
        path.write_bytes(data)
        i += 1
        yield Case(
            f"{path.name} ({len(data)} bytes)",
            lambda path=path: load(path, cfg),
            check=_is_usable_signal,
            refusals=(AudioProblem,),
            seconds=30,
        )


SURFACE = Surface("audio files", audio_cases)


def test_damaged_audio_is_decoded_or_refused(tmp_path):
    campaign(SURFACE, cases_budget(60), tmp_path).assert_clean(at_least=60)
