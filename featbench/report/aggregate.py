"""Read results rows and aggregate them over folds x seeds: mean, std and a 95% t-interval.

>>> import pandas as pd
>>> rows = pd.DataFrame({"family": ["a"] * 4, "classifier": ["lr"] * 4, "budget": ["8"] * 4,
...                      "examples_per_class": [8.0] * 4, "fold": [0, 1, 0, 1], "seed": [0, 0, 1, 1],
...                      "ua": [0.5, 0.6, 0.5, 0.6]})
>>> aggregate(rows)[["mean", "n"]].values.tolist()
[[0.55, 4.0]]
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError
from featbench.results import PROTOCOL_COLUMNS, budget_order, read_results

CURVE = ["family", "classifier"]


def read_one_protocol(paths: list[str | Path]) -> tuple[pd.DataFrame, list[str]]:
    """Rows of results CSVs that share one protocol (corpus, classes, merges, folds, metric), and notes
    about repaired files."""
    table = read_results(paths)
    rows = table.rows
    if rows.empty:
        raise FeatbenchError(f"no results rows to compare in {', '.join(str(p) for p in paths)}")
    protocols = rows[PROTOCOL_COLUMNS].drop_duplicates()
    if len(protocols) > 1:
        first, second = (", ".join(f"{k}={v}" for k, v in p.items()) for p in protocols.head(2).to_dict("records"))
        raise FeatbenchError(f"results mix {len(protocols)} protocols ({first} | {second}); compare one at a time")
    return rows, table.notes


def protocol_of(rows: pd.DataFrame) -> dict:
    """The shared protocol, plus the seeds, folds, budgets and classifiers present."""
    p = rows[PROTOCOL_COLUMNS].iloc[0].to_dict()
    p = {k: (v.item() if hasattr(v, "item") else v) for k, v in p.items()}
    p.update(seeds=sorted(int(s) for s in rows["seed"].unique()), budgets=budget_order(rows),
             families=list(dict.fromkeys(rows["family"])), classifiers=list(dict.fromkeys(rows["classifier"])))
    return p


def aggregate(rows: pd.DataFrame, metric: str = "ua") -> pd.DataFrame:
    """One row per family x classifier x budget: x (mean examples per class), mean, std, n, ci_low, ci_high."""
    from scipy import stats

    grouped = rows.groupby(CURVE + ["budget"], sort=False)
    out = grouped.agg(x=("examples_per_class", "mean"), mean=(metric, "mean"), std=(metric, "std"), n=(metric, "size")).reset_index()
    out["std"] = out["std"].fillna(0.0)
    half = stats.t.ppf(0.975, np.maximum(out["n"] - 1, 1)) * out["std"] / np.sqrt(out["n"])
    out["ci_low"], out["ci_high"] = out["mean"] - half, out["mean"] + half
    out["n"] = out["n"].astype(float)
    return out.sort_values(CURVE + ["x"]).reset_index(drop=True)


def best_classifiers(agg: pd.DataFrame) -> dict[str, str]:
    """Per family, the classifier with the highest mean at the family's largest budget."""
    best = {}
    for family, part in agg.groupby("family", sort=False):
        top = part[part["x"] == part["x"].max()].sort_values("mean", ascending=False)
        best[family] = top["classifier"].iloc[0]
    return best


def unit_matrix(rows: pd.DataFrame, family: str, classifier: str, metric: str = "ua") -> tuple[np.ndarray, np.ndarray, list]:
    """(x per budget, scores of shape (n_units, n_budgets), units): one unit per (fold, seed)."""
    part = rows[(rows["family"] == family) & (rows["classifier"] == classifier)]
    table = part.pivot_table(index=["fold", "seed"], columns="budget", values=metric)
    order = budget_order(part)
    x = part.groupby("budget")["examples_per_class"].mean()
    table = table[order].dropna()
    return x[order].to_numpy(float), table.to_numpy(float), list(table.index)
