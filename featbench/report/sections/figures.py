"""Figures: every figure but the headline one (which opens the report, under Claims), the robustness figures and the
critical-difference diagram (each in its own section)."""
from __future__ import annotations

from featbench.report.model import Section
from featbench.report.sections.base import Inputs
from featbench.report.sections.robustness import FIGURE_PREFIX
from featbench.report.sections.statistics import FIGURE


def section(inputs: Inputs) -> Section:
    return Section("figures", "Figures", [f for f in inputs.figures if f.stem not in ("learning_curves", FIGURE)
                                          and not f.stem.startswith(FIGURE_PREFIX)])
