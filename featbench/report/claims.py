"""The claims a report makes, in plain words: each honest entry against the baseline, and each entry against its own
plain twin (the view trained within the corpus, or normalised on the training rows), with the labels per class it
needs, its efficiency ratio and both ends of the ratio's interval (report.efficiency: bounds where censored), and
one verdict word.

Verdicts: SUPPORTED (the whole interval lies above 1×: fewer labels), NOT_SIGNIFICANT (the interval holds 1×),
MORE_LABELS (the whole interval lies below 1×), NOT_REACHED (the entry never reaches the counterpart's score within
its budgets, nor in almost every bootstrap sample: no interval end above its bound), AT_CHANCE (the counterpart's
score is not above chance: no ratio), ONE_FOLD (no interval to judge), ONE_BUDGET (the entry is measured at one
budget: no curve, so no ratio). Where the counterpart's curve is flat before its reference budget, the ratio counted
from where it stops improving gets a verdict of its own (`verdict(eff, plateau=True)`), and a SUPPORTED claim whose
second verdict is not SUPPORTED is FULL_BUDGET_ONLY: the saving may come from the flat end of the counterpart's curve.

>>> import numpy as np
>>> from featbench.report.efficiency import efficiency_ratio
>>> x = np.array([4.0, 8, 16, 32, 64])
>>> noise = np.random.default_rng(0).normal(0, 0.02, (2, 6, 5))
>>> base = np.array([0.40, 0.50, 0.60, 0.65, 0.70]) + noise[0]
>>> eff = efficiency_ratio(x, base + 0.1 + noise[1], x, base, n_boot=200)
>>> verdict(eff), ratio_text(eff), interval_text(eff), eff.flat
('supported', '4.2×', '3.5× to 4.7×', False)
"""
from __future__ import annotations

from dataclasses import dataclass

from featbench.report.efficiency import Efficiency

SUPPORTED, NOT_SIGNIFICANT, MORE_LABELS = "supported", "not significant", "more labels needed"
NOT_REACHED, AT_CHANCE, ONE_FOLD = "not reached", "baseline at chance", "one fold: no test"
ONE_BUDGET, FULL_BUDGET_ONLY = "one budget: no ratio", "only against the full budget"
BASELINE, TRANSFER, NORMALISATION = "against the baseline", "another corpus's labels added", "per-speaker normalisation"

_MARKS = {"": "", "< ": "<\u00a0", ">= ": "≥\u00a0"}


def _one_verdict(eff: Efficiency, plateau: bool) -> str:
    """The verdict of one of the two ratios (the study ratio, or the one counted from the plateau)."""
    if eff.at_chance:
        return AT_CHANCE
    if eff.smallest_x == eff.largest_x:
        return ONE_BUDGET
    low, high = (eff.plateau_ci_low, eff.plateau_ci_high) if plateau else (eff.ci_low, eff.ci_high)
    if eff.ratio is None and (eff.n_units < 2 or high is None or eff.high_mark == "< "):
        return NOT_REACHED  # never reached, on average and (with folds to resample) in almost every sample
    if eff.n_units < 2 or low is None:
        return ONE_FOLD
    if low > 1.0 and eff.low_mark != "< ":
        return SUPPORTED
    if high < 1.0 and eff.high_mark != ">= ":
        return MORE_LABELS
    return NOT_SIGNIFICANT  # also a curve that misses the target on average but reaches it in some samples


def verdict(eff: Efficiency, plateau: bool = False) -> str:
    """One word (or a few) for a claim, see the module docstring; with `plateau`, the verdict of the ratio counted
    from where the counterpart stops improving alone."""
    if plateau:
        return _one_verdict(eff, True)
    first = _one_verdict(eff, False)
    if first == SUPPORTED and eff.flat and _one_verdict(eff, True) != SUPPORTED:
        return FULL_BUDGET_ONLY
    return first


def plateau_text(eff: Efficiency) -> str:
    """The claims table's last cell: the ratio counted from where the counterpart stops improving, its interval and its
    own verdict ('2.4× (0.9× to 6.2×): not significant'); '–' where the counterpart keeps improving."""
    if not eff.flat or eff.at_chance:
        return "–"
    return f"{ratio_text(eff, True)} ({interval_text(eff, True)}): {verdict(eff, plateau=True)}"


