"""The critical-difference diagram (Demsar 2006): each entry at its mean rank on an axis from 1 (best) to k, the
critical difference drawn to scale above it, and a thick bar joining each clique of entries the Nemenyi test does
not tell apart. Written as PNG and SVG with the report's other figures (report.plots); names escaped for matplotlib.

>>> import tempfile, numpy as np, pandas as pd
>>> from pathlib import Path
>>> from featbench.report.statistics.ranks import critical_difference
>>> scores = pd.DataFrame(np.random.default_rng(1).random((8, 4)) + [0.3, 0.2, 0.0, 0.0], columns=list("abcd"))
>>> with tempfile.TemporaryDirectory() as out:
...     [p.name for p in cd_diagram(critical_difference(scores, "corpus"), Path(out))]
['critical_difference.png', 'critical_difference.svg']
"""
from __future__ import annotations

from pathlib import Path

from featbench.report.escape import plot_text
from featbench.report.plots import _plt, _save
from featbench.report.statistics.ranks import CriticalDifference


def _axis(ax, k: int) -> None:
    ax.hlines(0, 1, k, color="black", lw=1)
    for r in range(1, k + 1):
        ax.vlines(r, 0, 0.12, color="black", lw=1)
        ax.text(r, 0.18, str(r), ha="center", va="bottom", fontsize=8)


def _names(ax, order: list[str], ranks: dict[str, float], k: int, labels: dict) -> float:
    """Each entry's name beside the axis, joined to its mean rank by an elbow line; returns the lowest y used."""
    half, y = (len(order) + 1) // 2, 0.0
    for i, entry in enumerate(order):
        left = i < half
        y = -0.35 - 0.28 * (i if left else len(order) - 1 - i)
        edge = 0.6 if left else k + 0.4
        ax.plot([ranks[entry], ranks[entry], edge], [0, y, y], color="black", lw=0.8)
        name = labels.get(entry) or plot_text(entry)
        ax.text(edge + (-0.05 if left else 0.05), y, f"{name} ({ranks[entry]:.2f})", ha="right" if left else "left",
                va="center", fontsize=8)
    return -0.35 - 0.28 * half


def cd_diagram(result: CriticalDifference, out: Path, title: str = "", labels: dict | None = None) -> list[Path]:
    """critical_difference.png/.svg in `out` from a CriticalDifference; [] where it has no critical difference (its
    `reason` says why: too few blocks, fewer than 3 entries). `labels`: each entry as drawn (default its name,
    escaped)."""
    if result.cd is None:
        return []
    plt, ranks = _plt(), result.mean_ranks
    k, order = len(ranks), sorted(ranks, key=lambda e: ranks[e])
    fig, ax = plt.subplots(figsize=(7.5, 1.6 + 0.2 * k))
    _axis(ax, k)
    ax.plot([1, 1 + result.cd], [0.7, 0.7], color="black", lw=2)
    ax.text(1 + result.cd / 2, 0.78, f"CD = {result.cd:.2f}", ha="center", va="bottom", fontsize=8)
    low = _names(ax, order, ranks, k, labels or {})
    for i, clique in enumerate(result.cliques):
        y = -0.12 - 0.1 * i
        ax.plot([ranks[clique[0]] - 0.03, ranks[clique[-1]] + 0.03], [y, y], color="black", lw=3, solid_capstyle="butt")
    ax.set_xlim(-0.2 - 0.1 * k, k + 1.2 + 0.1 * k)
    ax.set_ylim(min(low, -0.12 - 0.1 * len(result.cliques)) - 0.1, 1.1)
    ax.axis("off")
    heading = (f"{plot_text(title)}: " if title else "") + "mean rank (1 = best)"
    ax.set_title(heading, fontsize=9)
    fig.text(0, 0.01, plot_text(f"Nemenyi critical difference at alpha {result.alpha:g} over {result.n_blocks} blocks "
                                f"({result.unit}); bars join entries not told apart"), fontsize=7, va="top")
    return _save(fig, out / "critical_difference")
