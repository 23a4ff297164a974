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


def robustness_series(analysis) -> list[str]:
    """The entries the robustness figure draws: the headline's (report.figures.headline_series) trained clean that
    were tested under another condition."""
    from featbench.report.conditions import CLEAN

    drops = analysis.robustness.drops
    return [f for f in headline_series(analysis) if any(d.family == f and d.train == CLEAN for d in drops)]


def _panels(tests: list[str]) -> dict[str, tuple[list[str], str]]:
    """group -> (its x order, clean first; its axis label) of the test conditions (report.conditions)."""
    from featbench.report.conditions import CLEAN, described, x_order

    groups: dict[str, list] = {}
    for test in tests:
        point = described(test)
        groups.setdefault(point.group, []).append(point)
    return {g: ([CLEAN, *x_order(points)], next((p.axis for p in points if p.axis), "condition"))
            for g, points in groups.items()}


def _tick(text: str) -> str:
    """A condition's x tick: its severity ('20', '0.6', '8000'), or its text for a one-point condition."""
    from featbench.report.conditions import CLEAN, described

    severity = None if text == CLEAN else described(text).severity
    return plot_text(text if severity is None else f"{severity:g}")


def robustness_figure(analysis, out: Path, title: str) -> list[Path]:
    """robustness.png/.svg: the score of each robustness_series entry against the severity of each test condition
    at its full budget, one small panel per condition group (report.conditions), clean at the left."""
    from featbench.report.robustness import points, test_conditions

    plt, scale, rob = _plt(), analysis.scale, analysis.robustness
    series = robustness_series(analysis)
    panels = _panels(test_conditions(rob.rows[rob.rows["family"].isin(series)]))
    styles, cols = family_styles(analysis.agg, series), min(len(panels), 4)
    rows = int(np.ceil(len(panels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.9 * rows), sharey=True, squeeze=False)
    for ax, (group, (order, axis)) in zip(axes.flat, panels.items()):
        for family in series:
            table = points(rob.rows, family, analysis.best[family], rob.budgets[family], scale.bounds).set_index("test")
            at = [k for k, t in enumerate(order) if t in table.index]
            part = table.loc[[order[k] for k in at]]
            color, line, marker = styles[family]
            ax.plot(at, part["mean"] * scale.factor, line, marker=marker, ms=4, color=color,
                    label=_wrapped(analysis.names[family]))
            ax.fill_between(at, part["ci_low"] * scale.factor, part["ci_high"] * scale.factor, alpha=0.13, color=color)
        ax.set_xticks(range(len(order)), [_tick(t) for t in order], fontsize=7, rotation=30 if len(order) > 5 else 0)
        ax.set_xlabel(plot_text(axis), fontsize=7)
        ax.set_ylabel(scale.heading, fontsize=7)
        ax.axhline(scale.chance * scale.factor, color="grey", lw=0.8, ls=":")
        ax.set_title(plot_text(group), fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    handles = {h.get_label(): h for ax in axes.flat for h in ax.get_legend_handles_labels()[0]}
    fig.legend(list(handles.values()), list(handles), fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(plot_text(f"{title}: score against recording condition (trained clean, full budget)"), fontsize=10)
    fig.tight_layout()
    _caption_text(fig, analysis.protocol, f"Trained clean, each entry at its full budget; dotted: {scale.chance_name}. ")
    return _save(fig, out / "robustness")


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


def _critical_difference(analysis, out: Path, title: str, blocks: list[Figure]) -> list[Path]:
    """critical_difference.png/.svg where the Statistics section ranks entries over test conditions (report.significance)
    with a critical difference; its Figure appended to `blocks`."""
    from featbench.report.statistics.cdplot import cd_diagram

    cd = analysis.significance.cd
    if cd is None or cd.cd is None:  # none: an earlier report's diagram in this folder would say otherwise
        for suffix in (".png", ".svg"):
            (out / "critical_difference").with_suffix(suffix).unlink(missing_ok=True)
        return []
    paths = cd_diagram(cd, out, title, labels={f: plot_text(analysis.names[f]) for f in cd.mean_ranks})
    blocks.append(Figure("critical_difference", "Critical-difference diagram over test conditions",
                         f"Mean rank over {cd.n_blocks} blocks ({cd.unit}); entries joined by a bar are not told apart "
                         f"by the Nemenyi test at {cd.alpha:g} (CD = {cd.cd:.2f}).",
                         [analysis.names[f] for f in cd.mean_ranks]))
    return paths


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
    if robustness_series(analysis):
        paths += robustness_figure(analysis, out, title)
        blocks.append(Figure("robustness", "Score against recording condition",
                             "Each entry trained clean, at its full budget; mean over folds (seeds averaged within a "
                             "fold) with its 95% band; one panel per condition group, clean at the left, then from the "
                             "least to the most degraded.", [analysis.names[f] for f in robustness_series(analysis)]))
    paths += _critical_difference(analysis, out, title, blocks)
    if not scale.dimensional:
        paths += confusion_matrices(analysis.rows, analysis.best, analysis.protocol, out, names)
        blocks.append(Figure("confusion_matrices", "Confusion matrices at the largest budget",
                             "Each family's entry, row-normalised %, summed over folds x seeds.",
                             [analysis.names[f] for f in analysis.best]))
    return blocks, paths
