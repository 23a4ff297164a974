"""The data-efficiency ratio: how much less labelled data family A needs to match baseline B.

For A against B: the target is B's mean score (UA, or CCC for a dimensional target: the rows' metric) at a
reference budget (default B's largest). A's budget
to reach it is the first measured budget whose mean UA meets the target, refined by interpolating
linearly in log(examples per class) between it and the budget before. The ratio is B's reference
examples per class over A's. A bootstrap over folds (the independent units: test speaker groups; seeds
are averaged within a fold), paired between A and B (they share the same subsets), gives the 95% interval.
Censored results are said as such: reached already at A's smallest budget, the ratio is only a lower
bound (">= N x"); never reached within A's budgets, it is an upper bound ("< N x").

>>> import numpy as np
>>> x = np.array([8.0, 16, 32, 64, 128])
>>> round(crossing(x, np.array([0.40, 0.50, 0.60, 0.65, 0.70]), 0.55), 2)
22.63
>>> crossing(x, np.array([0.40, 0.50, 0.60, 0.65, 0.70]), 0.90) is None
True
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featbench.report.scale import UA, Scale


def crossing(x: np.ndarray, curve: np.ndarray, target: float) -> float | None:
    """Examples per class at which `curve` first reaches `target` (log-linear interpolation), or None."""
    hits = np.nonzero(curve >= target)[0]
    if not len(hits):
        return None
    i = int(hits[0])
    if i == 0:
        return float(x[0])
    lo, hi = curve[i - 1], curve[i]
    frac = (target - lo) / (hi - lo) if hi > lo else 1.0
    return float(np.exp(np.log(x[i - 1]) + frac * (np.log(x[i]) - np.log(x[i - 1]))))


@dataclass
class Efficiency:
    family: str
    baseline: str
    reference_x: float  # baseline's examples per class at the reference budget
    target: float  # baseline's mean score there
    matched_x: float | None  # examples per class at which the family reaches it (interpolated)
    first_budget_x: float | None  # the first measured budget that reaches it
    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    reached_fraction: float  # share of bootstrap samples in which the target is reached
    at_smallest: bool = False  # reached already at the smallest budget: the ratio is a lower bound
    n_units: int = 0  # folds both families share, over which the means are taken
    smallest_x: float = 0.0  # the family's smallest and largest measured examples per class
    largest_x: float = 0.0
    censored_high: float = 0.0  # share of bootstrap samples reached at the smallest budget (upper end a bound)

    @property
    def bound(self) -> str:
        """'' for a measured ratio, '>=' when reached at the smallest budget, '<' when never reached."""
        return ">=" if self.at_smallest else "<" if self.ratio is None else ""

    def sentence(self, scale: Scale = UA) -> str:
        """The ratio in words; `scale` names the score and what a budget counts (report.scale)."""
        where = (f"{self.baseline}'s {scale.said(self.target)} (at {self.reference_x:.0f} {scale.x_unit}, over "
                 f"{self.n_units} folds)")
        if self.ratio is None:
            return (f"{self.family} does not reach {where} within its measured budgets (up to {self.largest_x:.0f} "
                    f"{scale.per}): < {self.reference_x / self.largest_x:.1f}x less labelled data (not reached)")
        if self.at_smallest:
            return (f"{self.family} reaches {where} already at its smallest budget ({self.smallest_x:.0f} {scale.per}): "
                    f">= {self.ratio:.1f}x less labelled data (reached at the smallest budget tried; a lower bound)")
        if self.ci_low is None:
            ci = f"95% CI lower end: not reached in {1 - self.reached_fraction:.0%} of bootstrap samples"
        else:
            ci = f"95% CI {self.ci_low:.1f}x to {'>= ' if self.censored_high > 0.025 else ''}{self.ci_high:.1f}x"
        return (f"{self.family} matches {where} with {self.matched_x:.0f} {scale.per}: {self.ratio:.1f}x less labelled "
                f"data ({ci}, bootstrap over folds)")


def efficiency_ratio(x_a: np.ndarray, units_a: np.ndarray, x_b: np.ndarray, units_b: np.ndarray,
                     family: str = "A", baseline: str = "B", reference: int = -1,
                     n_boot: int = 2000, seed: int = 0) -> Efficiency:
    """Ratio of B's examples per class at `reference` (an index into x_b) to A's matching budget.

    units_a, units_b: scores of shape (n_folds, n_budgets) for the same folds in the same order.
    """
    if units_a.shape[0] != units_b.shape[0]:
        raise ValueError("families must be measured on the same folds for a paired ratio")
    ref_x = float(x_b[reference])
    target = float(units_b[:, reference].mean())
    matched = crossing(x_a, units_a.mean(0), target)
    first = None
    if matched is not None:
        first = float(x_a[np.nonzero(units_a.mean(0) >= target)[0][0]])
    rng = np.random.default_rng(seed)
    ratios, at_first = [], []
    n = units_a.shape[0]
    for _ in range(n_boot):
        pick = rng.integers(0, n, n)
        m = crossing(x_a, units_a[pick].mean(0), float(units_b[pick, reference].mean()))
        ratios.append(ref_x / m if m else np.nan)
        at_first.append(m is not None and m == float(x_a[0]))
    ratios = np.array(ratios)
    reached = float(np.mean(~np.isnan(ratios)))
    ci_low = ci_high = None
    if reached >= 0.975:
        ci_low, ci_high = (float(v) for v in np.nanpercentile(ratios, [2.5, 97.5]))
    elif reached > 0:
        ci_high = float(np.nanpercentile(ratios, 97.5))
    return Efficiency(family, baseline, ref_x, target, matched, first, ref_x / matched if matched else None,
                      ci_low, ci_high, reached, at_smallest=first is not None and first == float(x_a[0]), n_units=n,
                      smallest_x=float(x_a[0]), largest_x=float(x_a[-1]), censored_high=float(np.mean(at_first)))
