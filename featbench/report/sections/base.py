"""What every section builder reads: the analysis (every number), the claims, the figures drawn and the title.

>>> Inputs.__dataclass_fields__.keys() >= {"analysis", "claims", "figures", "title"}
True
"""
from __future__ import annotations

from dataclasses import dataclass, field

from featbench.report.model import Cell, Figure


@dataclass(frozen=True)
class Inputs:
    analysis: object  # report.analysis.Analysis
    claims: list  # report.claims.Claim, in order
    figures: list[Figure]
    title: str
    robustness_claims: list = field(default_factory=list)  # report.claims.RobustnessClaim, in order


def num(text: str, strong: bool = False) -> Cell:
    """A number's cell (right-aligned, never wrapped)."""
    return Cell(text, num=True, strong=strong)


def sentences_section(id: str, title: str, intro: str, sentences: list[str]):
    """A section of one intro note and a bullet list of sentences; None without sentences."""
    from featbench.report.model import Bullets, Paragraph, Section

    return Section(id, title, [Paragraph(intro, note=True), Bullets(sentences)]) if sentences else None
