"""Does an ``@weighted`` entry (layer weights chosen on validation speakers: learned, uniform or one layer alone) at
least match the ``@auto`` entry of the same family (one layer chosen on the same validation speakers)? Per budget
both hold: the mean difference over folds with the corrected resampled t interval (statistics.folds), which
weightings the folds picked (read from the recorded layer weights), and, where the weighting scores lower on the test
speakers, why: in how many folds its validation score was at least the chosen layer's (the validation speakers
ranked them the other way), or not (the weighting was the weaker on validation too, and still picked: never, as
both are chosen on validation, unless they are chosen among different classifiers or grids).

>>> picked([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]])
'L1 alone x1, learned x1, uniform x1'
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from featbench.layers import layer_name
from featbench.report.statistics.folds import corrected_t, paired_folds

WEIGHTED, AUTO = "@weighted", "@auto"
BELOW = 0.01  # a weighting this far below the chosen layer (one UA point) is said to lose to it


@dataclass(frozen=True)
class WeightingGap:
    """``@weighted`` minus ``@auto`` of one family and classifier at one budget, over the folds both hold."""

    weighted: str
    auto: str
    classifier: str
    budget: str
    difference: float
    low: float | None
    high: float | None
    folds: int
    val_agreed: int  # folds whose validation score of the weighting was at least the chosen layer's
    picked: str

    @property
    def loses(self) -> bool:
        return self.difference <= -BELOW

    def as_dict(self, entry: str, against: str) -> dict:
        """JSON-ready (protocol.json's 'layer_weighting'), the entries in plain words."""
        return {"entry": entry, "against": against, "weighted": self.weighted, "auto": self.auto,
                "classifier": self.classifier, "budget": self.budget, "difference": self.difference,
                "ci_low": self.low, "ci_high": self.high, "folds": self.folds, "val_agreed": self.val_agreed,
                "picked": self.picked, "loses": self.loses, "why": self.why() if self.loses else ""}

    def why(self) -> str:
        """Why a losing weighting lost, from the validation scores."""
        if self.val_agreed:
            return (f"in {self.val_agreed} of {self.folds} folds the validation speakers scored the weighting at least "
                    f"as high as the chosen layer, the test speakers lower: the few validation speakers of a fold rank "
                    f"two close candidates differently from its test speakers")
        return "the weighting scored lower on the validation speakers too, in every fold"


def difference_text(difference, low, high) -> str:
    """A difference in UA points, signed, with its interval ('-' where a number is missing).

    >>> difference_text(-0.005, -0.016, 0.007), difference_text(0.01, None, None)
    ('-0.5 (-1.6 to +0.7)', '+1.0 (- to -)')
    """
    def points(value) -> str:
        return f"{100 * value:+.1f}" if isinstance(value, (int, float)) else "-"

    return f"{points(difference)} ({points(low)} to {points(high)})"


def picked(weights: list[list[float]]) -> str:
    """Which weighting each row's recorded layer weights are: one layer alone (one-hot), uniform, or learned."""
    said = []
    for recorded in weights:
        w = np.asarray(recorded, dtype=float)
        if w.size and np.isclose(w.max(), 1.0, atol=1e-3):
            said.append(f"{layer_name(int(w.argmax()))} alone")
        elif w.size and np.allclose(w, 1.0 / w.size, atol=1e-3):
            said.append("uniform")
        else:
            said.append("learned")
    counts = pd.Series(said).value_counts().sort_index()
    return ", ".join(f"{k} x{n}" for k, n in counts.items())


def _weights(rows: pd.DataFrame) -> list[list[float]]:
    found = []
    for text in rows["choice"].fillna("").astype(str):
        made = json.loads(text) if text.startswith("{") else {}
        if made.get("layer_weights"):
            found.append(made["layer_weights"])
    return found


def _val_agreed(rows: pd.DataFrame, weighted: str, auto: str, classifier: str, budget: str) -> int:
    def val(family: str) -> pd.Series:
        part = rows[(rows["family"] == family) & (rows["classifier"] == classifier) & (rows["budget"].astype(str) == budget)]
        return pd.to_numeric(part["val_ua"], errors="coerce").groupby(part["fold"]).mean()

    both = pd.concat([val(weighted), val(auto)], axis=1, join="inner").dropna()
    return int((both.iloc[:, 0] >= both.iloc[:, 1] - 1e-12).sum())


def weighting_gaps(rows: pd.DataFrame, best: dict[str, str]) -> list[WeightingGap]:
    """Every ``@weighted`` entry of `best` ({family: classifier}) against the ``@auto`` entry of the same family,
    protocol and classifier, at each budget both hold (with at least two folds)."""
    from featbench.results import budget_order

    gaps = []
    for weighted, classifier in best.items():
        auto = weighted.replace(WEIGHTED, AUTO)
        if WEIGHTED not in weighted or best.get(auto) != classifier:
            continue
        part = rows[rows["family"].isin([weighted, auto]) & (rows["classifier"] == classifier)]
        held = part.groupby("family")["budget"].agg(lambda b: set(b.astype(str)))
        both = held.get(weighted, set()) & held.get(auto, set())
        for budget in [b for b in budget_order(part) if b in both]:
            a, b, fraction = paired_folds(rows, (weighted, classifier), (auto, classifier), budget)
            if len(a) < 2:
                continue
            test = corrected_t(a, b, fraction)
            mine = part[(part["family"] == weighted) & (part["budget"].astype(str) == budget)]
            gaps.append(WeightingGap(weighted, auto, classifier, budget, float(np.mean(a - b)), test.low, test.high,
                                     len(a), _val_agreed(rows, weighted, auto, classifier, budget),
                                     picked(_weights(mine)) or "not recorded"))
    return gaps
