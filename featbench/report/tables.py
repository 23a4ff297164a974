"""Summary tables: UA (or the rows' other metric, see report.scale) per budget for every family x classifier,
each family's entry marked (an oracle entry, picked on the test folds, says so).

>>> import pandas as pd
>>> agg = pd.DataFrame({"family": ["a", "a"], "classifier": ["lr", "lr"], "budget": ["8", "all"],
...                     "x": [8.0, 20.0], "mean": [0.5, 0.6], "ci_low": [0.45, 0.55], "ci_high": [0.55, 0.65]})
>>> summary_table(agg, {"a": "lr"}).columns.tolist()
['family', 'classifier', 'entry', 'oracle', 'UA@8', 'UA@all']
>>> from featbench.report.scale import CCC_METRIC, scale_of
>>> summary_markdown(agg, {"a": "lr"}, "", scale=scale_of({"metric": CCC_METRIC})).splitlines()[2:]
['| family | classifier | 8 | all (20 utterances) |', '|---|---|---|---|', '| a | **lr** | 0.500 ± 0.050 | 0.600 ± 0.050 |']
"""
from __future__ import annotations

import pandas as pd

from featbench.report.scale import UA, Scale
from featbench.results import budget_order


def summary_table(agg: pd.DataFrame, best: dict[str, str], oracle: set[str] = frozenset(), scale: Scale = UA) -> pd.DataFrame:
    """Wide table: one row per family x classifier, one 'UA@budget' column per budget (mean, fraction; 'CCC@budget'
    for a dimensional target); `entry` marks each family's entry, `oracle` an entry picked on the test folds."""
    order = budget_order(agg, "x")
    wide = agg.pivot_table(index=["family", "classifier"], columns="budget", values="mean", sort=False)[order]
    wide.columns = [f"{scale.name}@{b}" for b in wide.columns]
    wide = wide.reset_index()
    wide.insert(2, "entry", [best.get(f) == c for f, c in zip(wide.family, wide.classifier)])
    wide.insert(3, "oracle", [e and f in oracle for f, e in zip(wide.family, wide.entry)])
    return wide


def summary_markdown(agg: pd.DataFrame, best: dict[str, str], caption: str, oracle: set[str] = frozenset(),
                     scale: Scale = UA) -> str:
    """Markdown: UA % (mean ± 95% half-interval; CCC for a dimensional target) per budget; each family's entry in
    bold, '(oracle)' when it was picked on the test folds."""
    x = agg.groupby("budget")["x"].mean()
    order = budget_order(agg, "x")
    per = "/class" if scale.percent else " utterances"
    header = "| family | classifier | " + " | ".join(f"{b} ({x[b]:.0f}{per})" if b == "all" else str(b) for b in order) + " |"
    lines = [header, "|" + "---|" * (len(order) + 2)]
    for (family, clf), part in agg.groupby(["family", "classifier"], sort=False):
        cells = []
        for budget in order:
            row = part[part.budget == budget]
            cells.append("" if row.empty else scale.cell(row['mean'].iloc[0], row['ci_high'].iloc[0] - row['mean'].iloc[0]))
        name = (f"**{clf}**" + (" (oracle)" if family in oracle else "")) if best.get(family) == clf else clf
        lines.append(f"| {family} | {name} | " + " | ".join(cells) + " |")
    return f"{scale.heading} by {scale.axis}, mean ± half-width of the 95% t-interval over folds (seeds averaged within a fold); each family's entry in bold, '(oracle)' where it is the best on the test folds. {caption}\n\n" + "\n".join(lines) + "\n"
