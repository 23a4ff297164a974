"""The Python half of benchmarks/gpu_check.sh: compare two stores of one all-layer family (CPU against GPU), and
train the sequence model on one fold on a device.

    python benchmarks/gpu_check.py compare STORE_A STORE_B [--family whisper --min-cosine 0.9999]
        [--seconds A_S B_S --labels A B]        # clips/s of each, from the wall seconds of their extraction
    python benchmarks/gpu_check.py seq-fold STORE --device cuda [--view whisper@weighted --epochs 10]

`compare` prints, per layer, the smallest cosine between a clip's pooled (mean over frames) vectors in the two
stores and the largest |difference| relative to the layer's largest value, and exits 1 when a clip is missing,
its frame count differs, or a cosine is below --min-cosine. `seq-fold` trains the grid's sequence model (`seq`)
on fold 0 of the store's speaker folds, seed 0, every training clip, on --device, and prints its UA, epochs and
fit time.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))


def compare(args) -> int:
    from _common import pooled_cosines

    from featbench.store import read_family

    a, b = read_family(args.a, args.family), read_family(args.b, args.family)
    layers = max(a.meta.layers, 1)
    ids = list(a.ids)
    if sorted(ids) != sorted(b.ids):
        print(f"{args.a} and {args.b} hold different clips ({len(ids)} and {len(b.ids)})")
        return 1
    frames = [(uid, a.get(uid).shape, b.get(uid).shape) for uid in ids]
    wrong = [f for f in frames if f[1] != f[2]]
    if wrong:
        print(f"{len(wrong)} clips differ in shape, e.g. {wrong[0][0]}: {wrong[0][1]} and {wrong[0][2]}")
        return 1
    pa = np.stack([np.asarray(a.get(uid), np.float64).mean(0) for uid in ids])
    pb = np.stack([np.asarray(b.get(uid), np.float64).mean(0) for uid in ids])
    cosine = pooled_cosines(pa, pb, layers).min(0)
    full = pa.reshape(len(ids), layers, -1)
    relative = np.abs(full - pb.reshape(full.shape)).max(axis=(0, 2)) / np.abs(full).max(axis=(0, 2))
    print(f"{args.family}: {len(ids)} clips, {layers} layers; pooled (mean over frames), {args.labels[0]} against {args.labels[1]}")
    print("  smallest cosine per layer: " + " ".join(f"{c:.6f}" for c in cosine))
    print("  largest |difference| / max|value| per layer: " + " ".join(f"{r:.1e}" for r in relative))
    for label, seconds in zip(args.labels, args.seconds or []):
        print(f"  {label}: {seconds:.1f} s wall (start-up and model loading included), {len(ids) / seconds:.1f} clips/s")
    if cosine.min() < args.min_cosine:
        print(f"FAILED: smallest cosine {cosine.min():.6f} < {args.min_cosine}")
        return 1
    print(f"  every cosine >= {args.min_cosine}: ok")
    return 0


def seq_fold(args) -> int:
    from dataclasses import replace

    from featbench.device import Device
    from featbench.train.grid import GridTask, make_context, run_task
    from featbench.train.runner import Experiment, prepare_grid

    device = Device.parse(args.device).resolve()
    exp = Experiment(store=args.store, families=[args.view], classifiers=["seq"], budgets=["all"], seeds=[0],
                     seq_epochs=args.epochs)
    data, folds, _, _ = prepare_grid(exp)
    context = make_context(replace(data, device=device))
    view = next(iter(data.views))
    start = time.perf_counter()
    row = run_task(context, GridTask(view, "seq", folds[0], 0, ("all",)))[0]
    wall = time.perf_counter() - start
    print(f"seq on {view}, fold 0 of {len(folds)} (test {row['test_groups']}), {row['n_train']} training clips, "
          f"on {device}: UA {row['ua']:.3f}, {row['hparams']}, fit {row['fit_seconds']:.1f} s ({wall:.1f} s with reading)")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    c.add_argument("--family", default="whisper")
    c.add_argument("--min-cosine", type=float, default=0.9999)
    c.add_argument("--seconds", type=float, nargs=2)
    c.add_argument("--labels", nargs=2, default=["first", "second"])
    s = commands.add_parser("seq-fold")
    s.add_argument("store", type=Path)
    s.add_argument("--device", default="auto")
    s.add_argument("--view", default="whisper@weighted")
    s.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    sys.exit(compare(args) if args.command == "compare" else seq_fold(args))


if __name__ == "__main__":
    main()
