"""The data-efficiency ratio: how many times fewer labels family A needs to match baseline B.

For A against B: the target is B's mean score (UA, or CCC for a dimensional target: the rows' metric) at a
reference budget (default B's largest). A's budget to reach it is the first measured budget whose mean score
meets the target, refined by interpolating linearly in log(examples per class) between it and the budget before.

Two ratios, each with a 95% bootstrap interval, paired between A and B (they share the same subsets and test
speakers). What the bootstrap resamples (`unit`): where both entries' rows hold each test speaker's correct
predictions per class (results schema 5's correct_by_speaker), test speakers within each fold, the same speakers for A
and B and for every budget, each fold's score recomputed from the drawn speakers' counts (report.statistics.speakers:
S - 1 of S drawn, expanded percentile interval); otherwise folds (test speaker groups; seeds are averaged within a
fold), and `why_folds` says why (older rows, a dimensional target, one test speaker per fold):
- the study ratio: B's reference examples per class over A's;
- the ratio against where B stops improving: B's *plateau* (the smallest budget at or below the reference whose
  mean score reaches the 95% t-interval of B's reference score, report.intervals, and from which the mean curve
  rises by at most FLAT_GAIN per doubling of the budget: flat where the curve is, not merely where the interval is
  wide) over A's. A flat baseline (plateau below its reference) inflates the study ratio; this one does not.
A baseline whose reference score has chance (1 / n_classes for UA, 0 for CCC) inside its interval gives no ratio.
Censored results are said as such, at the ratio and at each end of its interval: reached already at A's
smallest budget, a ratio is a lower bound ("≥ N×"); never reached within A's budgets, an upper bound ("< N×").
With one fold there is no interval, and the sentence says so.

>>> import numpy as np
>>> x = np.array([8.0, 16, 32, 64, 128])
>>> round(crossing(x, np.array([0.40, 0.50, 0.60, 0.65, 0.70]), 0.55), 2)
22.63
>>> crossing(x, np.array([0.40, 0.50, 0.60, 0.65, 0.70]), 0.90) is None
True
>>> interval_text(1.0, 18.8, "< ", "", 6), interval_text(2.0, 3.5, ">= ", ">= ", 6)
('95% CI < 1.0× to 18.8×', '95% CI ≥ 2.0× to ≥ 3.5×')
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featbench.report.intervals import t_bounds
from featbench.report.scale import UA, Scale
from featbench.report.statistics.speakers import FoldCounts, expanded_quantile, resampled_curves

TAIL = 0.025  # a bootstrap end is censored when more than this share of samples is censored on its side
FLAT_GAIN = 0.01  # a curve is flat from a budget on where its mean gains at most this per doubling (1 UA point)
MARKS = {"": "", "< ": "< ", ">= ": "≥ "}  # how a censored end reads in a sentence
FEWER = " fewer labels"  # the one wording of a ratio, in every section
FOLDS, SPEAKERS = "folds", "speakers"  # what a ratio's bootstrap resamples (Efficiency.unit)
RESAMPLED = {FOLDS: "bootstrap over folds", SPEAKERS: "test speakers resampled within folds"}
"""How a ratio's sentence names its interval's unit."""


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


def interval_text(low: float | None, high: float | None, low_mark: str, high_mark: str, n_units: int) -> str:
    """Both ends of a ratio's 95% bootstrap interval, a censored end marked as a bound ('< 1.0x', '>= 16.0x')."""
    if n_units < 2:
        return "one fold: no interval"
    if low is None or high is None:
        return "no interval"
    return f"95% CI {MARKS[low_mark]}{low:.1f}× to {MARKS[high_mark]}{high:.1f}×"


