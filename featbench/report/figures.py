"""The report's figures, drawn from a report.analysis.Analysis, as report.model.Figure blocks: the headline figure
(the baseline and the honest entries only, at most HEADLINE_SERIES curves, each with its own colour and marker and
its name written at its end), the layer-wise curves as small multiples (one panel per `@Lk` view, the baseline in
grey in each), every fold x seed result, every family by classifier, and the confusion matrices.

>>> _spread([50.0, 50.5, 70.0], gap=3.0)
[48.75, 51.75, 70.0]
"""
from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import numpy as np

from featbench.layers import layer_view
from featbench.report.escape import plot_text
from featbench.report.model import Figure
from featbench.report.names import plain_name
from featbench.report.plots import (_axes_style, _caption_text, _curve, _plt, _save, budget_ticks, confusion_matrices,
                                    family_styles, learning_curves_by_classifier, learning_points)

HEADLINE_SERIES = 5  # the baseline and at most four entries: more curves than this are not read apart
SERIES_ID = "headline-series-"  # the SVG id of each curve of the headline figure (a group of that id per series)


def headline_series(analysis) -> list[str]:
    """The baseline, then the honest headline entries by their score at their largest budget, then the twins of the
    claims (report.claims) made of honest entries; at most HEADLINE_SERIES."""
    agg, best = analysis.agg, analysis.best

    def top(family: str) -> float:
        part = agg[(agg.family == family) & (agg.classifier == best[family])]
        return float(part.sort_values("x")["mean"].iloc[-1])

    series = [analysis.baseline, *sorted(analysis.honest, key=top, reverse=True)]
    for pair in [*analysis.normalised, *analysis.transfer]:
        if analysis.entries[pair.family].honest and analysis.entries[pair.counterpart].honest:
            series += [pair.counterpart, pair.family]
    return list(dict.fromkeys(series))[:HEADLINE_SERIES]


def _spread(ys: list[float], gap: float) -> list[float]:
    """Label heights near `ys`, at least `gap` apart, in the same order (a group pushed apart about its centre)."""
    order = np.argsort(ys)
    placed = [float(ys[i]) for i in order]
    for _ in range(len(placed)):
        moved = False
        for k in range(1, len(placed)):
            if placed[k] - placed[k - 1] < gap - 1e-9:
                centre = (placed[k] + placed[k - 1]) / 2
                placed[k - 1], placed[k] = centre - gap / 2, centre + gap / 2
                moved = True
        if not moved:
            break
    out = [0.0] * len(ys)
    for rank, i in enumerate(order):
        out[i] = round(placed[rank], 6)
    return out


def _direct_labels(ax, ends: list[tuple[float, float, str, tuple]]) -> None:
    """Each curve's name beside the plot, at the height of its last point (moved apart where names would overlap)."""
    low, high = ax.get_ylim()
    lines = max(t.count("\n") + 1 for _, _, t, _ in ends)
    heights = _spread([y for _, y, _, _ in ends], gap=(high - low) * 0.045 * (lines + 0.3))
    for (x, y, text, style), at in zip(ends, heights):
        ax.annotate(text, xy=(x, y), xytext=(1.03, at), textcoords=("axes fraction", "data"), va="center",
                    fontsize=8, color=style[0], annotation_clip=False,
                    arrowprops=dict(arrowstyle="-", color=style[0], lw=0.6, alpha=0.6))


def headline_figure(analysis, series: list[str], names: dict[str, str], out: Path, title: str) -> list[Path]:
    """learning_curves.png/.svg: the `series` entries' mean curves with their 95% bands, named at their ends."""
    plt, scale, agg, best = _plt(), analysis.scale, analysis.agg, analysis.best
    styles = family_styles(agg, series)
    fig, ax = plt.subplots(figsize=(7.5, 5))
    ends = []
    for k, family in enumerate(series):
        part = agg[(agg.family == family) & (agg.classifier == best[family])].sort_values("x")
        _curve(ax, part, names[family], styles[family], scale.factor).set_gid(f"{SERIES_ID}{k}")  # counted by tests
        ends.append((float(part["x"].iloc[-1]), float(part["mean"].iloc[-1]) * scale.factor, names[family],
                     styles[family]))
    _axes_style(ax, scale, budget_ticks(agg, scale, analysis.pool), chance=False)
    ax.axhline(scale.chance * scale.factor, color="grey", lw=0.8, ls=":")
    ax.text(ax.get_xlim()[0], scale.chance * scale.factor, f" {scale.chance_name} ({scale.fmt(scale.chance)})",
            fontsize=7, color="grey", va="bottom")
    _direct_labels(ax, ends)
    ax.set_title(plot_text(f"{title}: the baseline and the honest entries"), fontsize=10)
    _caption_text(fig, analysis.protocol)
    return _save(fig, out / "learning_curves")


