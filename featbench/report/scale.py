"""What the rows' score is, for the report's words and numbers, read from their `metric` column: UA (a share of
clips, shown in %, chance 1 / n_classes, budgets in examples per class) or, for a dimensional target, CCC (a
coefficient shown as such, no agreement at 0, budgets in training utterances).

>>> ccc = scale_of({"metric": CCC_METRIC, "n_classes": 4})
>>> ccc.name, ccc.said(0.5123), ccc.cell(0.5123, 0.4811, 0.5435), ccc.chance, ccc.per
('CCC', 'CCC 0.512', '0.512 ± 0.031', 0.0, 'utterances')
>>> ua = scale_of({"metric": UA_METRIC, "n_classes": 4})
>>> ua.fmt(0.5), ua.cell(0.5, 0.469, 0.531), ua.chance, ua.heading
('50.0%', '50.0 ± 3.1', 0.25, 'UA (%)')
>>> ua.cell(0.97, 0.901, 1.0), ua.cell(0.5, float("nan"), float("nan")), ua.interval(0.355, 1.0)
('97.0 [90.1, 100.0]', '50.0 (one fold: no interval)', '35.5% to 100.0%')
"""
from __future__ import annotations

from dataclasses import dataclass

from featbench.results import CCC_METRIC, UA_METRIC

__all__ = ["CCC_METRIC", "Scale", "UA", "UA_METRIC", "scale_of"]


@dataclass(frozen=True)
class Scale:
    """How a score is named and shown, where chance lies, and what a budget counts."""

    name: str  # "UA" or "CCC"
    metric: str  # the rows' `metric`
    percent: bool  # shown in % (a share) or as a coefficient
    chance: float  # the score of guessing: 1 / n_classes for UA, 0 (no agreement) for CCC
    chance_name: str  # "chance" or "no agreement"
    x_unit: str  # what the x axis and the budgets count: "examples per class" or "training utterances"
    per: str  # the short form after a number: "per class" or "utterances"

    @property
    def dimensional(self) -> bool:
        """True for a dimensional target (CCC): no classes, no confusion matrices."""
        return self.metric == CCC_METRIC

    @property
    def axis(self) -> str:
        """What a budget counts, as an axis says it: 'training examples per class' or 'training utterances'."""
        return self.x_unit if self.dimensional else f"training {self.x_unit}"

    @property
    def heading(self) -> str:
        """A table or axis heading: 'UA (%)' or 'CCC'."""
        return f"{self.name} (%)" if self.percent else self.name

    @property
    def factor(self) -> float:
        """What a score is multiplied by in tables and plots (100 for a share shown in %)."""
        return 100.0 if self.percent else 1.0

    def fmt(self, value: float) -> str:
        """A score in a sentence: '64.1%' or '0.641'."""
        return f"{value:.1%}" if self.percent else f"{value:.3f}"

    def said(self, value: float) -> str:
        """A score named in a sentence: '64.1%' (UA, as every report has said it) or 'CCC 0.641'."""
        return self.fmt(value) if self.percent else f"{self.name} {self.fmt(value)}"

    @property
    def bounds(self) -> tuple[float, float]:
        """The range a score can take, which every interval stays in (report.intervals): [0, 1] or [-1, 1] for CCC."""
        return (0.0, 1.0) if self.percent else (-1.0, 1.0)

    def cell(self, mean: float, low: float, high: float) -> str:
        """A table cell: mean ± half-width of its interval ('64.1 ± 5.0' in %, '0.641 ± 0.050'); mean [low, high]
        where the interval was clipped to the score's range; the mean alone, said so, for one fold (no interval)."""
        factor, digits = (100.0, 1) if self.percent else (1.0, 3)
        if low != low or high != high:  # NaN: one fold
            return f"{mean * factor:.{digits}f} (one fold: no interval)"
        if abs((high - mean) - (mean - low)) > 1e-9:
            return f"{mean * factor:.{digits}f} [{low * factor:.{digits}f}, {high * factor:.{digits}f}]"
        return f"{mean * factor:.{digits}f} ± {(high - mean) * factor:.{digits}f}"

    def interval(self, low: float, high: float) -> str:
        """Both ends of a score's interval in words ('35.5% to 100.0%'), or 'one fold: no interval'."""
        return "one fold: no interval" if low != low or high != high else f"{self.fmt(low)} to {self.fmt(high)}"


UA = Scale("UA", UA_METRIC, True, 0.25, "chance", "examples per class", "per class")
"""UA of 4 classes; `scale_of` gives the chance of the rows' own number of classes."""


def scale_of(protocol: dict) -> Scale:
    """The scale of a protocol (a row, or `report.aggregate.protocol_of`): CCC rows, else UA."""
    if protocol.get("metric") == CCC_METRIC:
        return Scale("CCC", CCC_METRIC, False, 0.0, "no agreement", "training utterances", "utterances")
    return Scale("UA", str(protocol.get("metric", UA_METRIC)), True, 1.0 / float(protocol["n_classes"]), "chance",
                 "examples per class", "per class")