def resampling_said(effs: list) -> str:
    """What the 95% bootstrap intervals of these ratios (Efficiency) resample, in words, with why folds where they are.

    >>> from dataclasses import replace
    >>> from featbench.report.statistics.counts import NO_COUNTS
    >>> e = Efficiency("a", "b", 64.0, 0.6, 8.0, 8.0, 8.0, 5.0, 12.0, 1.0)
    >>> resampling_said([e, replace(e, unit=SPEAKERS)])
    '95% bootstrap interval that resamples test speakers within each fold (the same speakers for both entries and every budget; seeds averaged within a fold); over folds instead for 1 of 2 ratios'
    >>> resampling_said([replace(e, why_folds=NO_COUNTS)])
    '95% bootstrap interval over folds (test speaker groups, seeds averaged within a fold), not over test speakers: these rows hold no per-speaker correct counts (correct_by_speaker, recorded from results schema 5 on)'
    """
    folds = [e for e in effs if e.unit == FOLDS]
    whys = "; ".join(dict.fromkeys(e.why_folds for e in folds if e.why_folds))
    if not folds:
        return ("95% bootstrap interval that resamples test speakers within each fold (the same speakers for both "
                "entries and every budget; seeds averaged within a fold)")
    if len(folds) == len(effs):
        return ("95% bootstrap interval over folds (test speaker groups, seeds averaged within a fold)"
                + (f", not over test speakers: {whys}" if whys else ""))
    return (f"{resampling_said([e for e in effs if e.unit == SPEAKERS])}; over folds instead for {len(folds)} of "
            f"{len(effs)} ratios" + (f" ({whys})" if whys else ""))


def flat_gain(scale: Scale = UA) -> str:
    """FLAT_GAIN in the scale's words: '1 point' (UA, in %) or 'CCC 0.01'."""
    return f"{FLAT_GAIN * 100:g} point" if scale.percent else f"{scale.name} {FLAT_GAIN:g}"


