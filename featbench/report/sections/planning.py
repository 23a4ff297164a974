"""Label-budget planning: the labels each entry needs for a target score (report.curvefit)."""
from __future__ import annotations

from featbench.report.model import Bullets, Paragraph, Section
from featbench.report.sections.base import Inputs
from featbench.report.tables import budget_note


def section(inputs: Inputs) -> Section:
    a = inputs.analysis
    scale, note = a.scale, budget_note(a.agg, a.scale, a.pool, a.names)
    said = "given" if a.target_given else "the baseline's score at its reference budget"
    intro = (f"Target {scale.name} {scale.fmt(a.target)} ({said}); read off the measured curve where it reaches the "
             "target, else an inverse power law fitted per family (at least 3 budgets; no extrapolation from a fit "
             "pinned at a bound), bootstrap over folds." + (f" {note}" if note else ""))
    if a.planning_chance:
        intro = (f"No label budget is planned: {a.planning_chance}, and a budget to reach {scale.chance_name} says "
                 "nothing. Give a target above it with --target-ua." + (f" {note}" if note else ""))
    return Section("planning", "Label-budget planning", [Paragraph(intro, note=True),
                                                          Bullets([p["sentence"] for p in a.plans])])
