"""`report.html`: one self-contained page (no script, no external file: figures are inline SVG) built from
the same tables, sentences and figures as `report.md`; it computes no number of its own.

>>> import pandas as pd
>>> empty = pd.DataFrame()
>>> agg = pd.DataFrame({"family": ["a"], "classifier": ["lr"], "budget": ["all"], "x": [9.0], "mean": [0.5], "ci_low": [0.4],
...                     "ci_high": [0.6]})
>>> parts = HtmlParts("demo", "4 classes", ["A matches B"], "", "", ["A matches B"], "", ["plan"], agg, {"a": "lr"},
...                   set(), {"n_folds": 4}, empty, empty, empty, empty, [], 0.25)
>>> page = render_page(parts, {})
>>> page.startswith("<!DOCTYPE html>") and 'id="headline"' in page and "<script" not in page
True
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

from featbench.report.scale import UA, Scale
from featbench.layers import layer_name

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
#headline ul { margin: 0; padding-left: 1.2em; } #headline { font-size: 1.1em; background: #eef5ff; padding: .6em .8em; border-left: 4px solid #36c; }
table { border-collapse: collapse; font-size: .85em; } th, td { border: 1px solid #ccc; padding: .25em .5em; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; } tr.best { font-weight: bold; }
.bar { display: inline-block; height: .7em; background: #36c; margin-right: .3em; vertical-align: middle; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; } .caption { font-size: .85em; color: #555; }
"""


def _svg(path: Path) -> str:
    """An SVG file's markup, ready to inline (the XML prolog and doctype dropped)."""
    text = path.read_text()
    return text[text.index("<svg"):]


def summary_html(agg, best: dict[str, str], oracle: set[str] = frozenset(), scale: Scale = UA) -> str:
    """The summary table (mean ± half-width of the 95% interval per budget), each family's entry in bold."""
    from featbench.report.tables import budget_heading
    from featbench.results import budget_order

    order = budget_order(agg, "x")
    head = "".join(f"<th>{html.escape(budget_heading(agg, b, scale))}</th>" for b in order)
    lines = [f"<table><tr><th>family</th><th>classifier</th>{head}</tr>"]
    for (family, clf), part in agg.groupby(["family", "classifier"], sort=False):
        cells = []
        for budget in order:
            row = part[part.budget == budget]
            cells.append("<td class='num'></td>" if row.empty else
                         f"<td class='num'>{scale.cell(*row[['mean', 'ci_low', 'ci_high']].iloc[0])}</td>")
        style = " class='best'" if best.get(family) == clf else ""
        name = clf + (" (oracle)" if style and family in oracle else "")
        lines.append(f"<tr{style}><td>{html.escape(family)}</td><td>{html.escape(name)}</td>{''.join(cells)}</tr>")
    return "\n".join(lines + ["</table>"])


def _table(frame, columns: dict[str, str], formats: dict | None = None) -> str:
    """A plain HTML table of `frame`'s `columns` ({column: heading}); numbers formatted by `formats`."""
    formats = formats or {}
    head = "".join(f"<th>{html.escape(h)}</th>" for h in columns.values())
    body = []
    for _, row in frame.iterrows():
        cells = []
        for col in columns:
            value = row[col]
            text = formats[col](value) if col in formats else str(value)
            cells.append(f"<td{' class=num' if col in formats else ''}>{html.escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def weights_html(weights) -> str:
    """Learned layer weights: one row per entry and budget, a bar (inline CSS width) and the value per layer."""
    if weights.empty:
        return ""
    n = len([c for c in weights.columns if c.startswith("w")])
    head = "".join(f"<th>{layer_name(k)}</th>" for k in range(n))
    lines = [f"<table><tr><th>entry</th><th>budget</th>{head}</tr>"]
    for _, r in weights.iterrows():
        cells = "".join(f"<td class='num'><div class='bar' style='width:{r[f'w{k}'] * 60:.1f}px'></div>{r[f'w{k}']:.2f}</td>"
                        for k in range(n))
        lines.append(f"<tr><td>{html.escape(r['entry'])}</td><td>{html.escape(str(r['budget']))}</td>{cells}</tr>")
    return "\n".join(lines + ["</table>"])


def speakers_html(speakers, chance: float, scale: Scale = UA) -> str:
    """UA (CCC) per test speaker (rows) and entry (columns), each cell shaded from chance (red) to 100% (green)."""
    if speakers.empty:
        return ""
    wide = speakers.pivot_table(index="speaker", columns="entry", values="ua", sort=False)
    from featbench.report.breakdown import _natural

    wide = wide.loc[sorted(wide.index, key=_natural)]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in wide.columns)
    lines = [f"<table><tr><th>speaker</th>{head}</tr>"]
    for speaker, row in zip(wide.index, wide.to_numpy()):
        cells = []
        for v in row:
            if v != v:  # NaN
                cells.append("<td></td>")
                continue
            hue = max(0.0, min(1.0, (v - chance) / max(1e-9, 1 - chance))) * 120
            shown = f"{v * 100:.1f}" if scale.percent else scale.fmt(v)
            cells.append(f"<td class='num' style='background:hsl({hue:.0f},70%,85%)'>{shown}</td>")
        lines.append(f"<tr><td>{html.escape(str(speaker))}</td>{''.join(cells)}</tr>")
    return "\n".join(lines + ["</table>"])


