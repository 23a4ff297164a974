"""Benchmark: `featbench extract --features fbank` against a plain soundfile + librosa log-Mel loop.

The harness (whole processes over the same RAVDESS clips, alternating, medians; see benchmarks/_overhead.py)
is shared with mfcc_overhead.py. The reference computes librosa.feature.melspectrogram with exactly
featbench's fbank defaults (80 mels, 25 ms window = 400 samples, 10 ms hop = 160 samples, n_fft 512,
center=True, power 2, fmin 0, fmax sr/2) and takes log(max(mel, 1e-10)) as float32 (frames, 80).

Prints medians, the ratio featbench / reference (the target of the issue: <= 1.10) and the largest
difference between the two outputs.

    .venv/bin/python benchmarks/fbank_overhead.py [--clips 360 --repeats 3]
"""
from __future__ import annotations

FEATURES = '''\
    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=512, win_length=int(round(0.025 * sr)),
                                         hop_length=int(round(0.010 * sr)), n_mels=80, fmin=0.0, fmax=None,
                                         center=True, power=2.0)
    arrays.append(np.log(np.maximum(mel, 1e-10)).T.astype(np.float32))'''


if __name__ == "__main__":
    from _overhead import run_overhead_benchmark

    run_overhead_benchmark(__doc__.splitlines()[0], "fbank", FEATURES, "plain soundfile + librosa loop, np.savez")
