"""Benchmark: a long hostile-input campaign over every surface in tests/hostile/, with the counts per outcome.

Each module of tests/hostile/ declares a SURFACE (tests/hostile/contract.py); the tests run a few dozen
generated cases of each, this script runs many more with other seeds, and prints per surface how many were
detected (refused in one line naming the input), harmless (accepted, and the result checked), silent-wrong,
hang and traceback, then the bad verdicts themselves. Exit 1 if any case broke the contract.

    .venv/bin/python benchmarks/fuzz_campaign.py [--cases 500] [--seed 1] [--only audio]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO)]

from hostile.contract import OUTCOMES, Surface, campaign  # noqa: E402


def surfaces(only: str = "") -> list[Surface]:
    found = []
    for path in sorted((REPO / "tests" / "hostile").glob("test_*.py")):
        module = importlib.import_module(f"hostile.{path.stem}")
        surface = getattr(module, "SURFACE", None)
        if isinstance(surface, Surface) and only.lower() in surface.name.lower():
            found.append(surface)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500, help="cases per surface")
    parser.add_argument("--seed", type=int, default=1, help="the campaign's seed (the tests use 0)")
    parser.add_argument("--only", default="", help="surfaces whose name contains this")
    args = parser.parse_args()
    print(f"{'surface':<22}" + "".join(f"{o:>14}" for o in OUTCOMES) + f"{'total':>8}{'seconds':>9}")
    tallies = []
    with tempfile.TemporaryDirectory(prefix="featbench-fuzz-") as tmp:
        for surface in surfaces(args.only):
            start = time.perf_counter()
            tally = campaign(surface, args.cases, Path(tmp) / surface.name.replace(" ", "-"), seed=args.seed)
            tallies.append(tally)
            print(tally.row() + f"{time.perf_counter() - start:>9.1f}", flush=True)
    totals = {o: sum(t.counts[o] for t in tallies) for o in OUTCOMES}
    print(f"{'all':<22}" + "".join(f"{totals[o]:>14}" for o in OUTCOMES) + f"{sum(totals.values()):>8}")
    bad = [v for t in tallies for v in t.bad]
    for verdict in bad[:50]:
        print(f"  {verdict}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
