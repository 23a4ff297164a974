"""Figures: every figure but the headline one (which opens the report, under Claims) and the robustness figures (in
their own section)."""
from __future__ import annotations

from featbench.report.model import Section
from featbench.report.sections.base import Inputs
from featbench.report.sections.robustness import FIGURE_PREFIX


def section(inputs: Inputs) -> Section:
    return Section("figures", "Figures", [f for f in inputs.figures if f.stem != "learning_curves"
                                          and not f.stem.startswith(FIGURE_PREFIX)])
