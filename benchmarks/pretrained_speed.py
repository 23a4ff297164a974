"""Benchmark: extraction speed of pretrained encoders on this machine, in seconds of audio per second.

Whisper-base (../shared/models/whisper-base) in 'padded' (exact, 30 s windows) and 'adaptive' (the
clip's own frames) mode, with how close their pooled embeddings are, and a base-size wav2vec 2.0
config (12 layers, 768 dims, random weights: speed does not depend on the values). Also the peak
memory of extracting the longest clip with every layer kept. Ratios are against whisper padded,
measured in the same run.

    .venv/bin/python benchmarks/pretrained_speed.py [--clips 40]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WHISPER = REPO.parent / "shared" / "models" / "whisper-base"


def _time_family(family, signals, batch: int = 1) -> tuple[float, list]:
    family.extract(signals[0], 16000)  # warm-up: model load and first call
    order = sorted(range(len(signals)), key=lambda i: len(signals[i]))  # similar lengths together, as extract does
    start = time.perf_counter()
    outputs = [None] * len(signals)
    for k in range(0, len(order), batch):
        idx = order[k:k + batch]
        for i, out in zip(idx, family.extract_batch([signals[i] for i in idx], 16000)):
            outputs[i] = out
    return time.perf_counter() - start, outputs


def _peak_child(code: str) -> float:
    """Peak RSS (MiB) of a fresh Python process running `code`, sampled from outside (ru_maxrss would
    inherit this process's peak through fork)."""
    from _common import run_with_peak_rss

    _, peak, code_ = run_with_peak_rss([sys.executable, "-c", code], interval=0.02)
    if code_:
        raise RuntimeError(f"memory probe failed: {code}")
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import numpy as np
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

    sys.path.insert(0, str(Path(__file__).parent))
    from _common import benchmark_table
    from featbench.audio import load
    from featbench.features import build_family

    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="fb-pre-"))
    table, corpus = benchmark_table(args.clips, work)
    signals = [load(p) for p in table["path"]]
    seconds = sum(len(s) for s in signals) / 16000
    print(f"{corpus}: {len(signals)} clips, {seconds:.0f} s of audio; torch threads {args.threads}")

    rows = {}
    if WHISPER.is_dir():
        for mode in ("padded", "adaptive"):
            family = build_family("whisper", {"model": str(WHISPER), "layer": "all", "whisper_mode": mode})
            rows[f"whisper-base {mode}"], out = _time_family(family, signals)
            rows.setdefault("_outs", {})[mode] = out
        padded = build_family("whisper", {"model": str(WHISPER), "layer": "all", "whisper_mode": "padded"})
        rows["whisper-base padded, batches of 8"], _ = _time_family(padded, signals, batch=8)
    else:
        print(f"whisper-base not found at {WHISPER}: skipped")
    base = work / "wav2vec2-base-random"
    torch.manual_seed(0)
    Wav2Vec2Model(Wav2Vec2Config()).save_pretrained(base)  # the base-size architecture, random weights
    Wav2Vec2FeatureExtractor(do_normalize=True).save_pretrained(base)
    rows["wav2vec2-base config (random)"], _ = _time_family(build_family("hf", {"model": str(base), "layer": "all"}), signals)

    outs = rows.pop("_outs", {})
    reference = rows.get("whisper-base padded", next(iter(rows.values())))
    for name, wall in rows.items():
        print(f"{name:32s} {wall:7.1f} s  {seconds / wall:6.1f} s audio/s  time ratio vs whisper padded {wall / reference:5.2f}")
    if outs:
        layers = outs["padded"][0].shape[1] // 512
        cos = np.zeros(layers)
        for p, a in zip(outs["padded"], outs["adaptive"]):
            for k in range(layers):
                u, v = p[:, k * 512:(k + 1) * 512].mean(0), a[:, k * 512:(k + 1) * 512].mean(0)
                cos[k] += u @ v / np.linalg.norm(u) / np.linalg.norm(v) / len(outs["padded"])
        print("cosine of mean-pooled embeddings, adaptive vs padded, per layer 0..6: " + " ".join(f"{c:.4f}" for c in cos))

    everything, _ = benchmark_table(10**9, work)
    longest = everything.loc[everything["duration"].idxmax(), "path"]
    print(f"longest clip of the corpus: {Path(longest).name} ({everything['duration'].max():.2f} s)")
    for label, options in ([("whisper-base padded, all layers", {"model": str(WHISPER), "layer": "all", "whisper_mode": "padded"})] if WHISPER.is_dir() else []) + \
            [("wav2vec2-base config, all layers", {"model": str(base), "layer": "all"})]:
        family_name = "whisper" if "whisper" in label else "hf"
        idle = _peak_child(f"from featbench.features import build_family; f = build_family({family_name!r}, {options!r}); f.columns")
        peak = _peak_child(f"from featbench.features import build_family; from featbench.audio import load; "
                           f"f = build_family({family_name!r}, {options!r}); f.extract(load({str(longest)!r}), 16000)")
        print(f"peak memory, {label}: {peak:.0f} MiB (model loaded, no clip: {idle:.0f} MiB)")


if __name__ == "__main__":
    main()
