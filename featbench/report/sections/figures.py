"""Figures: every figure but the headline one (which opens the report, under Claims)."""
from __future__ import annotations

from featbench.report.model import Section
from featbench.report.sections.base import Inputs


def section(inputs: Inputs) -> Section:
    return Section("figures", "Figures", [f for f in inputs.figures if f.stem != "learning_curves"])
