"""Benchmark: the cost of degrading clips under each kind of recording condition against extracting the cheapest
family the conditions feed (eGeMAPS functionals), on the same clips, in one process and one run.

The clips are decoded once (RAVDESS from ../shared/data when present, else the demo corpus). Then, with BLAS on one
thread (as `extract --jobs 1`): the CPU time of `egemaps-func` on every clip, and of one representative of every
condition kind applied to every clip. Each condition starts cold in this process, so one-off costs (importing
PyAV, simulating a room's CONFIGURATIONS impulse responses, decoding noise files) are counted against the N clips;
the warm column is a second pass over the same clips (what every further clip costs in a long extraction). The
first use of the active-speech measure (librosa's lazy imports, about 2 s, which every SNR kind shares) is timed
once on its own line, before the conditions.
Babble reads its talkers (other clips of the corpus, bound to its default folds) by decoding them
(featbench.audio.load), as an extraction does. The issue's target: each ratio (cold) at most 0.10.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/conditions_overhead.py [--clips 40]

Benchmarks only print figures; the exit code does not depend on the ratios.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

CONDITIONS = ["white:10", "pink:10", "brown:10", "babble:10", "noise:10:{noise}", "gain:-6", "clip:1", "lowpass:4000",
              "room:0.3", "room:0.6", "room:1.0", "rir:{rir}", "mp3:8k", "opus:16k", "amr-nb:12.2k", "telephone"]


def _folders(work: Path, rate: int) -> dict[str, Path]:
    """A noise folder (five 10 s recordings of coloured noise) and an impulse-response folder (three decays)."""
    import numpy as np
    import soundfile as sf

    rng = np.random.default_rng(0)
    noise, rir = work / "noise", work / "rir"
    noise.mkdir()
    rir.mkdir()
    for i in range(5):
        sf.write(noise / f"n{i}.wav", np.cumsum(rng.standard_normal(10 * rate)) * 1e-3 % 0.5 - 0.25, rate)
    for i in range(3):
        tail = rng.standard_normal(rate) * np.exp(-np.arange(rate) / (rate * 0.05 * (i + 1)))
        sf.write(noise.parent / "rir" / f"r{i}.wav", tail * 0.5, rate, subtype="FLOAT")
    return {"noise": noise, "rir": rir}


def _time(action, items) -> float:
    """CPU seconds of this process (all its threads) spent on `action` over `items`: on a shared machine, wall time
    measures the neighbours too."""
    start = time.process_time()
    for item in items:
        action(item)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=40)
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    from _common import benchmark_table
    from featbench.audio import load
    from featbench.corpus import load_corpus  # noqa: F401 (benchmark_table's)
    from featbench.features import build_family
    from featbench.protocol.conditions import ConditionClip, parse_condition
    from featbench.train.folds import make_folds

    rate = 16000
    work = Path(tempfile.mkdtemp(prefix="fb-conditions-"))
    full, corpus = benchmark_table(10**9, work)
    table = full.iloc[: args.clips]
    signals = {uid: load(path) for uid, path in zip(table["id"], table["path"])}
    paths = dict(zip(full["id"], full["path"]))
    seconds = sum(s.size for s in signals.values()) / rate
    folders = _folders(work, rate)
    family = build_family("egemaps-func")
    family.load()
    with threadpool_limits(1):
        family.extract(next(iter(signals.values())), rate)  # openSMILE's first call sets itself up: not counted
        first = next(iter(signals))
        shared = _time(lambda uid: parse_condition("white:10").apply(signals[uid], rate, ConditionClip(uid)), [first])
        extract = _time(lambda uid: family.extract(signals[uid], rate), signals)
        print(f"corpus: {corpus}, {len(signals)} clips, {seconds:.0f} s of audio")
        print(f"egemaps-func extraction: {extract:.2f} s CPU ({extract / len(signals) * 1000:.0f} ms a clip); "
              f"target: every condition <= 0.10 of it")
        print(f"first use of the active-speech measure (librosa's lazy imports), once a process: {shared:.2f} s")
        print(f"{'condition':<16} {'cold s':>7} {'ratio':>6} {'warm s':>7} {'ratio':>6}  target")
        for spelling in CONDITIONS:
            condition = parse_condition(spelling.format(**folders))
            if condition.kind == "babble":
                condition = condition.bind(full, make_folds(full))

            def degrade(uid, condition=condition):
                return condition.apply(signals[uid], rate, ConditionClip(uid, 0, lambda other: load(paths[other])))

            cold, warm = _time(degrade, signals), _time(degrade, signals)
            verdict = "ok" if cold <= 0.10 * extract else "MISSED"
            name = spelling.split(":{")[0] + (":FOLDER" if ":{" in spelling else "")
            print(f"{name:<16} {cold:7.2f} {cold / extract:6.3f} {warm:7.2f} {warm / extract:6.3f}  {verdict}")
            if condition.kind == "babble":  # the same without decoding the talkers: what the mixing itself costs
                talkers = {t: load(paths[t]) for uid in signals for t in condition.sources(uid)}

                def mix(uid, condition=condition, talkers=talkers):
                    return condition.apply(signals[uid], rate, ConditionClip(uid, 0, talkers.get))

                mixing = _time(mix, signals)
                print(f"{'  mixing only':<16} {mixing:7.2f} {mixing / extract:6.3f}  (talkers decoded beforehand)")


if __name__ == "__main__":
    main()
