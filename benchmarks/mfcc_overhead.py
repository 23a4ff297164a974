"""Benchmark: `featbench extract --features mfcc` against a plain soundfile + librosa.feature.mfcc loop.

The harness (whole processes over the same RAVDESS clips, alternating, medians; see benchmarks/_overhead.py)
is shared with fbank_overhead.py. The reference calls librosa.feature.mfcc with exactly featbench's mfcc
defaults (13 coefficients of 80 mels, 25 ms window = 400 samples, 10 ms hop = 160 samples, n_fft 512,
center=True; librosa's own dB floor, top_db and orthonormal DCT-II), as float32 (frames, 13).

Prints medians, the ratio featbench / reference (the target of the issue: <= 1.10) and the largest
difference between the two outputs.

    .venv/bin/python benchmarks/mfcc_overhead.py [--clips 360 --repeats 3]
"""
from __future__ import annotations

FEATURES = '''\
    mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13, n_fft=512, win_length=int(round(0.025 * sr)),
                                hop_length=int(round(0.010 * sr)), n_mels=80, fmin=0.0, fmax=None, center=True)
    arrays.append(mfcc.T.astype(np.float32))'''


if __name__ == "__main__":
    from _overhead import run_overhead_benchmark

    run_overhead_benchmark(__doc__.splitlines()[0], "mfcc", FEATURES, "plain soundfile + librosa.feature.mfcc loop")