def ratio_text(eff: Efficiency, plateau: bool = False) -> str:
    """'20.0×', '≥ 16.0×' (reached at the smallest budget), '< 1.0×' (never reached), 'no ratio' (at chance); against
    where the baseline stops improving with `plateau`."""
    if eff.at_chance or eff.smallest_x == eff.largest_x:
        return "no ratio"
    reference, ratio = (eff.plateau_x, eff.plateau_ratio) if plateau else (eff.reference_x, eff.ratio)
    if eff.ratio is None:
        return f"<\u00a0{reference / eff.largest_x:.1f}×"
    return f"{_MARKS['>= '] if eff.at_smallest else ''}{ratio:.1f}×"


def interval_text(eff: Efficiency, plateau: bool = False) -> str:
    """Both ends of the ratio's 95% interval ('17.0× to 23.5×', '<\u00a01.0× to 1.2×'), or why there is none."""
    if eff.at_chance or eff.smallest_x == eff.largest_x:
        return "n/a"
    low, high = (eff.plateau_ci_low, eff.plateau_ci_high) if plateau else (eff.ci_low, eff.ci_high)
    if eff.n_units < 2 or low is None or high is None:
        return "one fold: no interval"
    return f"{_MARKS[eff.low_mark]}{low:.1f}× to {_MARKS[eff.high_mark]}{high:.1f}×"


def needed_text(eff: Efficiency) -> str:
    """The entry's labels per class (or training utterances) to match its counterpart, against the counterpart's:
    '7 of 150', '≤\u00a04 of 150' (already at the smallest budget), '>\u00a0150 of 150' (never reached)."""
    if eff.at_chance or eff.smallest_x == eff.largest_x:
        return "n/a"
    if eff.ratio is None:
        return f">\u00a0{eff.largest_x:.0f} of {eff.reference_x:.0f}"
    if eff.at_smallest:
        return f"≤\u00a0{eff.smallest_x:.0f} of {eff.reference_x:.0f}"
    return f"{eff.matched_x:.0f} of {eff.reference_x:.0f}"


@dataclass(frozen=True)
class Claim:
    """One row of the claims table: `entry` against `counterpart` (display names), both in plain words (`entry_words`,
    `counterpart_words`, report.names), what kind of claim it is (BASELINE, TRANSFER, NORMALISATION), and the
    efficiency ratio behind it."""

    entry: str
    counterpart: str
    entry_words: str
    counterpart_words: str
    kind: str
    eff: Efficiency

    @property
    def verdict(self) -> str:
        return verdict(self.eff)

    @property
    def ratio(self) -> str:
        return ratio_text(self.eff)

    @property
    def interval(self) -> str:
        return interval_text(self.eff)

    @property
    def needed(self) -> str:
        return needed_text(self.eff)

    def as_dict(self) -> dict:
        """The claim as JSON-ready data (protocol.json's 'claims')."""
        e = self.eff
        return {"entry": self.entry, "counterpart": self.counterpart, "entry_words": self.entry_words,
                "counterpart_words": self.counterpart_words, "kind": self.kind, "verdict": self.verdict,
                "ratio": e.ratio, "ci_low": e.ci_low, "ci_high": e.ci_high, "low_bound": e.low_mark.strip(),
                "high_bound": e.high_mark.strip(), "matched_x": e.matched_x, "reference_x": e.reference_x,
                "target": e.target, "n_folds": e.n_units, "resampled": e.unit, "flat": e.flat, "plateau_x": e.plateau_x,
                "plateau_ratio": e.plateau_ratio, "plateau_ci_low": e.plateau_ci_low, "plateau_ci_high": e.plateau_ci_high,
                "plateau_verdict": verdict(e, plateau=True) if e.flat else None}


def claims_of(analysis) -> list[Claim]:
    """The claims of a report.analysis.Analysis: its honest headline entries against the baseline, then every
    honest entry against its honest per-speaker or within-corpus twin."""
    entries, names = analysis.entries, analysis.names
    honest = set(analysis.honest)
    picked = [(p, BASELINE) for p in analysis.ratios if p.family in honest]
    picked += [(p, NORMALISATION) for p in analysis.normalised]
    picked += [(p, TRANSFER) for p in analysis.transfer]
    return [Claim(p.family, p.counterpart, names[p.family], names[p.counterpart], kind, p.eff) for p, kind in picked
            if entries[p.family].honest and entries[p.counterpart].honest]


