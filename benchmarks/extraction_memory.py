"""Benchmark: peak memory of `featbench extract` (all five hand-crafted families) does not grow with corpus size.

Runs the real command on a quarter of the corpus and on all of it, sampling the summed resident
memory of the process and its workers, and prints both peaks and their ratio (target: about 1.0).

    .venv/bin/python benchmarks/extraction_memory.py [--small 360 --large 1440 --jobs 2]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

FAMILIES = "egemaps-lld,egemaps-func,compare-lld,fbank,raw"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--small", type=int, default=360)
    parser.add_argument("--large", type=int, default=1440)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    from _common import benchmark_table, run_with_peak_rss

    work = Path(tempfile.mkdtemp(prefix="fb-mem-"))
    featbench = [sys.executable, "-m", "featbench"]
    results = {}
    for n in (args.small, args.large):
        table, corpus = benchmark_table(n, work)
        manifest = work / f"manifest-{n}.csv"
        table[["id", "path", "label", "speaker", "gender"]].to_csv(manifest, index=False)  # absolute paths
        store = work / f"store-{n}"
        wall, peak, code = run_with_peak_rss(featbench + ["extract", "csv", str(manifest), "--features", FAMILIES,
                                                          "--out", str(store), "--jobs", str(args.jobs), "--no-progress"])
        size = sum(p.stat().st_size for p in store.glob("*.h5")) / 2**20
        audio = table["duration"].sum()
        results[n] = peak
        print(f"{n:5d} clips ({audio:6.0f} s audio): wall {wall:6.1f} s, {audio / wall:5.1f} s audio/s, "
              f"peak RSS {peak:6.0f} MiB (all processes), store {size:6.0f} MiB, exit {code}  [{corpus}]")
        shutil.rmtree(store)
    ratio = results[args.large] / results[args.small]
    print(f"peak memory ratio {args.large} vs {args.small} clips: {ratio:.2f} (target ~1.0, i.e. <= 1.2: {'met' if ratio <= 1.2 else 'MISSED'})")


if __name__ == "__main__":
    main()
