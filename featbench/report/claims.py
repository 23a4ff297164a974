"""The claims a report makes, in plain words: each honest entry against the baseline, and each entry against its own
plain twin (the view trained within the corpus, or normalised on the training rows), with the labels per class it
needs, its efficiency ratio and both ends of the ratio's interval (report.efficiency: bounds where censored), and
one verdict word.

Verdicts: SUPPORTED (the whole interval lies above 1x: fewer labels), NOT_SIGNIFICANT (the interval holds 1x),
MORE_LABELS (the whole interval lies below 1x), NOT_REACHED (the entry never reaches the counterpart's score within
its budgets), AT_CHANCE (the counterpart's score is not above chance: no ratio), ONE_FOLD (no interval to judge),
ONE_BUDGET (the entry is measured at one budget: no curve, so no ratio).

>>> import numpy as np
>>> from featbench.report.efficiency import efficiency_ratio
>>> x = np.array([4.0, 8, 16, 32, 64])
>>> noise = np.random.default_rng(0).normal(0, 0.02, (2, 6, 5))
>>> base = np.array([0.40, 0.50, 0.60, 0.65, 0.70]) + noise[0]
>>> eff = efficiency_ratio(x, base + 0.1 + noise[1], x, base, n_boot=200)
>>> verdict(eff), ratio_text(eff), interval_text(eff)
('supported', '4.2×', '3.5× to 4.7×')
"""
from __future__ import annotations

from dataclasses import dataclass

from featbench.report.efficiency import Efficiency

SUPPORTED, NOT_SIGNIFICANT, MORE_LABELS = "supported", "not significant", "more labels needed"
NOT_REACHED, AT_CHANCE, ONE_FOLD = "not reached", "baseline at chance", "one fold: no test"
ONE_BUDGET = "one budget: no ratio"
BASELINE, TRANSFER, NORMALISATION = "against the baseline", "another corpus's labels added", "per-speaker normalisation"

_MARKS = {"": "", "< ": "<\u00a0", ">= ": "≥\u00a0"}


def verdict(eff: Efficiency) -> str:
    """One word (or three) for a ratio; see the module docstring."""
    if eff.at_chance:
        return AT_CHANCE
    if eff.smallest_x == eff.largest_x:
        return ONE_BUDGET
    if eff.ratio is None:
        return NOT_REACHED
    if eff.n_units < 2 or eff.ci_low is None:
        return ONE_FOLD
    if eff.ci_low > 1.0 and eff.low_mark != "< ":
        return SUPPORTED
    if eff.ci_high < 1.0 and eff.high_mark != ">= ":
        return MORE_LABELS
    return NOT_SIGNIFICANT


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
                "target": e.target, "n_folds": e.n_units}


def claims_of(analysis) -> list[Claim]:
    """The claims of a report.analysis.Analysis: its honest headline entries against the baseline, then every
    honest entry against its honest per-speaker or within-corpus twin."""
    from featbench.report.entries import SELECTED_ON_VALIDATION
    from featbench.report.names import plain_name

    entries, setups = analysis.entries, analysis.setups

    def words(family: str) -> str:
        entry = entries[family]
        named = entry.how != SELECTED_ON_VALIDATION  # a classifier chosen on validation speakers goes unnamed
        return plain_name(setups[family], entry.classifier if named else None, oracle=not entry.honest)

    honest = set(analysis.honest)
    picked = [(p, BASELINE) for p in analysis.ratios if p.family in honest]
    picked += [(p, NORMALISATION) for p in analysis.normalised]
    picked += [(p, TRANSFER) for p in analysis.transfer]
    return [Claim(p.family, p.counterpart, words(p.family), words(p.counterpart), kind, p.eff) for p, kind in picked
            if entries[p.family].honest and entries[p.counterpart].honest]
