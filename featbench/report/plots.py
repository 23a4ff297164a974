"""Figures: learning curves (UA against examples per class, log x, 95% bands) and confusion matrices; for a
dimensional target (CCC rows, see report.scale), CCC against training utterances and no confusion matrices.

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

from featbench.report.scale import Scale, scale_of
from featbench.report.entries import setups_of


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
    return (f"{protocol['corpus']}: {what}; "
            f"{protocol['n_folds']} speaker-independent {protocol['fold_scheme']} x seeds {protocol['seeds']}; "
            f"metric {metric}; bands: 95% t-interval over folds (seeds averaged within a fold)")


def _save(fig, base: Path) -> list[Path]:
    paths = [base.with_suffix(".png"), base.with_suffix(".svg")]
    with _plt().rc_context({"svg.hashsalt": "featbench"}):  # the same results give the same bytes, run to run
        for path in paths:
            fig.savefig(path, dpi=130, bbox_inches="tight", metadata={"Date": None} if path.suffix == ".svg" else None)
    _plt().close(fig)
    return paths


def _curve(ax, part: pd.DataFrame, label: str, color=None, style="-", factor: float = 100.0) -> None:
    part = part.sort_values("x")
    line, = ax.plot(part["x"], part["mean"] * factor, style, marker="o", ms=3.5, label=label, color=color)
    ax.fill_between(part["x"], part["ci_low"] * factor, part["ci_high"] * factor, alpha=0.15, color=line.get_color())


def _axes_style(ax, scale: Scale) -> None:
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(_plt().matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.axhline(scale.chance * scale.factor, color="grey", lw=0.8, ls=":", label=scale.chance_name)
    ax.set_xlabel(f"{scale.axis} (log scale)")
    ax.set_ylabel(scale.heading)
    ax.grid(alpha=0.3, which="both")


def family_styles(agg: pd.DataFrame) -> tuple[dict, dict]:
    """A distinct colour per family (tab10, or tab20 beyond ten); layers of one model share a dashed style.

    >>> colors, styles = family_styles(pd.DataFrame({"family": ["a", "m@L1", "m@L2"]}))
    >>> styles["a"], styles["m@L1"], colors["m@L1"] != colors["m@L2"]
    ('-', '--', True)
    """
    plt = _plt()
    setups = setups_of(agg)
    families = list(setups)
    cmap = plt.cm.tab10 if len(families) <= 10 else plt.cm.tab20
    colors = {f: cmap(i % cmap.N) for i, f in enumerate(families)}
    styles = {f: "--" if "@" in setups[f].view else "-" for f in families}
    return colors, styles


def _label(labels: dict | None, family: str, clf: str) -> str:
    return (labels or {}).get(family, f"{family} ({clf})")


def learning_curves(agg: pd.DataFrame, best: dict[str, str], protocol: dict, out: Path, labels: dict | None = None) -> list[Path]:
    """Two figures: each family's entry (`best`, legend `labels`); and one panel per classifier with every family."""
    plt = _plt()
    scale = scale_of(protocol)
    families = list(dict.fromkeys(agg["family"]))
    colors, styles = family_styles(agg)
    fig, ax = plt.subplots(figsize=(8.5, 5))
    for family in families:
        clf = best[family]
        _curve(ax, agg[(agg.family == family) & (agg.classifier == clf)], _label(labels, family, clf), colors[family], styles[family],
               scale.factor)
    _axes_style(ax, scale)
    ax.set_title("Learning curves, each family's entry")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.text(0, -0.02, caption(protocol), fontsize=7, wrap=True, va="top")
    paths = _save(fig, out / "learning_curves")

    classifiers = list(dict.fromkeys(agg["classifier"]))
    cols = min(len(classifiers), 3)
    rows = int(np.ceil(len(classifiers) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.8 * rows), sharey=True, squeeze=False)
    for ax, clf in zip(axes.flat, classifiers):
        for family in families:
            part = agg[(agg.family == family) & (agg.classifier == clf)]
            if len(part):
                _curve(ax, part, family, colors[family], styles[family], scale.factor)
        _axes_style(ax, scale)
        ax.set_title(clf)
    for ax in list(axes.flat)[len(classifiers):]:
        ax.axis("off")
    handles = {h.get_label(): h for ax in axes.flat for h in ax.get_legend_handles_labels()[0]}
    fig.legend(list(handles.values()), list(handles), fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.text(0, -0.01, caption(protocol), fontsize=7, wrap=True, va="top")
    fig.tight_layout()
    return paths + _save(fig, out / "learning_curves_by_classifier")


def learning_points(rows: pd.DataFrame, agg: pd.DataFrame, best: dict[str, str], protocol: dict, out: Path,
                    labels: dict | None = None) -> list[Path]:
    """Each family's entry: the mean curve and every fold x seed result as a point (jittered in x)."""
    plt = _plt()
    scale = scale_of(protocol)
    families = list(dict.fromkeys(agg["family"]))
    colors, styles = family_styles(agg)
    rng = np.random.default_rng(0)
    fig, ax = plt.subplots(figsize=(8.5, 5))
    for family in families:
        clf = best[family]
        part = rows[(rows.family == family) & (rows.classifier == clf)]
        jitter = np.exp(rng.uniform(-0.06, 0.06, len(part)))
        ax.scatter(part["examples_per_class"] * jitter, part["ua"] * scale.factor, s=6, alpha=0.35, color=colors[family],
                   linewidths=0)
        _curve(ax, agg[(agg.family == family) & (agg.classifier == clf)], _label(labels, family, clf), colors[family], styles[family],
               scale.factor)
    _axes_style(ax, scale)
    ax.set_title("Learning curves with every fold x seed result")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.text(0, -0.02, caption(protocol), fontsize=7, wrap=True, va="top")
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
        names = json.loads(part["labels"].iloc[0])
        total = np.sum([np.array(json.loads(c)) for c in part["confusion"]], axis=0).astype(float)
        share = total / np.maximum(total.sum(1, keepdims=True), 1) * 100
        ax.imshow(share, cmap="Blues", vmin=0, vmax=100)
        for i in range(len(names)):
            for j in range(len(names)):
                ax.text(j, i, f"{share[i, j]:.0f}", ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 60 else "black")
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.set_title(f"{_label(labels, family, best[family])}, budget {largest}", fontsize=8)
        ax.set_xlabel("predicted", fontsize=7)
        ax.set_ylabel("true", fontsize=7)
    for ax in list(axes.flat)[len(families):]:
        ax.axis("off")
    fig.text(0, -0.01, "Row-normalised %, summed over folds x seeds. " + caption(protocol), fontsize=7, wrap=True, va="top")
    fig.tight_layout()
    return _save(fig, out / "confusion_matrices")
