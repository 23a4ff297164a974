"""report.md: the Markdown renderer of a report.model.Report (and summary.md, the summary section alone). It
computes nothing; every text it writes goes through `report.escape.markdown_text` (a name from the results rows
makes no HTML, link, emphasis or table cell of its own); a score and its interval stay together ('30.9 ± 3.0'
joined by non-breaking spaces), so that a table cell never wraps between them. A table's `shading` note is not
written: Markdown shows no shading.

>>> from featbench.report.model import Cell, Fold, Paragraph, Table
>>> print(blocks_markdown([Paragraph("UA by budget."), Fold("Others", [Table(["a", "b"], [[Cell("x|y"), Cell("1 ± 2", num=True)]])])]))
UA by budget.
<BLANKLINE>
**Others**
<BLANKLINE>
| a | b |
|---|---|
| x\\|y | 1\u00a0±\u00a02 |
<BLANKLINE>
"""
from __future__ import annotations

from featbench.report.escape import markdown_text as md
from featbench.report.model import Bullets, Cell, Figure, Fold, Heading, Paragraph, Report, Table

NBSP = "\u00a0"


def _cell(cell: Cell) -> str:
    text = md(cell.text, cell=True)
    text = text.replace(" ± ", f"{NBSP}±{NBSP}") if cell.num else text  # '30.9 ±' never apart from '3.0'
    return f"**{text}**" if cell.strong and text else text


def _table(table: Table) -> list[str]:
    lines = ["| " + " | ".join(md(c, cell=True) for c in table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(map(_cell, row)) + " |" for row in table.rows]
    return lines + (["", f"*{md(table.caption)}*"] if table.caption else [])  # apart: GFM would read it as a row


def _block(block) -> list[str]:
    """One block's lines (without the blank line after it)."""
    if isinstance(block, Paragraph):
        return [md(block.text)]
    if isinstance(block, Bullets):
        return [f"- {md(item)}" for item in block.items]
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        return [f"![{md(block.title)}]({block.stem}.png)", "", f"*{md(block.title)}.* {md(block.caption)}"]
    if isinstance(block, Heading):
        return [f"### {md(block.text)}"]
    if isinstance(block, Fold):
        return [f"**{md(block.summary)}**", "", blocks_markdown(block.blocks).rstrip("\n")]
    raise TypeError(f"no Markdown for a {type(block).__name__}")


def blocks_markdown(blocks: list) -> str:
    """Blocks as Markdown, a blank line after each."""
    return "".join("\n".join(_block(b)) + "\n\n" for b in blocks).rstrip("\n") + "\n"


def render_markdown(report: Report) -> str:
    """report.md: the title, the version and protocol line, then every section."""
    parts = [f"# featbench report: {md(report.title)}", "", f"featbench {md(report.version)}. Protocol: {md(report.caption)}.", ""]
    for section in report.sections:
        parts += [f"## {md(section.title)}", "", blocks_markdown(section.blocks)]
    parts += [f"A browsable, self-contained version of this report: report.html (featbench {md(report.version)}).", ""]
    return "\n".join(parts)