def plateau_index(x_b_units: np.ndarray, reference: int, lows: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per curve (rows of `x_b_units`, mean curves of B at budgets `x`), the first budget index <= reference whose
    score reaches that curve's `lows` (the lower end of its reference score's interval; NaN: the reference score
    itself) and from which the curve gains at most FLAT_GAIN per doubling of the budget up to the reference.

    >>> x = np.array([16.0, 32, 64])
    >>> plateau_index(np.array([[0.513, 0.56, 0.601], [0.595, 0.598, 0.601]]), 2, np.array([0.45, 0.45]), x).tolist()
    [2, 0]
    """
    curves = x_b_units[:, :reference + 1]
    floor = np.where(np.isnan(lows), curves[:, -1], lows)
    doublings = np.log2(float(x[reference]) / np.asarray(x[:reference + 1], dtype=float))
    flat = curves[:, -1:] - curves <= FLAT_GAIN * doublings[None, :] + 1e-12
    return np.argmax((curves >= floor[:, None] - 1e-12) & flat, axis=1)


def marks(below: np.ndarray, above: np.ndarray, tail: float = TAIL) -> tuple[str, str]:
    """How each end of a bootstrap interval reads when censored samples hold their bound: '< ' where the end falls
    among samples that never reach the target (the largest budget held), '>= ' where it falls among samples that
    reach it at the smallest budget, '' where it is measured; `tail`: the share of samples outside each end.

    >>> marks(np.array([True] * 10 + [False] * 90), np.zeros(100, bool))
    ('< ', '')
    """
    share_below, share_above = float(np.mean(below)), float(np.mean(above))
    low = "< " if share_below > tail else ">= " if share_above > 1 - tail else ""
    high = ">= " if share_above > tail else "< " if share_below > 1 - tail else ""
    return low, high


@dataclass
class Efficiency:
    family: str
    baseline: str
    reference_x: float  # baseline's examples per class at the reference budget
    target: float  # baseline's mean score there
    matched_x: float | None  # examples per class at which the family reaches it (interpolated)
    first_budget_x: float | None  # the first measured budget that reaches it
    ratio: float | None  # the study ratio: reference_x / matched_x
    ci_low: float | None
    ci_high: float | None
    reached_fraction: float  # share of bootstrap samples in which the target is reached
    at_smallest: bool = False  # reached already at the smallest budget: the ratio is a lower bound
    n_units: int = 0  # folds both families share, over which the means are taken
    smallest_x: float = 0.0  # the family's smallest and largest measured examples per class
    largest_x: float = 0.0
    censored_high: float = 0.0  # share of bootstrap samples reached at the smallest budget (upper end a bound)
    low_mark: str = ""  # '< ' or '>= ' where an interval end is a bound (censored samples), '' where measured
    high_mark: str = ""
    target_low: float = float("nan")  # the 95% t-interval of the baseline's reference score (NaN: one fold)
    target_high: float = float("nan")
    chance: float = 0.0
    at_chance: bool = False  # chance lies in the baseline's interval: no ratio
    plateau_x: float | None = None  # where the baseline stops improving (examples per class)
    plateau_score: float | None = None  # the baseline's mean score there
    flat: bool = False  # the plateau lies below the reference budget
    plateau_ratio: float | None = None  # plateau_x / matched_x
    plateau_ci_low: float | None = None
    plateau_ci_high: float | None = None
    unit: str = FOLDS  # what the bootstrap resamples: FOLDS or SPEAKERS (test speakers within folds)
    why_folds: str = ""  # why folds where test speakers could not be resampled ('' otherwise)

    @property
    def bound(self) -> str:
        """'' for a measured ratio, '>=' when reached at the smallest budget, '<' when never reached."""
        return "" if self.at_chance else ">=" if self.at_smallest else "<" if self.ratio is None else ""

    def interval(self, plateau: bool = False) -> str:
        """The study ratio's interval (or the plateau ratio's), both ends stated."""
        low, high = (self.plateau_ci_low, self.plateau_ci_high) if plateau else (self.ci_low, self.ci_high)
        return interval_text(low, high, self.low_mark, self.high_mark, self.n_units)

    def saved(self, plateau: bool = False, what: str = FEWER) -> str:
        """A ratio with its bound and interval, `what` said after it: '6.8× fewer labels (95% CI 4.1× to 9.9×)',
        '< 1.0× fewer labels (not reached; 95% CI < 1.0× to 1.2×)'."""
        reference = self.plateau_x if plateau else self.reference_x
        ratio = self.plateau_ratio if plateau else self.ratio
        if self.ratio is None:
            return f"< {reference / self.largest_x:.1f}×{what} (not reached; {self.interval(plateau)})"
        if self.at_smallest:
            return (f"≥ {ratio:.1f}×{what} (reached at the smallest budget tried; a lower bound; "
                    f"{self.interval(plateau)})")
        return f"{ratio:.1f}×{what} ({self.interval(plateau)})"

    def _names(self, names: tuple[str, str] | None) -> tuple[str, str]:
        return names or (self.family, self.baseline)

    def chance_sentence(self, scale: Scale = UA, names: tuple[str, str] | None = None) -> str:
        """'A against B: baseline at chance: no ratio (...)'."""
        family, baseline = self._names(names)
        return (f"{family} against {baseline}: baseline at chance: no ratio (it scores {scale.said(self.target)} at "
                f"{self.reference_x:.0f} {scale.x_unit}, over {self.n_units} folds, 95% interval "
                f"{scale.interval(self.target_low, self.target_high)}, which holds {scale.chance_name} "
                f"({scale.fmt(self.chance)}))")

    def plateau_sentence(self, scale: Scale = UA) -> str:
        """The ratio against where the baseline stops improving, and whether its curve is flat."""
        reach = ("within the 95% interval of its full-data score" if self.n_units > 1
                 else "its full-data score (one fold: no interval)")
        shape = (f"flat from there, gaining at most {flat_gain(scale)} per doubling of the budget" if self.flat
                 else "it keeps improving up to its reference budget")
        return (f"counted from where the baseline stops improving ({scale.said(self.plateau_score)} at "
                f"{self.plateau_x:.0f} {scale.per}, {reach}; {shape}): {self.saved(plateau=True)}")

    def sentence(self, scale: Scale = UA, names: tuple[str, str] | None = None) -> str:
        """The ratios in words; `scale` names the score and what a budget counts (report.scale), `names` the entry and
        the baseline (default: `family` and `baseline`)."""
        if self.at_chance:
            return self.chance_sentence(scale, names)
        family, baseline = self._names(names)
        head = (f"{family} against {baseline} ({scale.said(self.target)} at {self.reference_x:.0f} {scale.x_unit}, "
                f"over {self.n_units} folds): ")
        if self.ratio is None:
            study = f"not reached within its budgets (up to {self.largest_x:.0f} {scale.per}): {self.saved()}"
        elif self.at_smallest:
            study = f"reached already at its smallest budget ({self.smallest_x:.0f} {scale.per}): {self.saved()}"
        else:
            study = (f"matched with {self.matched_x:.0f} {scale.per}: {self.ratio:.1f}×{FEWER} ({self.interval()}, "
                     f"{RESAMPLED[self.unit]})")
        return f"{head}{study}; {self.plateau_sentence(scale)}"


Curves = tuple[list[list[FoldCounts]], list[list[FoldCounts]]]
"""A's and B's FoldCounts per budget (in the order of x_a and x_b), each a list over the folds of units_a / units_b."""


def _samples(units_a: np.ndarray, units_b: np.ndarray, counts: Curves | None, n_boot: int,
             seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(A's and B's fold scores in each bootstrap sample, of shape (n_boot, n_folds, n_budgets); the share of samples
    left out at each end of the interval): test speakers resampled within folds with `counts` (the expanded percentile on the speakers'
    degrees of freedom, report.statistics.speakers), else whole folds (the plain 2.5% and 97.5% percentiles)."""
    rng = np.random.default_rng(seed)
    if counts is None:
        n = units_a.shape[0]
        picks = np.array([rng.integers(0, n, n) for _ in range(n_boot)])
        return units_a[picks], units_b[picks], TAIL
    samples_a, samples_b = resampled_curves(list(counts), n_boot, rng)
    folds = counts[0][0]
    return samples_a, samples_b, 1 - expanded_quantile(1 - 2 * TAIL, sum(len(f.speakers) - 1 for f in folds))