def layer_panels(analysis) -> list[str]:
    """The `@Lk` entries, by family and layer number."""
    layered = [(layer_view(s.view), f) for f, s in analysis.setups.items() if layer_view(s.view)]
    return [f for _, f in sorted(layered, key=lambda item: item[0])]


def layer_figure(analysis, panels: list[str], out: Path, title: str) -> list[Path]:
    """learning_curves_by_layer.png/.svg: one small panel per `@Lk` entry, the baseline in grey in each."""
    plt, scale, agg, best = _plt(), analysis.scale, analysis.agg, analysis.best
    ticks, style = budget_ticks(agg, scale, analysis.pool), ("tab:blue", "-", "o")  # one colour: panels differ by their layer only
    cols = min(len(panels), 4)
    rows = int(np.ceil(len(panels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 2.7 * rows), sharex=True, sharey=True, squeeze=False)
    base = agg[(agg.family == analysis.baseline) & (agg.classifier == best[analysis.baseline])]
    for ax, family in zip(axes.flat, panels):
        _curve(ax, base, "baseline", ("0.6", "-", ""), scale.factor, band=False)
        _curve(ax, agg[(agg.family == family) & (agg.classifier == best[family])], plot_text(family), style, scale.factor)
        _axes_style(ax, scale, ticks)
        ax.set_title(_wrapped(analysis.names[family], 45), fontsize=8)
        ax.tick_params(labelsize=6)
        ax.xaxis.label.set_size(7)
        ax.yaxis.label.set_size(7)
        ax.label_outer()
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(plot_text(f"{title}: each layer on its own (grey: the baseline, {analysis.names[analysis.baseline]})"),
                 fontsize=10)
    _caption_text(fig, analysis.protocol)
    fig.tight_layout()
    return _save(fig, out / "learning_curves_by_layer")


def _wrapped(words: str, width: int = 30) -> str:
    """A name as a figure draws it (report.escape.plot_text), wrapped to lines of `width`."""
    return "\n".join(textwrap.wrap(plot_text(words), width, break_on_hyphens=False)) or " "


def _names(analysis, series: list[str]) -> dict[str, str]:
    """Each series' name on the headline figure: its plain name (Analysis.names), wrapped; the baseline said so."""
    return {f: _wrapped(("baseline: " if f == analysis.baseline else "") + analysis.names[f]) for f in series}


def draw(analysis, out: Path, title: str) -> tuple[list[Figure], list[Path]]:
    """Every figure of the report into `out`: (their Figure blocks, headline first; the files written). A name in a
    script the font lacks is drawn as boxes, without matplotlib's warning per missing glyph."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
        return _draw(analysis, out, title)


def _draw(analysis, out: Path, title: str) -> tuple[list[Figure], list[Path]]:
    series, panels, scale = headline_series(analysis), layer_panels(analysis), analysis.scale
    names = _names(analysis, series)
    more = [f for f in analysis.honest if f not in series]
    paths = headline_figure(analysis, series, names, out, title)
    blocks = [Figure("learning_curves", "Headline: the baseline and the honest entries",
                     "Mean over folds (seeds averaged within a fold) with its 95% band; each curve named at its end. "
                     + (f"Not drawn here, to keep the curves apart: {'; '.join(analysis.names[f] for f in more)} (see the summary table). "
                        if more else "") + "Oracle entries and single layers are in the figures further down.",
                     [("baseline: " if f == analysis.baseline else "") + analysis.names[f] for f in series])]
    if panels:
        paths += layer_figure(analysis, panels, out, title)
        blocks.append(Figure("learning_curves_by_layer", "Each layer on its own",
                             "One panel per layer view, its entry in colour (a classifier picked on the test folds "
                             "is marked oracle), the baseline in grey.", [analysis.names[f] for f in panels]))
    names = {f: _wrapped(n, 60) for f, n in analysis.names.items()}
    views = {f: _wrapped(plain_name(s), 60) for f, s in analysis.setups.items()}
    paths += learning_points(analysis.rows, analysis.agg, analysis.best, analysis.protocol, out, names,
                             series, plot_text(title), analysis.pool)
    blocks.append(Figure("learning_points", "Every fold x seed result",
                         "The headline's curves with every fold x seed result as a point (jittered in x).",
                         [analysis.names[f] for f in series]))
    paths += learning_curves_by_classifier(analysis.agg, analysis.protocol, out, plot_text(title), views, analysis.pool)
    blocks.append(Figure("learning_curves_by_classifier", "Every family by classifier",
                         "One panel per classifier; dashed: per-speaker (or per-corpus) normalisation.",
                         [plain_name(analysis.setups[f]) for f in dict.fromkeys(analysis.agg["family"])]))
    if not scale.dimensional:
        paths += confusion_matrices(analysis.rows, analysis.best, analysis.protocol, out, names)
        blocks.append(Figure("confusion_matrices", "Confusion matrices at the largest budget",
                             "Each family's entry, row-normalised %, summed over folds x seeds.",
                             [analysis.names[f] for f in analysis.best]))
    return blocks, paths
