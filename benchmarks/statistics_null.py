"""Benchmark: do report.statistics' tests hold their level, and do its intervals cover at theirs?

1. Rank tests under the null: STUDIES simulated studies of K entries with no true difference over N independent
   blocks (a block effect shared by every entry plus independent noise; N = 8 and 20). Printed: the Friedman
   rejection rate at 0.05, the family-wise rate of "at least one significant pair" after Holm over the K (K - 1) / 2
   Wilcoxon pairs, the same gated by Friedman, and the Nemenyi rate (a pair of mean ranks at least CD apart).
2. Interval coverage: synthetic RAVDESS-like studies (6 folds x 4 test speakers, 8 classes, 8 clips per class and
   speaker, 4 for the first), correct predictions drawn per utterance from logit p = mu_e + class + speaker +
   speaker x entry. Entry A beats B by a known effect (0.3 on the logit, about 6 UA points) or by none. The truth is
   each entry's UA on the speaker population (Monte Carlo, 400,000 speakers). Printed: the coverage of the 95%
   intervals of A's UA and of the paired difference A - B by the speaker resample (report.statistics.speakers), the
   fold bootstrap (the 6 fold scores resampled, as the report's ratios do today) and the fold t-interval (the
   report's score intervals); and of the utterance resample against the UA of the drawn speakers themselves. A third
   study adds a training effect per fold and entry (0.15 on the logit): the speaker resample holds the trained models
   fixed, so there it is expected to cover less.

    .venv/bin/python benchmarks/statistics_null.py [--studies 1000 --boot 1000]

Last run (2026-12-06, featbench 2-core dev machine shared with other jobs: 304 s wall, 111 s CPU): Friedman 4.4-4.6%,
Holm family-wise 3.6-3.7% at 12 and 20 blocks (0.0% at 8: no pair can reach 0.05 after Holm over 10 pairs there),
Nemenyi 3.2-4.1%; 95% intervals: speaker resample 93.4-94.5% (UA and A - B, with and without an effect), fold
t-interval 93.1-94.9%, fold bootstrap 82.6-85.8%; with training noise the speaker resample of A - B covers 90.6%.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy.special import expit

from featbench.report.intervals import t_interval
from featbench.report.statistics import (UTTERANCES, FoldCounts, critical_difference, friedman, pairwise,
                                         speaker_interval)

K, ALPHA = 5, 0.05
FOLDS, PER_FOLD, CLASSES = 6, 4, 8
CLIPS = np.array([4] + [8] * (CLASSES - 1))
SPEAKER_SD, INTERACTION_SD = 0.8, 0.4


def null_rates(n_blocks: int, studies: int, rng) -> dict[str, float]:
    """Rejection rates over `studies` null studies of K entries and `n_blocks` blocks."""
    hits = {"friedman": 0, "holm": 0, "gated": 0, "nemenyi": 0}
    names = [f"e{i}" for i in range(K)]
    for _ in range(studies):
        scores = rng.normal(0.6, 0.08, (n_blocks, 1)) + rng.normal(0, 0.03, (n_blocks, K))
        frame = pd.DataFrame(scores, columns=names)
        f, pairs, cd = friedman(frame, "block"), pairwise(frame, "block"), critical_difference(frame, "block")
        rejected, any_pair = f.p_value < ALPHA, bool(pairs.significant())
        ranks = np.array(list(cd.mean_ranks.values()))
        hits["friedman"] += rejected
        hits["holm"] += any_pair
        hits["gated"] += rejected and any_pair
        hits["nemenyi"] += bool(ranks.max() - ranks.min() >= cd.cd)
    return {k: v / studies for k, v in hits.items()}


def truth(mu: float, classes: np.ndarray, extra_sd: float) -> float:
    """An entry's UA on the speaker population: mean over classes of E[expit(mu + class + speaker + interaction
    (+ training))] (the same draws for every entry: no effect gives a difference of exactly 0)."""
    z = np.random.default_rng(0).normal(0, np.sqrt(SPEAKER_SD**2 + INTERACTION_SD**2 + extra_sd**2), 400_000)
    return float(np.mean([expit(mu + c + z).mean() for c in classes]))


def curve_study(mu: dict[str, np.ndarray], classes: np.ndarray, train_sd: float, rng):
    """One synthetic study of learning curves: per entry (`mu`: its logit at each budget), per budget its FoldCounts
    and the true UA of its drawn test speakers. The test speakers and each speaker x entry interaction are drawn once
    (every budget of a fold tests the same speakers); the training effect (per fold) and the utterances' outcomes are
    drawn again at each budget (another model)."""
    speakers = rng.normal(0, SPEAKER_SD, (FOLDS, PER_FOLD))
    out = {}
    for entry, ms in mu.items():
        interaction = rng.normal(0, INTERACTION_SD, (FOLDS, PER_FOLD, 1))
        train = rng.normal(0, train_sd, (len(ms), FOLDS, 1, 1))
        budgets, own = [], []
        for m, trained in zip(ms, train):
            p = expit(m + classes[None, None] + speakers[:, :, None] + interaction + trained)
            correct = rng.binomial(CLIPS[None, None], p)
            budgets.append([FoldCounts(f, tuple(f"s{f}_{s}" for s in range(PER_FOLD)), tuple(map(str, range(CLASSES))),
                            correct[f].astype(float), np.tile(CLIPS, (PER_FOLD, 1)).astype(float)) for f in range(FOLDS)])
            own.append(float(p.mean(axis=(0, 1)).mean()))
        out[entry] = (budgets, own)
    return out


def study(mu: dict[str, float], classes: np.ndarray, train_sd: float, rng):
    """One synthetic study at one budget: per entry, its FoldCounts and the true UA of its drawn test speakers."""
    curves = curve_study({e: np.array([m]) for e, m in mu.items()}, classes, train_sd, rng)
    return {e: (budgets[0], own[0]) for e, (budgets, own) in curves.items()}


def fold_bootstrap(values: np.ndarray, n_boot: int, rng) -> tuple[float, float]:
    """The 95% percentile interval of the mean of `values` (one per fold), folds resampled with replacement."""
    means = values[rng.integers(0, values.size, (n_boot, values.size))].mean(axis=1)
    return tuple(np.quantile(means, [0.025, 0.975]))


def coverage(effect: float, train_sd: float, studies: int, n_boot: int, rng) -> dict[str, float]:
    classes = rng.normal(0, 0.5, CLASSES)
    mu = {"A": 0.3 + effect, "B": 0.3}
    true = {e: truth(m, classes, train_sd) for e, m in mu.items()}
    hits = dict.fromkeys(["speaker A", "fold-boot A", "fold-t A", "speaker A-B", "fold-boot A-B", "fold-t A-B",
                          "utterance A"], 0)
    for i in range(studies):
        s = study(mu, classes, train_sd, rng)
        (a, a_own), (b, _) = s["A"], s["B"]
        ua_a, ua_b = np.array([f.ua() for f in a]), np.array([f.ua() for f in b])
        checks = {
            "speaker A": (speaker_interval(a, n_boot=n_boot, seed=i), true["A"]),
            "speaker A-B": (speaker_interval(a, b, n_boot=n_boot, seed=i), true["A"] - true["B"]),
            "utterance A": (speaker_interval(a, n_boot=n_boot, seed=i, unit=UTTERANCES), a_own)}
        for name, (iv, target) in checks.items():
            hits[name] += iv.low <= target <= iv.high
        for name, values, target in (("A", ua_a, true["A"]), ("A-B", ua_a - ua_b, true["A"] - true["B"])):
            low, high = fold_bootstrap(values, n_boot, rng)
            hits[f"fold-boot {name}"] += low <= target <= high
            low, high = t_interval(values, (-1.0, 1.0))
            hits[f"fold-t {name}"] += low <= target <= high
    return {k: v / studies for k, v in hits.items()} | {"true A": true["A"], "true A-B": true["A"] - true["B"]}


def arguments(doc: str) -> argparse.Namespace:
    """--studies and --boot, as every simulation here takes them (`doc`: the script's docstring)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--studies", type=int, default=1000)
    parser.add_argument("--boot", type=int, default=1000)
    return parser.parse_args()


def main() -> None:
    args = arguments(__doc__ or "")
    rng, start = np.random.default_rng(20261206), time.perf_counter()
    print(f"1. rank tests, {args.studies} null studies of {K} entries (alpha {ALPHA}; Holm over {K * (K - 1) // 2} "
          "Wilcoxon pairs)")
    print(f"{'blocks':>6}  {'Friedman':>8}  {'Holm FWER':>9}  {'gated':>6}  {'Nemenyi':>7}  smallest Holm p possible")
    pairs = K * (K - 1) // 2
    for n in (8, 12, 20):
        r = null_rates(n, args.studies, rng)
        floor = min(1.0, pairs * 2 / 2**n)  # the exact two-sided Wilcoxon p of n wins out of n, times the pairs
        print(f"{n:>6}  {r['friedman']:>8.1%}  {r['holm']:>9.1%}  {r['gated']:>6.1%}  {r['nemenyi']:>7.1%}  {floor:.4f}")
    print(f"   ({time.perf_counter() - start:.0f} s)")
    print(f"\n2. coverage of 95% intervals, {args.studies} synthetic studies each ({FOLDS} folds x {PER_FOLD} test "
          f"speakers, {CLASSES} classes), {args.boot} resamples")
    scenarios = [("known effect", 0.3, 0.0), ("no effect", 0.0, 0.0), ("known effect + training noise", 0.3, 0.15)]
    for name, effect, train_sd in scenarios:
        t0 = time.perf_counter()
        c = coverage(effect, train_sd, args.studies, args.boot, rng)
        print(f"- {name} (true UA of A {c['true A']:.4f}, true A - B {c['true A-B']:+.4f}; {time.perf_counter() - t0:.0f} s)")
        print(f"  UA of A:     speakers {c['speaker A']:.1%}  fold bootstrap {c['fold-boot A']:.1%}  fold t "
              f"{c['fold-t A']:.1%}  utterances (vs the drawn speakers' own UA) {c['utterance A']:.1%}")
        print(f"  A - B:       speakers {c['speaker A-B']:.1%}  fold bootstrap {c['fold-boot A-B']:.1%}  fold t "
              f"{c['fold-t A-B']:.1%}")
    print(f"\ntotal {time.perf_counter() - start:.0f} s wall, {time.process_time():.0f} s CPU (one core)")


if __name__ == "__main__":
    main()
