"""The embedded demo corpus: synthetic emotional-speech-like clips, generated deterministically.

A source-filter voice: a jittered glottal pulse train (plus breath noise) through vowel formant
resonators, in syllables separated by consonant noise and pauses. Speakers differ in pitch,
vocal-tract length and expressiveness; emotions differ in pitch level and range, speaking rate,
loudness and voice quality (tension = spectral tilt, breathiness). Every parameter is drawn with
per-utterance spread so classes overlap, as in real speech. No download is needed.

Each clip also has a transcript (the manifest's `transcript` column) whose words carry part of the
emotion, the part the voice carries worst: valence. Six clips in ten say a sentence of their valence
(positive for happy, negative for angry and sad, matter-of-fact for neutral), the others a sentence from
a shared pool that says nothing; the voice separates arousal (angry and happy from sad and neutral).
So text alone and audio alone each confuse some classes, and together they can do better.

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


SENTENCES = {
    "positive": ["What a wonderful surprise", "I love this so much", "That is great news for all of us",
                 "We finally did it and it feels fantastic", "Thank you, this made my day"],
    "negative": ["This is a terrible mess", "I cannot stand this any longer", "Everything went wrong again",
                 "That was an awful thing to do", "Nobody ever listens to me"],
    "matter-of-fact": ["The meeting is at ten", "Please send me the report", "The train leaves from platform two",
                       "I will check the numbers tomorrow", "The keys are on the table"],
    "shared": ["I was just about to call you", "Let me think about it", "We talked about this yesterday",
               "It is the same as last time", "Tell me what happened"],
}
VALENCE = {"happy": "positive", "angry": "negative", "sad": "negative", "neutral": "matter-of-fact"}
SAYS_VALENCE = 0.6  # share of clips whose sentence carries their valence


def transcript(label: str, rng: np.random.Generator) -> str:
    """The sentence of one clip: of its valence (SAYS_VALENCE of the time), else from the shared pool.

    >>> transcript("happy", np.random.default_rng(1)) in SENTENCES["positive"] + SENTENCES["shared"]
    True
    """
    pool = SENTENCES[VALENCE[label]] if rng.random() < SAYS_VALENCE else SENTENCES["shared"]
    return pool[int(rng.integers(len(pool)))]


def generate(out_dir: str | Path, per_class: int = 10, speakers: int = 8, seed: int = 0) -> Path:
    """Write the demo corpus (WAV files and manifest.csv) to out_dir; return the manifest path.

    Deterministic: the same arguments give byte-identical files. An existing complete corpus is kept.
    """
    import csv

    import soundfile as sf

    out = Path(out_dir)
    manifest = out / "manifest.csv"
    expected_rows = per_class * speakers * len(EMOTIONS)
    header = ["id", "path", "label", "speaker", "gender", "duration", "transcript"]
    if manifest.is_file():
        with manifest.open(newline="") as handle:
            rows = list(csv.reader(handle))
        if rows and rows[0] == header and len(rows) == expected_rows + 1:
            return manifest
    if speakers > len(SPEAKERS):
        raise ValueError(f"at most {len(SPEAKERS)} synthetic speakers, asked for {speakers}")
    lines = [header]
    for s_index, speaker in enumerate(SPEAKERS[:speakers]):
        (out / speaker.name).mkdir(parents=True, exist_ok=True)
        for e_index, (label, emo) in enumerate(EMOTIONS.items()):
            for k in range(per_class):
                rng = np.random.default_rng([seed, s_index, e_index, k])
                clip = synthesize(speaker, emo, rng)
                uid = f"{speaker.name}_{label}_{k:02d}"
                sf.write(out / speaker.name / f"{uid}.wav", clip, SAMPLE_RATE, subtype="PCM_16")
                gender = "female" if speaker.name.startswith("f") else "male"
                said = transcript(label, np.random.default_rng([seed, s_index, e_index, k, 1]))
                lines.append([uid, f"{speaker.name}/{uid}.wav", label, f"demo_{speaker.name}", gender,
                              f"{clip.size / SAMPLE_RATE:.4f}", said])
    with manifest.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(lines)
    return manifest
