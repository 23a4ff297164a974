"""report.html: the HTML renderer of a report.model.Report. One self-contained page (no script, no external file:
figures are inline SVG) with a table of contents, every section collapsible (open), figure captions under their
figures; it computes nothing, and every text it writes goes through `report.escape.html_text`.

>>> from featbench.report.model import Cell, Paragraph, Section, Table
>>> html_block(Table(["entry", "UA"], [[Cell("a"), Cell("50.0 ± 3.0", num=True)]], id="summary"), Path("."))
'<table id="summary"><thead><tr><th>entry</th><th>UA</th></tr></thead><tbody><tr><td>a</td><td class="num">50.0 ± 3.0</td></tr></tbody></table>'
"""
from __future__ import annotations

from pathlib import Path

from featbench.report.escape import html_text as esc
from featbench.report.model import Bullets, Cell, Figure, Fold, Heading, Paragraph, Report, Table

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1150px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: .2em; } .meta { color: #555; font-size: .9em; margin-top: 0; }
h2 { font-size: 1.25em; display: inline; } h3 { font-size: 1.05em; margin: 1.4em 0 .5em; }
section { margin-top: 1.4em; border-top: 1px solid #ddd; padding-top: .4em; }
details > summary { cursor: pointer; } details.fold { margin: .8em 0; } details.fold > summary { color: #36c; }
nav#toc { background: #f6f8fa; border: 1px solid #e1e4e8; padding: .5em 1em; font-size: .92em; }
nav#toc ol { margin: .3em 0; padding-left: 1.4em; columns: 2; } nav#toc a { color: #36c; text-decoration: none; }
table { border-collapse: collapse; font-size: .85em; margin: .6em 0; } th, td { border: 1px solid #ccc; padding: .25em .5em; }
th { background: #f4f4f4; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table#claims { font-size: .95em; } table#claims td, table#claims th { padding: .4em .6em; }
caption { caption-side: bottom; font-size: .85em; color: #555; text-align: left; padding-top: .3em; }
p.note { font-size: .88em; color: #444; }
.bar { display: inline-block; height: .7em; background: #36c; margin-right: .3em; vertical-align: middle; }
figure { margin: 1.2em 0 2.4em; } figure svg { width: 100%; max-width: 980px; height: auto; }
figcaption { font-size: .88em; color: #444; margin-top: .6em; padding: .4em .6em; border-left: 3px solid #ccc; background: #fafafa; }
footer { margin-top: 3em; font-size: .85em; color: #666; border-top: 1px solid #ddd; padding-top: .5em; }
"""


def _svg(path: Path) -> str:
    """An SVG file's markup, ready to inline (the XML prolog and doctype dropped)."""
    text = path.read_text()
    return text[text.index("<svg"):]


def _cell(cell: Cell, tag: str = "td") -> str:
    text = esc(cell.text)
    text = f"<strong>{text}</strong>" if cell.strong and text else text
    if cell.bar is not None:
        text = f"<span class='bar' style='width:{cell.bar * 60:.1f}px'></span>{text}"
    style = "" if cell.shade is None else f' style="background:hsl({cell.shade * 120:.0f},70%,85%)"'
    kind = ' class="num"' if cell.num else ""
    return f"<{tag}{kind}{style}>{text}</{tag}>"


def _table(table: Table) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(map(_cell, row)) + "</tr>" for row in table.rows)
    said = " ".join(t for t in (table.caption, table.shading) if t)
    caption = f"<caption>{esc(said)}</caption>" if said else ""
    ident = f' id="{table.id}"' if table.id else ""
    return f"<table{ident}>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_block(block, out: Path) -> str:
    """One block as HTML; a figure's SVG is read from `out`."""
    if isinstance(block, Paragraph):
        return f"<p class=\"note\">{esc(block.text)}</p>" if block.note else f"<p>{esc(block.text)}</p>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{esc(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        return (f'<figure id="fig-{block.stem}">{_svg(out / f"{block.stem}.svg")}<figcaption><strong>'
                f"{esc(block.title)}.</strong> {esc(block.caption)}</figcaption></figure>")
    if isinstance(block, Heading):
        return f"<h3>{esc(block.text)}</h3>"
    if isinstance(block, Fold):
        inner = "\n".join(html_block(b, out) for b in block.blocks)
        return f'<details class="fold"><summary>{esc(block.summary)}</summary>\n{inner}\n</details>'
    raise TypeError(f"no HTML for a {type(block).__name__}")


def render_html(report: Report) -> str:
    """The page: title and version, the table of contents, every section (collapsible, open), a footer."""
    toc = "".join(f'<li><a href="#{s.id}">{esc(s.title)}</a></li>' for s in report.sections)
    sections = [f'<section id="{s.id}"><details open><summary><h2>{esc(s.title)}</h2></summary>\n'
                + "\n".join(html_block(b, report.out) for b in s.blocks) + "\n</details></section>"
                for s in report.sections]
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>featbench report: {esc(report.title)}</title><style>{_STYLE}</style></head><body>",
        f"<header><h1>featbench report: {esc(report.title)}</h1>",
        f'<p class="meta">featbench {esc(report.version)}. Protocol: {esc(report.caption)}.</p></header>',
        f'<nav id="toc"><strong>Contents</strong><ol>{toc}</ol></nav>',
        *sections,
        f"<footer>Made by featbench {esc(report.version)} from {esc(', '.join(report.protocol.get('results', [])))}."
        "</footer>", "</body></html>",
    ])


def write_report_html(report: Report) -> Path:
    """Write ``report.out/report.html``."""
    path = Path(report.out) / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path