LARGER_DROP = "larger drop"
"""The verdict of a robustness claim whose whole interval lies above 0: the entry loses more than the baseline."""
ROBUSTNESS = "drop from clean against the baseline's"


def drop_verdict(comparison) -> str:
    """'the entry's drop is smaller' (report.robustness.Comparison): SUPPORTED where the whole 95% interval of the
    difference of drops lies below 0, LARGER_DROP where it lies above, NOT_SIGNIFICANT where it holds 0, ONE_FOLD
    with one fold in common."""
    low, high = comparison.ci_low, comparison.ci_high
    if comparison.n_folds < 2 or low != low or high != high:
        return ONE_FOLD
    if high < 0:
        return SUPPORTED
    return LARGER_DROP if low > 0 else NOT_SIGNIFICANT


def points_text(value: float, scale) -> str:
    """A drop (a difference of scores) in the scale's unit: '9.1 points' (UA, in points of %) or '0.091 CCC'."""
    return f"{round(value * 100, 1) + 0.0:.1f} points" if scale.percent else f"{round(value, 3) + 0.0:.3f} {scale.name}"


def drop_interval(low: float, high: float, scale) -> str:
    """'95% CI 6.0 to 12.2' (in the drop's unit), or 'one fold: no interval'."""
    if low != low or high != high:
        return "one fold: no interval"
    factor, digits = (100.0, 1) if scale.percent else (1.0, 3)
    return f"95% CI {round(low * factor, digits) + 0.0:.{digits}f} to {round(high * factor, digits) + 0.0:.{digits}f}"


@dataclass(frozen=True)
class RobustnessClaim:
    """'The entry's drop from clean at one test condition is smaller than the baseline's', both named in plain
    words, with the comparison behind it (report.robustness.Comparison) and the rows' scale."""

    entry_words: str
    baseline_words: str
    comparison: object
    scale: object

    @property
    def verdict(self) -> str:
        return drop_verdict(self.comparison)

    @property
    def sentence(self) -> str:
        """'Under white:10 (trained clean, budget all): X loses 9.1 points (95% CI 6.0 to 12.2), Y 14.3 points (...):
        X's drop is smaller by 5.2 points (95% CI 2.0 to 8.4): supported'."""
        c, s = self.comparison, self.scale
        e, b = c.entry, c.baseline
        smaller = c.difference <= 0  # said as a positive amount, its interval turned alike
        by, low, high = (-c.difference, -c.ci_high, -c.ci_low) if smaller else (c.difference, c.ci_low, c.ci_high)
        return (f"Under {e.test} (trained {e.train}, budget {e.budget}, {c.n_folds} folds): {self.entry_words} loses "
                f"{points_text(e.mean, s)} ({drop_interval(e.ci_low, e.ci_high, s)}), {self.baseline_words} "
                f"{points_text(b.mean, s)} ({drop_interval(b.ci_low, b.ci_high, s)}): {self.entry_words}'s drop is "
                f"{'smaller' if smaller else 'larger'} by {points_text(by, s)} ({drop_interval(low, high, s)}): "
                f"{self.verdict}")

    def as_dict(self) -> dict:
        """The claim as JSON-ready data (protocol.json's 'robustness_claims')."""
        c = self.comparison
        return {"entry": c.entry.family, "baseline": c.baseline.family, "entry_words": self.entry_words,
                "baseline_words": self.baseline_words, "train_condition": c.entry.train,
                "test_condition": c.entry.test, "budget": c.entry.budget, "entry_drop": c.entry.mean,
                "baseline_drop": c.baseline.mean, "difference": c.difference, "ci_low": c.ci_low,
                "ci_high": c.ci_high, "n_folds": c.n_folds, "verdict": self.verdict, "sentence": self.sentence}


def robustness_claims(analysis) -> list[RobustnessClaim]:
    """Each honest headline entry's drop against the baseline's, at every test condition both hold
    (report.robustness)."""
    names = analysis.names
    return [RobustnessClaim(names[c.entry.family], names[c.baseline.family], c, analysis.scale)
            for c in analysis.robustness.comparisons]
