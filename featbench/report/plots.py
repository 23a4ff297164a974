"""Figures: learning curves (UA against examples per class, log x, 95% bands) by classifier and with every fold x
seed point, and confusion matrices; for a dimensional target (CCC rows, see report.scale), CCC against training
utterances and no confusion matrices. The headline and per-layer figures are report.figures'; the colours, markers,
budget ticks and file writing of every figure are here.

Every figure carries its protocol in a caption line. Written as PNG and SVG.

>>> caption({"corpus": "c", "n_classes": 4, "classes": "arousal", "n_folds": 3, "fold_scheme": "k-group-folds",
...          "seeds": [0], "metric": "CCC (concordance correlation coefficient)"}).split("; ")[0]
'c: target arousal (4 quantile bins balance folds and budgets)'
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from featbench.report.escape import plot_text
from featbench.report.scale import Scale, scale_of
from featbench.report.entries import setups_of
from featbench.results import budget_order


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def caption(protocol: dict) -> str:
    merge = f", merges {protocol['merge']}" if protocol.get("merge") else ""
    scale = scale_of(protocol)
    what = (f"target {protocol['classes']} ({protocol['n_classes']} quantile bins balance folds and budgets{merge})"
            if scale.dimensional else f"{protocol['n_classes']} classes ({protocol['classes']}{merge})")
    metric = scale.metric if scale.dimensional else "UA (balanced accuracy)"
    return (f"{protocol['corpus']}: {what}; {folds_said(protocol)} x seeds {protocol['seeds']}; "
            f"metric {metric}; bands: 95% t-interval over folds (seeds averaged within a fold)")


def folds_said(protocol: dict) -> str:
    """'6 speaker-independent k-group-folds', or, where the rows hold fewer folds than the protocol made, '1 of 6
    speaker-independent k-group-folds (fold 0 only: the others are not in these results)'.

    >>> folds_said({"n_folds": 6, "fold_scheme": "k-group-folds", "folds_run": [0]})
    '1 of 6 speaker-independent k-group-folds (fold 0 only: the others are not in these results)'
    """
    made = int(protocol["n_folds"])
    run = protocol.get("folds_run", list(range(made)))
    if len(run) >= made:
        return f"{made} speaker-independent {protocol['fold_scheme']}"
    which = f"fold {run[0]} only" if len(run) == 1 else f"folds {', '.join(map(str, run))}"
    return (f"{len(run)} of {made} speaker-independent {protocol['fold_scheme']} ({which}: the others are not in "
            "these results)")


def _save(fig, base: Path) -> list[Path]:
    paths = [base.with_suffix(".png"), base.with_suffix(".svg")]
    with _plt().rc_context({"svg.hashsalt": "featbench"}):  # the same results give the same bytes, run to run
        for path in paths:
            fig.savefig(path, dpi=130, bbox_inches="tight", metadata={"Date": None} if path.suffix == ".svg" else None)
    _plt().close(fig)
    return paths


MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">"]


def _curve(ax, part: pd.DataFrame, label: str, style: tuple, factor: float = 100.0, band: bool = True):
    """One mean curve (colour, line style, marker: `style`) with its 95% band; returns the line."""
    color, line_style, marker = style
    part = part.sort_values("x")
    line, = ax.plot(part["x"], part["mean"] * factor, line_style, marker=marker, ms=4, label=label, color=color)
    if band:
        ax.fill_between(part["x"], part["ci_low"] * factor, part["ci_high"] * factor, alpha=0.13, color=color)
    return line


def budget_ticks(agg: pd.DataFrame, scale: Scale, pool=None) -> list[tuple[float, str]]:
    """(x, label) of every budget of this corpus's own entries, 'all' with its count ('all (mean 60/class)'; `pool`,
    report.pool, says where the classes are balanced).

    >>> agg = pd.DataFrame({"family": ["a"] * 2, "budget": ["8", "all"], "x": [8.0, 60.0]})
    >>> budget_ticks(agg, scale_of({"n_classes": 4}))
    [(8.0, '8'), (60.0, 'all (mean 60/class)')]
    """
    from featbench.report.tables import budget_heading, own_rows

    own = own_rows(agg)
    x = own.groupby("budget")["x"].mean()
    return [(float(x[b]), budget_heading(agg, b, scale, pool)) for b in budget_order(own, "x")]


def _axes_style(ax, scale: Scale, ticks: list[tuple[float, str]], chance: bool = True) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks([x for x, _ in ticks], [label for _, label in ticks])
    ax.xaxis.set_minor_locator(_plt().matplotlib.ticker.NullLocator())
    if chance:
        ax.axhline(scale.chance * scale.factor, color="grey", lw=0.8, ls=":", label=scale.chance_name)
    ax.set_xlabel(f"{scale.axis} (log scale)")
    ax.set_ylabel(scale.heading)
    ax.grid(alpha=0.3, which="major")


def family_styles(agg: pd.DataFrame, first: list[str] = ()) -> dict[str, tuple]:
    """family -> (colour, line style, marker). One colour and marker per view and training data, so that an entry and
    its per-speaker (or per-corpus) normalisation twin share them, solid against dashed; the families in `first` (the
    headline's) take the first, most distinct colours.

    >>> from featbench.results import Normalisation, Setup
    >>> twin = Setup("a", normalisation=Normalisation("per-speaker"))
    >>> agg = pd.DataFrame([Setup("a").columns() | {"family": "a"}, twin.columns() | {"family": twin.label},
    ...                     Setup("b").columns() | {"family": "b"}])
    >>> styles = family_styles(agg)
    >>> styles["a"][0] == styles[twin.label][0] != styles["b"][0], styles["a"][1], styles[twin.label][1]
    (True, '-', '--')
    """
    from dataclasses import replace

    from featbench.results import Normalisation

    plt, setups = _plt(), setups_of(agg)
    order = [*[f for f in first if f in setups], *[f for f in setups if f not in first]]
    key = {f: replace(setups[f], normalisation=Normalisation(), confounded=False) for f in order}
    keys = list(dict.fromkeys(key[f] for f in order))
    palette = ([plt.cm.tab10(i) for i in range(10)] if len(keys) <= 10
               else [plt.cm.tab20(i) for i in [*range(0, 20, 2), *range(1, 20, 2)]])
    index = {k: i for i, k in enumerate(keys)}
    return {f: (palette[index[key[f]] % len(palette)], "-" if setups[f].normalisation.on_training_rows else "--",
                MARKERS[index[key[f]] % len(MARKERS)]) for f in setups}


def _label(labels: dict | None, family: str, clf: str) -> str:
    """A family's name in a figure: `labels[family]` (drawn as given), else its code and classifier, escaped."""
    return (labels or {}).get(family) or plot_text(f"{family} ({clf})")


def _caption_text(fig, protocol: dict, lead: str = "") -> None:
    fig.text(0, -0.02, plot_text(lead + caption(protocol)), fontsize=7, wrap=True, va="top")


def learning_curves_by_classifier(agg: pd.DataFrame, protocol: dict, out: Path, title: str,
                                  names: dict | None = None, pool=None) -> list[Path]:
    """One panel per classifier with every family's curve (a legend beside the panels); `names`: each family as the
    legend says it (drawn as given; default its code, escaped)."""
    from featbench.report.names import classifier_name

    plt, scale = _plt(), scale_of(protocol)
    families, styles, ticks = list(dict.fromkeys(agg["family"])), family_styles(agg), budget_ticks(agg, scale, pool)
    classifiers = list(dict.fromkeys(agg["classifier"]))
    cols = min(len(classifiers), 3)
    rows = int(np.ceil(len(classifiers) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.8 * rows), sharey=True, squeeze=False)
    for ax, clf in zip(axes.flat, classifiers):
        for family in families:
            part = agg[(agg.family == family) & (agg.classifier == clf)]
            if len(part):
                _curve(ax, part, (names or {}).get(family) or plot_text(family), styles[family], scale.factor)
        _axes_style(ax, scale, ticks)
        ax.tick_params(axis="x", labelsize=7)
        ax.set_title(plot_text(classifier_name(clf, short=True)), fontsize=9)
    for ax in list(axes.flat)[len(classifiers):]:
        ax.axis("off")
    handles = {h.get_label(): h for ax in axes.flat for h in ax.get_legend_handles_labels()[0]}
    fig.legend(list(handles.values()), list(handles), fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(f"{title}: every family by classifier")
    _caption_text(fig, protocol)
    fig.tight_layout()
    return _save(fig, out / "learning_curves_by_classifier")


def learning_points(rows: pd.DataFrame, agg: pd.DataFrame, best: dict[str, str], protocol: dict, out: Path,
                    labels: dict | None = None, series: list[str] | None = None, title: str = "", pool=None) -> list[Path]:
    """The entries of `series` (default every family): the mean curve and every fold x seed result as a point
    (jittered in x)."""
    plt, scale = _plt(), scale_of(protocol)
    series = list(series or dict.fromkeys(agg["family"]))
    styles, ticks = family_styles(agg, series), budget_ticks(agg, scale, pool)
    rng = np.random.default_rng(0)
    fig, ax = plt.subplots(figsize=(8.5, 5))
    for family in series:
        clf = best[family]
        part = rows[(rows.family == family) & (rows.classifier == clf)]
        jitter = np.exp(rng.uniform(-0.06, 0.06, len(part)))
        ax.scatter(part["examples_per_class"] * jitter, part["ua"] * scale.factor, s=6, alpha=0.35,
                   color=styles[family][0], linewidths=0)
        _curve(ax, agg[(agg.family == family) & (agg.classifier == clf)], _label(labels, family, clf), styles[family],
               scale.factor)
    _axes_style(ax, scale, ticks)
    ax.set_title(f"{title}: every fold x seed result" if title else "Learning curves with every fold x seed result")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    _caption_text(fig, protocol)
    return _save(fig, out / "learning_points")


def confusion_matrices(rows: pd.DataFrame, best: dict[str, str], protocol: dict, out: Path, labels: dict | None = None) -> list[Path]:
    """Per family: its entry at its largest budget, summed over folds and seeds, row-normalised (%). None for a
    dimensional target (no classes): returns []."""
    if scale_of(protocol).dimensional:
        return []
    plt = _plt()
    families = list(best)
    cols = min(len(families), 3)
    n_rows = int(np.ceil(len(families) / cols))
    fig, axes = plt.subplots(n_rows, cols, figsize=(4.2 * cols, 3.9 * n_rows), squeeze=False)
    for ax, family in zip(axes.flat, families):
        part = rows[(rows.family == family) & (rows.classifier == best[family])]
        largest = part.loc[part["examples_per_class"].idxmax(), "budget"]
        part = part[part.budget == largest]
        names = [plot_text(n) for n in json.loads(part["labels"].iloc[0])]
        total = np.sum([np.array(json.loads(c)) for c in part["confusion"]], axis=0).astype(float)
        share = total / np.maximum(total.sum(1, keepdims=True), 1) * 100
        ax.imshow(share, cmap="Blues", vmin=0, vmax=100)
        for i in range(len(names)):
            for j in range(len(names)):
                ax.text(j, i, f"{share[i, j]:.0f}", ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 60 else "black")
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.set_title(f"{_label(labels, family, best[family])},\nbudget {plot_text(largest)}", fontsize=8)
        ax.set_xlabel("predicted", fontsize=7)
        ax.set_ylabel("true", fontsize=7)
    for ax in list(axes.flat)[len(families):]:
        ax.axis("off")
    _caption_text(fig, protocol, "Row-normalised %, summed over folds x seeds. ")
    fig.tight_layout()
    return _save(fig, out / "confusion_matrices")
