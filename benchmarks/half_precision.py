"""Benchmark: half precision, computed and stored. Whisper-base, every layer.

1. Computing (``--precision``, `featbench.device.Precision`): the encoder run in float16 and bfloat16 against
   float32 on the same clips (``--precision-clips``, on ``--device``, the CPU by default, where torch runs
   bfloat16 fast and float16 slowly): per layer, the smallest cosine between a clip's pooled (mean over
   frames) float32 and half-precision vectors, and the largest |difference| relative to the layer's largest
   float32 value; and the time each took.

2. Storing (``dtype=float16``): does float16 storage change UA? A float32 store against a float16 store.

Reads the options of the float32 whisper family in an existing RAVDESS store (results/ravdess/
the study results/studies/ravdess.toml makes it), extracts the same family with dtype=float16 into a separate store (the
same corpus.csv; the float32 store is only read), trains the same grid on both, and prints the mean UA
of each view for float32 and float16, their absolute difference against the 0.005 target, how many
stored values equal the float32 values rounded to float16, and both file sizes. Re-running resumes
(stored clips and finished result rows are skipped).

    .venv/bin/python benchmarks/half_precision.py [--precision-clips 24 --precisions float16,bfloat16 --device cpu]
        [--store /tmp/featbench-study/ravdess --out /tmp/featbench-ravdess-f16]
        [--features whisper@L3,whisper@L6 --classifiers svm --budgets all --folds 6 --seeds 0,1,2 --jobs 1]
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

TARGET = 0.005
MIB = 2**20


def _identical_fraction(a_path: Path, b_path: Path) -> tuple[float, float]:
    """(fraction of the float16 file's values equal to the float32 file's rounded to float16, largest
    |float32 - float16|), utterance by utterance over the ids both files hold."""
    import h5py
    import numpy as np

    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        index = [{u: (o, n) for u, o, n in zip(f["ids"].asstr()[:], f["offsets"][:], f["lengths"][:])} for f in (a, b)]
        same, total, worst = 0, 0, 0.0
        for uid in sorted(set(index[0]) & set(index[1])):
            (oa, na), (ob, nb) = index[0][uid], index[1][uid]
            full, half = a["features"][oa:oa + na], b["features"][ob:ob + nb]
            if full.shape != half.shape:
                raise SystemExit(f"'{uid}': {full.shape} rows in {a_path}, {half.shape} in {b_path}")
            same += int((full.astype(np.float16) == half).sum())
            total += half.size
            worst = max(worst, float(np.abs(full - half.astype(np.float32)).max()))
    return same / total, worst


def compute_precision(clips: int, precisions: list[str], device: str, threads: int) -> None:
    """Part 1: whisper-base (every layer) computed in each of `precisions` against float32 on `clips` RAVDESS clips."""
    import sys
    import time

    import numpy as np
    import torch

    sys.path.insert(0, str(Path(__file__).parent))
    from _common import SHARED, benchmark_table, pooled_cosines

    from featbench.audio import load
    from featbench.device import Device
    from featbench.features import build_family

    whisper = SHARED / "models" / "whisper-base"
    if not whisper.is_dir():
        print(f"skipped: no whisper-base at {whisper}")
        return
    torch.set_num_threads(threads)
    on = Device.parse(device).resolve()
    table, corpus = benchmark_table(clips, Path("/tmp/featbench-half-precision"))
    signals = [load(p) for p in table["path"]]
    print(f"{corpus}: {len(signals)} clips, {sum(map(len, signals)) / 16000:.0f} s of audio; whisper-base, every layer, "
          f"on {on}, {threads} torch thread(s)")
    pooled, seconds = {}, {}
    for precision in ["float32", *precisions]:
        family = build_family("whisper", {"model": str(whisper), "layer": "all", "precision": precision})
        family.use_device(on)
        family.extract(signals[0], 16000)  # load, and warm up
        start = time.perf_counter()
        pooled[precision] = np.stack([family.extract(s, 16000).mean(0) for s in signals])
        seconds[precision] = time.perf_counter() - start
    layers = pooled["float32"].shape[1] // 512
    print(f"{'precision':9s} {'seconds':>7s}  per layer L0..L{layers - 1}: smallest pooled cosine | largest |diff| / max|float32|")
    for precision in ["float32", *precisions]:
        cosine = pooled_cosines(pooled["float32"], pooled[precision], layers).min(0)
        full = pooled["float32"].reshape(len(signals), layers, -1)
        relative = (np.abs(full - pooled[precision].reshape(full.shape)).max(axis=(0, 2)) / np.abs(full).max(axis=(0, 2)))
        print(f"{precision:9s} {seconds[precision]:7.1f}  {' '.join(f'{c:.6f}' for c in cosine)} | "
              f"{' '.join(f'{r:.1e}' for r in relative)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--precision-clips", type=int, default=24, help="clips of part 1 (0: skip it)")
    parser.add_argument("--precisions", default="float16,bfloat16")
    parser.add_argument("--device", default="cpu", help="where part 1 runs: cpu, cuda, cuda:N, mps, auto")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of part 1")
    parser.add_argument("--store", type=Path, default=Path("/tmp/featbench-study/ravdess"), help="float32 store (read only)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/featbench-ravdess-f16"), help="float16 store and results")
    parser.add_argument("--family", default="whisper")
    parser.add_argument("--features", default="whisper@L3,whisper@L6")
    parser.add_argument("--classifiers", default="svm")
    parser.add_argument("--budgets", default="all")
    parser.add_argument("--folds", type=int, default=6)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--classes", default="", help="comma-separated (default: every class, 8 on RAVDESS)")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    if args.precision_clips:
        compute_precision(args.precision_clips, args.precisions.split(","), args.device, args.threads)
        print()

    import pandas as pd

    from featbench.executors import Local
    from featbench.extract import run_extraction
    from featbench.features import build_family
    from featbench.store import FamilyIndex, family_path, read_corpus
    from featbench.train.runner import Experiment, run_training

    full_path = family_path(args.store, args.family)
    if not full_path.is_file():
        print(f"skipped: no float32 store at {full_path}; make one with featbench study run results/studies/ravdess.toml "
              "(whisper-base, every layer) or pass --store")
        return
    meta = FamilyIndex.read(full_path).meta
    if meta.dtype != "float32" or meta.pooled:
        raise SystemExit(f"{full_path}: stored as {meta.dtype}{', pooled' if meta.pooled else ''}, not float32 frames")
    options = dict(meta.config)
    if build_family(args.family, options).config_hash() != meta.config_hash:
        print(f"note: {full_path} was made with other library versions or audio settings (config hash "
              f"{meta.config_hash}); the float16 store is extracted with this installation's")
    args.out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.store / "corpus.csv", args.out / "corpus.csv")
    table = read_corpus(args.out)
    table["duration"] = pd.to_numeric(table["duration"])
    table = table[table["id"].isin(set(FamilyIndex.read(full_path).ids))].reset_index(drop=True)
    report = run_extraction(table, [(args.family, {**options, "dtype": "float16"})], args.out, executor=Local(args.jobs), progress=False)
    print(report.summary())
    half_path = family_path(args.out, args.family)

    grid = dict(families=args.features.split(","), classifiers=args.classifiers.split(","),
                budgets=[b if b == "all" else int(b) for b in args.budgets.split(",")],
                seeds=[int(s) for s in args.seeds.split(",")], n_folds=args.folds,
                classes=args.classes.split(",") if args.classes else None, corpus="ravdess")
    means, rows = {}, {}
    for dtype, store in (("float32", args.store), ("float16", args.out)):
        out = args.out / f"results-{dtype}.csv"
        run_training(Experiment(store=store, **grid), out, executor=Local(args.jobs), progress=False)
        rows[dtype] = pd.read_csv(out)
        means[dtype] = rows[dtype].groupby(["family", "classifier", "budget"])["ua"].agg(["mean", "count"])
    key = ["family", "classifier", "budget", "fold", "seed"]
    paired = rows["float32"].merge(rows["float16"], on=key, suffixes=("_32", "_16"))
    same, worst = _identical_fraction(full_path, half_path)

    n_classes = pd.read_csv(args.out / "results-float32.csv")["n_classes"].iloc[0]
    print(f"\n{args.family} (every layer), {n_classes} classes, {args.folds} folds x seeds {args.seeds}: mean UA over "
          f"folds and seeds (target: |difference| <= {TARGET})")
    print(f"{'view':12s} {'classifier':10s} {'budget':6s} {'rows':>4s} {'float32':>8s} {'float16':>8s} {'|diff|':>7s}  within")
    for key, row in means["float32"].iterrows():
        half = means["float16"].loc[key]
        diff = abs(row["mean"] - half["mean"])
        print(f"{key[0]:12s} {key[1]:10s} {str(key[2]):6s} {int(row['count']):4d} {row['mean']:8.4f} {half['mean']:8.4f} "
              f"{diff:7.4f}  {'yes' if diff <= TARGET else 'NO'}")
    print(f"per results row ({len(paired)} pairs): largest |UA difference| {(paired.ua_32 - paired.ua_16).abs().max():.4f}, "
          f"{int((paired.confusion_32 != paired.confusion_16).sum())} with a different confusion matrix")
    full_size, half_size = full_path.stat().st_size, half_path.stat().st_size
    print(f"stored values equal to float32 rounded to float16: {same:.6f} of them (largest |float32 - float16| {worst:.3g})")
    print(f"file size: float32 {full_size / MIB:,.0f} MiB, float16 {half_size / MIB:,.0f} MiB ({half_size / full_size:.3f})")


if __name__ == "__main__":
    main()