@dataclass
class HtmlParts:
    """Everything report.html shows, already computed by `compare`."""

    corpus: str
    caption: str
    headline: list[str]
    headline_note: str
    efficiency_intro: str
    efficiency: list[str]
    planning_intro: str
    plans: list[str]
    agg: object
    best: dict
    oracle: set
    protocol: dict
    choices: object
    weights: object
    speakers: object
    genders: object
    breakdown: list[str]
    chance: float
    transfer: list[str] = field(default_factory=list)  # what another corpus saves of this one's labels (if any)
    normalised: list[str] = field(default_factory=list)  # what per-speaker normalisation saves (if any)
    cross_corpus: list[str] = field(default_factory=list)  # entries trained on another corpus: chance, recall per class
    cross_corpus_intro: str = ""
    scale: Scale = UA  # how scores are named and shown (report.scale): UA, or CCC for a dimensional target


def render_page(parts: HtmlParts, figures: dict[str, str]) -> str:
    """The page: honest headline, protocol, summary, efficiency, planning, choices and layer weights, who it
    fails (per gender, per speaker), figures."""
    from featbench.report.tables import SUMMARY_NOTE, budget_note

    esc, scale = html.escape, parts.scale
    pct, name = scale.fmt, scale.name
    proto_rows = "".join(f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>" for k, v in parts.protocol.items())
    figs = "".join(f"<figure>{svg}<figcaption class='caption'>{esc(title)}</figcaption></figure>"
                   for title, svg in figures.items())
    choices = (_table(parts.choices, {"entry": "entry", "budget": "budget", "chosen": "chosen (folds x seeds)",
                                      "val_ua": f"val {name}", "ua": f"test {name}"}, {"val_ua": pct, "ua": pct})
               if not parts.choices.empty else "<p>No entry chose a layer or a classifier on validation speakers.</p>")
    genders = (_table(parts.genders.assign(interval=[scale.interval(lo, hi) for lo, hi in
                                                     zip(parts.genders.ci_low, parts.genders.ci_high)]),
                      {"entry": "entry", "budget": "budget", "gender": "gender", "mean": name,
                       "interval": "95% interval (folds)"}, {"mean": pct}) if not parts.genders.empty else "")
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>featbench report: {esc(parts.corpus)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>featbench report: {esc(parts.corpus)}</h1>",
        (f'<div id="headline"><ul>{"".join(f"<li>{esc(h)}</li>" for h in parts.headline)}</ul></div>' if parts.headline
         else f'<div id="headline"><p>{esc(parts.headline_note)}</p></div>'),
        *([f"<p class='caption'>{esc(parts.headline_note)}</p>"] if parts.headline else []),
        f"<p class='caption'>Protocol: {esc(parts.caption)}.</p>",
        "<h2>Summary</h2>", f"<p class='caption'>{esc(SUMMARY_NOTE.format(heading=scale.heading, axis=scale.axis))}"
        f"{esc(' ' + budget_note(parts.agg, scale)) if budget_note(parts.agg, scale) else ''}</p>",
        summary_html(parts.agg, parts.best, parts.oracle, scale),
        "<h2>Data efficiency</h2>", f"<p class='caption'>{esc(parts.efficiency_intro)}</p>", "<ul>",
        *[f"<li>{esc(s)}</li>" for s in parts.efficiency], "</ul>",
        *(["<h2>Cross-corpus: trained on another corpus</h2>", f"<p class='caption'>{esc(parts.cross_corpus_intro)}</p>",
           "<ul>", *[f"<li>{esc(s)}</li>" for s in parts.cross_corpus], "</ul>"] if parts.cross_corpus else []),
        *(["<h2>Transfer: labels another corpus saves</h2>", "<ul>", *[f"<li>{esc(s)}</li>" for s in parts.transfer], "</ul>"]
          if parts.transfer else []),
        *(["<h2>Normalisation: labels per-speaker statistics save</h2>", "<ul>",
           *[f"<li>{esc(s)}</li>" for s in parts.normalised], "</ul>"] if parts.normalised else []),
        "<h2>Label-budget planning</h2>", f"<p class='caption'>{esc(parts.planning_intro)}</p>", "<ul>",
        *[f"<li>{esc(s)}</li>" for s in parts.plans], "</ul>",
        "<h2>Choices made on validation speakers</h2>", choices,
        *(["<h3>Learned layer weights (softmax, mean over folds x seeds)</h3>", weights_html(parts.weights)]
          if not parts.weights.empty else []),
        "<h2>Who it fails</h2>",
        ("<ul>" + "".join(f"<li>{esc(s)}</li>" for s in parts.breakdown) + "</ul>" if parts.breakdown
         else "<p>These results hold no per-speaker scores.</p>"), genders,
        f"<h3>{esc(scale.heading)} per test speaker, mean over seeds, at the largest budget</h3>" if not parts.speakers.empty else "",
        speakers_html(parts.speakers, parts.chance, scale),
        "<h2>Figures</h2>", figs,
        "<h2>Protocol</h2>", f"<table>{proto_rows}</table>",
        "</body></html>",
    ])


def write_report_html(out: Path, parts: HtmlParts, figures: dict[str, Path]) -> Path:
    """Write ``out/report.html`` from already computed parts; figures are SVG files inlined by title."""
    page = render_page(parts, {title: _svg(path) for title, path in figures.items()})
    path = Path(out) / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
