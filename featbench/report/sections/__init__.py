"""The report's sections, in order. Each is one module with `section(inputs) -> Section | None` (None: nothing to
say in this report), registered once in SECTIONS; every renderer (Markdown, HTML, JSON) shows every section built.
Adding a section is one module here and one line in SECTIONS.

>>> [s.__module__.rsplit(".", 1)[1] for s in SECTIONS][:2]
['claims', 'summary']
"""
from __future__ import annotations

from featbench.report.sections import (choices, claims, crosscorpus, efficiency, failures, figures, normalisation,
                                       planning, protocol, robustness, statistics, summary, transfer)
from featbench.report.sections.base import Inputs

SECTIONS = [claims.section, summary.section, efficiency.section, statistics.section, robustness.section,
            crosscorpus.section, transfer.section, normalisation.section, planning.section, choices.section,
            failures.section, figures.section, protocol.section]


def build_sections(inputs: Inputs) -> list:
    """The sections of SECTIONS (read when called) that have something to say, in order."""
    built = [make(inputs) for make in SECTIONS]
    return [s for s in built if s is not None]


__all__ = ["Inputs", "SECTIONS", "build_sections"]
