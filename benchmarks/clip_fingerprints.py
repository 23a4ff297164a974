"""Benchmark: how well clip fingerprints (featbench.clip_fingerprint) tell clips apart, and what they cost.

Fingerprints every clip of ../shared/data/ravdess and ../shared/data/nemo, then prints: seconds per clip; every pair
of clips that match (a true duplicate has the same file bytes or the same decoded samples; any other is a false
positive); the closest two clips that do not match, as a multiple of the tolerance; and the distance between each
48 kHz RAVDESS original of ravdess-48k-sample and its 16 kHz FLAC (same clip, another rate and format), with the same
clip through Ogg Vorbis and MP3 (libsndfile's encoders) as lossy copies.

    .venv/bin/python benchmarks/clip_fingerprints.py
"""
from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import SHARED  # noqa: E402

from featbench.audio import AudioConfig, file_hash, load  # noqa: E402
from featbench.clip_fingerprint import TOLERANCE_DB, Fingerprints, fingerprint, near_duplicates  # noqa: E402


def corpus_clips() -> list[Path]:
    data = SHARED / "data"
    return sorted((data / "ravdess").glob("Actor_*/*.flac")) + sorted((data / "nemo").glob("samples/*.flac"))


def lossy(signal: np.ndarray, fmt: str, subtype: str) -> np.ndarray:
    buffer = io.BytesIO()
    sf.write(buffer, signal, 16000, format=fmt, subtype=subtype)
    buffer.seek(0)
    decoded = sf.read(buffer, dtype="float32")[0]
    return np.pad(decoded, (0, max(0, signal.size - decoded.size)))[:signal.size]


def main() -> None:
    paths = corpus_clips()
    if not paths:
        sys.exit(f"no RAVDESS or nEMO clips under {SHARED / 'data'}")
    start = time.perf_counter()
    prints = Fingerprints.of_files([str(p) for p in paths], paths)
    seconds = time.perf_counter() - start
    print(f"{len(prints.ids)} clips fingerprinted in {seconds:.1f} s ({1000 * seconds / len(paths):.1f} ms a clip), "
          f"{len(prints.problems)} unreadable")
    start = time.perf_counter()
    matches = near_duplicates(prints)
    print(f"near-duplicate search: {time.perf_counter() - start:.2f} s, {len(matches)} matching pair(s)")
    for m in matches:
        a, b = prints.ids[m.left], prints.ids[m.right]
        same = file_hash(a) == file_hash(b) or np.array_equal(load(a), load(b))
        print(f"  {m.distance:.3f} dB  {a}  {b}  {'true duplicate' if same else 'FALSE POSITIVE'}")
    V, n = prints.vectors, len(prints.ids)
    nearest = np.full(n, np.inf)
    for i in range(0, n, 100):
        d = np.abs(V[i:i + 100, None] - V[None]).mean(axis=-1)
        d[np.arange(d.shape[0]), np.arange(i, i + d.shape[0])] = np.inf
        nearest[i:i + 100] = d.min(axis=1)
    distinct = np.sort(nearest[nearest > TOLERANCE_DB])
    print(f"closest non-matching clips: {distinct[0]:.3f} dB ({distinct[0] / TOLERANCE_DB:.1f}x the tolerance "
          f"{TOLERANCE_DB} dB); 1% of clips have a neighbour within {np.quantile(nearest, 0.01):.3f} dB")
    originals = sorted((SHARED / "data" / "ravdess-48k-sample").glob("*/*.wav"))
    for original in originals:
        signal = load(SHARED / "data" / "ravdess" / original.parent.name / f"{original.stem}.flac", AudioConfig())
        ref = fingerprint(signal)
        rates = np.abs(fingerprint(load(original, AudioConfig())) - ref).mean()
        codecs = [np.abs(fingerprint(lossy(signal, *c)) - ref).mean()
                  for c in (("OGG", "VORBIS"), ("MP3", "MPEG_LAYER_III"))]
        print(f"  {original.parent.name}/{original.name}: 48 kHz WAV vs 16 kHz FLAC {rates:.4f} dB; "
              f"Vorbis {codecs[0]:.3f} dB; MP3 {codecs[1]:.3f} dB")


if __name__ == "__main__":
    main()
