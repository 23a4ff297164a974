"""The embedded demo corpus: synthetic emotional-speech-like clips, generated deterministically.

A source-filter voice: a jittered glottal pulse train (plus breath noise) through vowel formant
resonators, in syllables separated by consonant noise and pauses. Speakers differ in pitch,
vocal-tract length and expressiveness; emotions differ in pitch level and range, speaking rate,
loudness and voice quality (tension = spectral tilt, breathiness). Every parameter is drawn with
per-utterance spread so classes overlap, as in real speech. No download is needed.

>>> clip = synthesize(SPEAKERS[0], EMOTIONS["angry"], np.random.default_rng(0))
>>> clip.dtype, 0.8 < clip.size / SAMPLE_RATE < 3.5, float(np.abs(clip).max()) <= 1.0
(dtype('float32'), True, True)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
VOWELS = [(730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (570, 840, 2410)]


@dataclass(frozen=True)
class Speaker:
    name: str
    f0: float  # Hz, typical pitch
    tract: float  # formant scale (shorter tract = higher formants)
    expressiveness: float  # how strongly emotions move this speaker's voice


@dataclass(frozen=True)
class Emotion:
    pitch: float  # pitch level factor
    range: float  # pitch excursion, octaves
    rate: float  # syllables per second
    loudness: float  # linear gain
    tension: float  # 0 lax (steep tilt) .. 1 pressed (flat tilt)
    breath: float  # aspiration noise relative to voicing


SPEAKERS = [
    Speaker("f1", 215, 1.17, 1.0), Speaker("m1", 112, 1.00, 0.9), Speaker("f2", 190, 1.12, 0.7),
    Speaker("m2", 128, 0.96, 1.2), Speaker("f3", 235, 1.20, 1.1), Speaker("m3", 100, 0.94, 0.8),
    Speaker("f4", 205, 1.15, 0.6), Speaker("m4", 120, 1.02, 1.0),
]
EMOTIONS = {
    "neutral": Emotion(pitch=1.00, range=0.15, rate=4.2, loudness=0.45, tension=0.45, breath=0.08),
    "happy": Emotion(pitch=1.22, range=0.45, rate=4.9, loudness=0.60, tension=0.60, breath=0.06),
    "sad": Emotion(pitch=0.90, range=0.10, rate=3.2, loudness=0.28, tension=0.25, breath=0.22),
    "angry": Emotion(pitch=1.15, range=0.30, rate=5.0, loudness=0.85, tension=0.90, breath=0.04),
}


def _resonator(signal: np.ndarray, freq: float, bandwidth: float) -> np.ndarray:
    from scipy.signal import lfilter

    r = np.exp(-np.pi * bandwidth / SAMPLE_RATE)
    theta = 2 * np.pi * freq / SAMPLE_RATE
    a = [1.0, -2 * r * np.cos(theta), r * r]
    return lfilter([1 - r], a, signal)


def _syllable(f0: np.ndarray, vowel, speaker: Speaker, emo: Emotion, rng) -> np.ndarray:
    from scipy.signal import lfilter

    n = f0.size
    jitter = 1 + rng.normal(0, 0.01 + 0.01 * emo.breath, n).cumsum() / np.sqrt(np.arange(1, n + 1))
    phase = np.cumsum(f0 * jitter / SAMPLE_RATE)
    pulses = np.diff(np.floor(phase), prepend=0.0)
    pulses *= 1 + rng.normal(0, 0.05, n)  # shimmer
    tilt = 0.97 - 0.5 * emo.tension  # pole of the glottal low-pass: tension flattens the spectrum
    source = lfilter([1.0], [1.0, -tilt], pulses) + emo.breath * rng.normal(0, 0.3, n)
    voiced = sum(_resonator(source, f * speaker.tract, 60 + 40 * k) / (k + 1) for k, f in enumerate(vowel))
    envelope = np.sin(np.linspace(0, np.pi, n)) ** 0.6
    return voiced * envelope


def synthesize(speaker: Speaker, emo: Emotion, rng: np.random.Generator) -> np.ndarray:
    """One utterance of 4-8 syllables, float32 in [-1, 1]."""
    spread = lambda value, rel: value * float(np.exp(rng.normal(0, rel)))  # noqa: E731
    strength = speaker.expressiveness
    pitch = spread(speaker.f0 * (1 + strength * (emo.pitch - 1)), 0.08)
    excursion = spread(emo.range * strength, 0.3)
    rate = spread(emo.rate, 0.12)
    loudness = spread(emo.loudness, 0.25)
    n_syll = int(rng.integers(4, 9))
    parts = [np.zeros(int(0.1 * SAMPLE_RATE))]
    for i in range(n_syll):
        dur = spread(0.75 / rate, 0.2)
        n = max(int(dur * SAMPLE_RATE), 400)
        position = i / max(n_syll - 1, 1)
        centre = pitch * 2 ** (excursion * (np.sin(np.pi * position) - 0.5 - 0.3 * position + rng.normal(0, 0.2)))
        contour = centre * 2 ** (excursion * 0.3 * np.linspace(0.5, -0.5, n))
        vowel = VOWELS[int(rng.integers(len(VOWELS)))]
        syllable = _syllable(contour, vowel, speaker, emo, rng)
        n_cons = int(spread(0.05, 0.3) * SAMPLE_RATE)
        consonant = rng.normal(0, 0.15, n_cons) * np.hanning(n_cons)
        parts += [consonant, syllable, np.zeros(int(abs(rng.normal(0.03, 0.02)) * SAMPLE_RATE))]
    parts.append(np.zeros(int(0.1 * SAMPLE_RATE)))
    clip = np.concatenate(parts)
    clip = clip / (np.abs(clip).max() + 1e-9) * min(loudness, 0.95)
    clip = clip + rng.normal(0, 0.003, clip.size)  # room noise
    return np.clip(clip, -1, 1).astype(np.float32)


def generate(out_dir: str | Path, per_class: int = 10, speakers: int = 8, seed: int = 0) -> Path:
    """Write the demo corpus (WAV files and manifest.csv) to out_dir; return the manifest path.

    Deterministic: the same arguments give byte-identical files. An existing complete corpus is kept.
    """
    import soundfile as sf

    out = Path(out_dir)
    manifest = out / "manifest.csv"
    expected_rows = per_class * speakers * len(EMOTIONS)
    if manifest.is_file() and sum(1 for _ in manifest.open()) == expected_rows + 1:
        return manifest
    if speakers > len(SPEAKERS):
        raise ValueError(f"at most {len(SPEAKERS)} synthetic speakers, asked for {speakers}")
    lines = ["id,path,label,speaker,gender,duration"]
    for s_index, speaker in enumerate(SPEAKERS[:speakers]):
        (out / speaker.name).mkdir(parents=True, exist_ok=True)
        for e_index, (label, emo) in enumerate(EMOTIONS.items()):
            for k in range(per_class):
                rng = np.random.default_rng([seed, s_index, e_index, k])
                clip = synthesize(speaker, emo, rng)
                uid = f"{speaker.name}_{label}_{k:02d}"
                sf.write(out / speaker.name / f"{uid}.wav", clip, SAMPLE_RATE, subtype="PCM_16")
                gender = "female" if speaker.name.startswith("f") else "male"
                lines.append(f"{uid},{speaker.name}/{uid}.wav,{label},demo_{speaker.name},{gender},{clip.size / SAMPLE_RATE:.4f}")
    manifest.write_text("\n".join(lines) + "\n")
    return manifest
