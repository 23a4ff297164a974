"""Benchmark: featbench's openSMILE extraction against a plain loop of opensmile.Smile.process_signal.

Both run over the same clips in the same run; the plain loop gets the audio already decoded, so
featbench's overhead includes decoding, hashing, HDF5 writing and bookkeeping. Prints the ratios
against the plain loop. Targets: overhead <= 10% with --jobs 1; speed-up >= 1.7x with --jobs 2.

    .venv/bin/python benchmarks/opensmile_overhead.py [--clips 720]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

FAMILIES = ["egemaps-lld", "egemaps-func", "compare-lld"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--clips", type=int, default=720)
    args = parser.parse_args()

    import opensmile
    from threadpoolctl import threadpool_limits

    from _common import benchmark_table
    from featbench.audio import load
    from featbench.executors import Local
    from featbench.extract import run_extraction

    work = Path(tempfile.mkdtemp(prefix="fb-bench-"))
    table, corpus = benchmark_table(args.clips, work)
    signals = [load(p) for p in table["path"]]
    seconds = sum(s.size for s in signals) / 16000
    smiles = [
        opensmile.Smile(opensmile.FeatureSet.eGeMAPSv02, opensmile.FeatureLevel.LowLevelDescriptors),
        opensmile.Smile(opensmile.FeatureSet.eGeMAPSv02, opensmile.FeatureLevel.Functionals),
        opensmile.Smile(opensmile.FeatureSet.ComParE_2016, opensmile.FeatureLevel.LowLevelDescriptors),
    ]
    with threadpool_limits(1):
        start = time.perf_counter()
        for signal in signals:
            for smile in smiles:
                smile.process_signal(signal, 16000).to_numpy()
        plain = time.perf_counter() - start

    timings = {}
    for jobs in (1, 2):
        start = time.perf_counter()
        report = run_extraction(table, [(f, {}) for f in FAMILIES], work / f"store-j{jobs}", executor=Local(jobs), progress=False)
        timings[jobs] = time.perf_counter() - start
        assert report.extracted == len(table), report.summary()

    overhead = timings[1] / plain - 1
    speedup = timings[1] / timings[2]
    print(f"corpus: {corpus}, {len(table)} clips, {seconds:.0f} s of audio; families: {', '.join(FAMILIES)}")
    print(f"plain process_signal loop (pre-decoded): {plain:7.1f} s  ({seconds / plain:6.1f} s audio/s)  ratio 1.00")
    print(f"featbench extract --jobs 1:              {timings[1]:7.1f} s  ({seconds / timings[1]:6.1f} s audio/s)  ratio {timings[1] / plain:.2f}")
    print(f"featbench extract --jobs 2:              {timings[2]:7.1f} s  ({seconds / timings[2]:6.1f} s audio/s)  ratio {timings[2] / plain:.2f}")
    print(f"overhead --jobs 1 vs plain loop: {overhead:+.1%} (target <= +10%: {'met' if overhead <= 0.10 else 'MISSED'})")
    print(f"speed-up --jobs 2 vs --jobs 1:   {speedup:.2f}x (target >= 1.7x: {'met' if speedup >= 1.7 else 'MISSED'})")


if __name__ == "__main__":
    main()
