"""report.md: the Markdown renderer of a report.model.Report (and summary.md, the summary section alone). It
computes nothing; a score and its interval stay together ('30.9 ± 3.0' joined by non-breaking spaces), so that
a table cell never wraps between them.

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

from featbench.report.model import Bullets, Cell, Figure, Fold, Heading, Paragraph, Report, Table

NBSP = "\u00a0"


def _cell(cell: Cell) -> str:
    text = cell.text.replace("|", "\\|").replace("\n", " ")
    text = text.replace(" ± ", f"{NBSP}±{NBSP}") if cell.num else text  # '30.9 ±' never apart from '3.0'
    return f"**{text}**" if cell.strong and text else text


def _table(table: Table) -> list[str]:
    lines = ["| " + " | ".join(c.replace("|", "\\|") for c in table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(map(_cell, row)) + " |" for row in table.rows]
    return lines + ([f"*{table.caption}*"] if table.caption else [])


def _block(block) -> list[str]:
    """One block's lines (without the blank line after it)."""
    if isinstance(block, Paragraph):
        return [block.text]
    if isinstance(block, Bullets):
        return [f"- {item}" for item in block.items]
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        return [f"![{block.title}]({block.stem}.png)", "", f"*{block.title}.* {block.caption}"]
    if isinstance(block, Heading):
        return [f"### {block.text}"]
    if isinstance(block, Fold):
        return [f"**{block.summary}**", "", blocks_markdown(block.blocks).rstrip("\n")]
    raise TypeError(f"no Markdown for a {type(block).__name__}")


def blocks_markdown(blocks: list) -> str:
    """Blocks as Markdown, a blank line after each."""
    return "".join("\n".join(_block(b)) + "\n\n" for b in blocks).rstrip("\n") + "\n"


def render_markdown(report: Report) -> str:
    """report.md: the title, the version and protocol line, then every section."""
    parts = [f"# featbench report: {report.title}", "", f"featbench {report.version}. Protocol: {report.caption}.", ""]
    for section in report.sections:
        parts += [f"## {section.title}", "", blocks_markdown(section.blocks)]
    parts += [f"A browsable, self-contained version of this report: report.html (featbench {report.version}).", ""]
    return "\n".join(parts)
