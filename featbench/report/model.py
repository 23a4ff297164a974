"""The report as data: a `Report` of typed `Section`s, each a list of blocks (paragraphs, bullet lists, tables of
cells, figures, folded parts). `compare` builds it once; Markdown (report.markdown), HTML (report.html) and JSON
(report.json_out: protocol.json) are renderers of it, and none computes a number.

>>> section = Section("summary", "Summary", [Paragraph("UA by budget."), Table(["entry", "UA"], [[Cell("a"), Cell("50.0", num=True)]])])
>>> [type(b).__name__ for b in section.blocks]
['Paragraph', 'Table']
>>> block_dict(section.blocks[1])["rows"][0][1]["text"]
'50.0'
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Cell:
    """One table cell: its text; `num` right-aligned (and never wrapped), `strong` in bold, `shade` a heat from 0
    (red) to 1 (green) and `bar` a bar's share of its full width (HTML only; Markdown shows the text alone)."""

    text: str
    num: bool = False
    strong: bool = False
    shade: float | None = None
    bar: float | None = None


@dataclass(frozen=True)
class Paragraph:
    text: str
    note: bool = False  # a small explanatory note (shown smaller in HTML)


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Table:
    """Columns and rows of cells; `id` names the table in HTML (tests find it there), `caption` says what it holds,
    `shading` what its cells' shading means (HTML only: Markdown shows no shading, and does not say it)."""

    columns: list[str]
    rows: list[list[Cell]]
    id: str = ""
    caption: str = ""
    shading: str = ""


@dataclass(frozen=True)
class Figure:
    """A figure written as `stem`.png and `stem`.svg in the report folder; `series` lists what it draws."""

    stem: str
    title: str
    caption: str
    series: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Fold:
    """Blocks folded away under a one-line `summary` (HTML `<details>`; Markdown a bold line, then the blocks)."""

    summary: str
    blocks: list


@dataclass(frozen=True)
class Heading:
    text: str


Block = Paragraph | Bullets | Table | Figure | Fold | Heading


@dataclass
class Section:
    """One part of the report: `id` (an anchor, unique), `title`, and its blocks in order."""

    id: str
    title: str
    blocks: list[Block]


@dataclass
class Report:
    """What `compare` made: the sections in order, and the results they were made of, typed.

    `title` says corpus and protocol; `protocol` is the machine-readable protocol (protocol.json's keys); `claims`
    the claims table's rows (report.claims.Claim); `headline` and `efficiency` the ratio sentences (the headline's
    honest entries, and every entry against the baseline); `transfer`, `normalised`, `cross_corpus` and `plans`
    the sentences of those sections; `robustness_claims` each headline entry's drop from clean against the
    baseline's (report.claims.RobustnessClaim); `layer_weighting` each @weighted entry against its family's @auto
    (report.weighting); `notes` what reading the results repaired; `out` the report folder,
    `figures` the image files written and `markdown` the text of report.md."""

    title: str
    caption: str
    version: str
    sections: list[Section]
    protocol: dict
    claims: list
    headline: list[str]
    efficiency: list[str]
    transfer: list[str]
    normalised: list[str]
    cross_corpus: list[str]
    plans: list[str]
    notes: list[str]
    out: Path
    figures: list[Path] = field(default_factory=list)
    robustness_claims: list = field(default_factory=list)  # report.claims.RobustnessClaim: the drop from clean
    robustness: list[str] = field(default_factory=list)  # those claims' sentences, then the ratios under each condition
    layer_weighting: list = field(default_factory=list)  # report.weighting.WeightingGap as dicts: @weighted - @auto
    markdown: str = ""  # report.md's text, once rendered (report.markdown)

    def section(self, id: str) -> Section | None:
        """The section of that id, or None."""
        return next((s for s in self.sections if s.id == id), None)


def block_dict(block: Block) -> dict:
    """A block as JSON-ready data, its kind named (also inside a fold)."""
    if isinstance(block, Fold):
        return {"kind": "fold", "summary": block.summary, "blocks": [block_dict(b) for b in block.blocks]}
    return {"kind": type(block).__name__.lower(), **asdict(block)}
