"""Time to the first clip, per family, in a fresh process: what a user waits before the progress bar moves.

For each family, a new Python process imports featbench, builds the family and loads what is heavy
(`FeatureFamily.load()`, what `extract` does before its bar starts), then extracts the same clip three
times. Printed per family: import, load, first clip, and the median of the two later clips; the ratio
first / later is the first-call cost (JIT compilation, lazy initialisation) left after loading. Run it
right after a fresh install to see cold caches (numba's on-disk cache, the OS page cache of model files).

    .venv/bin/python benchmarks/first_clip.py [--whisper ../shared/models/whisper-base]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, benchmark_table  # noqa: E402

PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
from featbench.audio import load
from featbench.features import build_family
t1 = time.perf_counter()
family = build_family(sys.argv[1], json.loads(sys.argv[2]))
family.load()
t2 = time.perf_counter()
signal = load(sys.argv[3])
times = []
for _ in range(3):
    start = time.perf_counter()
    family.extract(signal, 16000)
    times.append(time.perf_counter() - start)
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "first": times[0], "later": sorted(times[1:])[0]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--whisper", default=str(REPO.parent / "shared" / "models" / "whisper-base"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        table, corpus = benchmark_table(1, Path(tmp))
        clip = table["path"].iloc[0]
        families = [("egemaps-func", {}), ("egemaps-lld", {}), ("compare-lld", {}), ("fbank", {}), ("raw", {})]
        if Path(args.whisper).is_dir():
            families.append(("whisper", {"model": args.whisper, "layer": "all"}))
        print(f"clip: {clip} ({corpus}); python {sys.version.split()[0]}")
        print(f"{'family':14s} {'import s':>9s} {'load s':>8s} {'first s':>8s} {'later s':>8s} {'first/later':>11s}")
        for name, options in families:
            out = subprocess.run([sys.executable, "-c", PROBE, name, json.dumps(options), clip],
                                 capture_output=True, text=True, check=True).stdout
            t = json.loads(out.strip().splitlines()[-1])
            print(f"{name:14s} {t['import']:9.2f} {t['load']:8.2f} {t['first']:8.3f} {t['later']:8.3f} "
                  f"{t['first'] / max(t['later'], 1e-9):11.1f}")


if __name__ == "__main__":
    main()
