"""`report.html`: one self-contained page (no script, no external file: figures are inline SVG) built from
the same tables, sentences and figures as `report.md`; it computes no number of its own.

>>> page = render_page("demo", "4 classes", ["A matches B"], ["A matches B"], ["plan"], "<table></table>", {"n_folds": 4}, {})
>>> page.startswith("<!DOCTYPE html>") and 'id="headline"' in page and "<script" not in page
True
"""
from __future__ import annotations

import html
from pathlib import Path

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
#headline { font-size: 1.15em; background: #eef5ff; padding: .6em .8em; border-left: 4px solid #36c; }
table { border-collapse: collapse; font-size: .85em; } th, td { border: 1px solid #ccc; padding: .25em .5em; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; } tr.best { font-weight: bold; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; } .caption { font-size: .85em; color: #555; }
"""


def _svg(path: Path) -> str:
    """An SVG file's markup, ready to inline (the XML prolog and doctype dropped)."""
    text = path.read_text()
    return text[text.index("<svg"):]


def summary_html(agg, best: dict[str, str]) -> str:
    """The summary table (mean ± half-width of the 95% interval per budget), best classifier rows in bold."""
    from featbench.results import budget_order

    order = budget_order(agg, "x")
    x = agg.groupby("budget")["x"].mean()
    head = "".join(f"<th>{html.escape(b)}{f' ({x[b]:.0f}/class)' if b == 'all' else ''}</th>" for b in order)
    lines = [f"<table><tr><th>family</th><th>classifier</th>{head}</tr>"]
    for (family, clf), part in agg.groupby(["family", "classifier"], sort=False):
        cells = []
        for budget in order:
            row = part[part.budget == budget]
            cells.append("<td class='num'></td>" if row.empty else
                         f"<td class='num'>{row['mean'].iloc[0] * 100:.1f} ± {(row['ci_high'].iloc[0] - row['mean'].iloc[0]) * 100:.1f}</td>")
        style = " class='best'" if best.get(family) == clf else ""
        lines.append(f"<tr{style}><td>{html.escape(family)}</td><td>{html.escape(clf)}</td>{''.join(cells)}</tr>")
    return "\n".join(lines + ["</table>"])


def render_page(corpus: str, caption: str, headline: list[str], efficiency: list[str], plans: list[str], summary: str,
                protocol: dict, figures: dict[str, str]) -> str:
    """The page: headline (the strongest efficiency sentence), protocol, summary, efficiency, planning, figures."""
    esc = html.escape
    headline = headline[0] if headline else "No data-efficiency ratio: only one family in these results."
    proto_rows = "".join(f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>" for k, v in protocol.items())
    figs = "".join(f"<figure>{svg}<figcaption class='caption'>{esc(title)}</figcaption></figure>"
                   for title, svg in figures.items())
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>featbench report: {esc(corpus)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>featbench report: {esc(corpus)}</h1>",
        f'<p id="headline">{esc(headline)}</p>',
        f"<p class='caption'>Protocol: {esc(caption)}.</p>",
        "<h2>Summary</h2>", "<p class='caption'>UA (%) by training examples per class, mean ± half-width of the 95% "
        "t-interval over folds (seeds averaged within a fold); each family's best classifier in bold.</p>", summary,
        "<h2>Data efficiency</h2>", "<ul>", *[f"<li>{esc(s)}</li>" for s in efficiency], "</ul>",
        "<h2>Label-budget planning</h2>", "<ul>", *[f"<li>{esc(s)}</li>" for s in plans], "</ul>",
        "<h2>Figures</h2>", figs,
        "<h2>Protocol</h2>", f"<table>{proto_rows}</table>",
        "</body></html>",
    ])


def write_report_html(out: Path, corpus: str, caption: str, headline: list[str], efficiency: list[str], plans: list[str],
                      agg, best, protocol: dict, figures: dict[str, Path]) -> Path:
    """Write ``out/report.html`` from already computed parts; figures are SVG files inlined by title."""
    page = render_page(corpus, caption, headline, efficiency, plans, summary_html(agg, best), protocol,
                       {title: _svg(path) for title, path in figures.items()})
    path = Path(out) / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