def efficiency_ratio(x_a: np.ndarray, units_a: np.ndarray, x_b: np.ndarray, units_b: np.ndarray,
                     family: str = "A", baseline: str = "B", reference: int = -1,
                     n_boot: int = 2000, seed: int = 0, scale: Scale = UA, counts: Curves | None = None,
                     why_folds: str = "") -> Efficiency:
    """Ratios of B's examples per class at `reference` (an index into x_b), and at B's plateau, to A's matching
    budget; none when B's reference score is at `scale.chance` within its interval.

    units_a, units_b: scores of shape (n_folds, n_budgets) for the same folds in the same order. `counts`: both
    entries' per-speaker counts (Curves), to resample test speakers within folds; without them folds are resampled,
    `why_folds` saying why.
    """
    if units_a.shape[0] != units_b.shape[0]:
        raise ValueError("families must be measured on the same folds for a paired ratio")
    reference = reference % len(x_b)
    n = units_a.shape[0]
    ref_x = float(x_b[reference])
    target = float(units_b[:, reference].mean())
    std = units_b[:, reference].std(ddof=1) if n > 1 else 0.0
    low, high = (float(v) for v in t_bounds(target, std, n, scale.bounds))
    at_chance = (low <= scale.chance) if low == low else target <= scale.chance
    base = dict(smallest_x=float(x_a[0]), largest_x=float(x_a[-1]), n_units=n, target_low=low, target_high=high,
                chance=scale.chance, unit=FOLDS if counts is None else SPEAKERS,
                why_folds=why_folds if counts is None else "")
    if at_chance:
        return Efficiency(family, baseline, ref_x, target, None, None, None, None, None, 0.0, at_chance=True, **base)
    plateau = int(plateau_index(units_b.mean(0)[None, :], reference, np.array([low]), x_b)[0])
    plateau_x = float(x_b[plateau])
    matched = crossing(x_a, units_a.mean(0), target)
    first = None
    if matched is not None:
        first = float(x_a[np.nonzero(units_a.mean(0) >= target)[0][0]])
    samples_a, samples_b, tail = _samples(units_a, units_b, counts, n_boot, seed)
    means_b = samples_b.mean(1)
    lows = t_bounds(means_b[:, reference], samples_b[:, :, reference].std(1, ddof=1) if n > 1 else np.zeros(n_boot), n,
                    scale.bounds)[0]
    plateaus = x_b[plateau_index(means_b, reference, lows, x_b)].astype(float)
    matches = np.array([crossing(x_a, sample.mean(0), float(mean)) or np.nan
                        for sample, mean in zip(samples_a, means_b[:, reference])])
    below, above = np.isnan(matches), matches == float(x_a[0])
    held = np.where(below, float(x_a[-1]), matches)  # a sample never reached holds its bound: the largest budget
    ends = [100 * tail, 100 - 100 * tail]
    ci_low, ci_high = (float(v) for v in np.percentile(ref_x / held, ends))
    p_low, p_high = (float(v) for v in np.percentile(plateaus / held, ends))
    low_mark, high_mark = marks(below, above, tail)
    return Efficiency(family, baseline, ref_x, target, matched, first, ref_x / matched if matched else None,
                      ci_low, ci_high, float(np.mean(~below)), at_smallest=first is not None and first == float(x_a[0]),
                      censored_high=float(np.mean(above)), low_mark=low_mark, high_mark=high_mark, plateau_x=plateau_x,
                      plateau_score=float(units_b.mean(0)[plateau]), flat=plateau < reference,
                      plateau_ratio=plateau_x / matched if matched else None, plateau_ci_low=p_low, plateau_ci_high=p_high,
                      **base)
