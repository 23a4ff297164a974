"""Read results rows and aggregate them over independent units: the folds (test speaker groups).

Seeds train on overlapping data and share their test speakers, so they are not independent: scores are
first averaged over seeds within each fold, then the mean, standard deviation and 95% t-interval are
taken over the folds (n = number of folds). Every row keeps its seed; only the interval counts folds.

>>> import pandas as pd
>>> rows = pd.DataFrame({"family": ["a"] * 4, "classifier": ["lr"] * 4, "budget": ["8"] * 4,
...                      "examples_per_class": [8.0] * 4, "fold": [0, 1, 0, 1], "seed": [0, 0, 1, 1],
...                      "ua": [0.5, 0.6, 0.5, 0.7]})
>>> aggregate(rows)[["mean", "n", "n_rows"]].values.tolist()
[[0.575, 2.0, 4.0]]
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError
from featbench.report.intervals import t_bounds
from featbench.report.rows import check_rows
from featbench.results import CCC_METRIC, PROTOCOL_COLUMNS, SETUP_COLUMNS, budget_order, combine, labels, read_results_file, shown

CURVE = ["family", "classifier"]


def read_one_protocol(paths: list[str | Path]) -> tuple[pd.DataFrame, list[str]]:
    """Rows of results CSVs that share one protocol (corpus, classes, merges, folds, metric), and notes
    about repaired files. Every row is checked first (report.rows): a damaged one is one error line. In a report,
    `family` names each entry by its display name (results.Setup.label: 'egemaps-func [per-speaker normalisation]'),
    made from the rows' columns; the columns themselves (results.SETUP_COLUMNS) stay beside it."""
    tables = [read_results_file(p) for p in paths]
    for path, table in zip(paths, tables):
        check_rows(path, table.rows, table.lines)
    combined = combine(tables)  # rows repeated across files read once; rows of one key that differ refused
    rows = combined.rows
    if rows.empty:
        raise FeatbenchError(f"no results rows to compare in {', '.join(str(p) for p in paths)}")
    rows["family"] = labels(rows)
    protocols = rows[PROTOCOL_COLUMNS].drop_duplicates()
    where = combined.where  # 'FILE line N' of each row
    if len(protocols) > 1:
        first, second = (", ".join(f"{k}={shown(v, 60)}" for k, v in p.items()) + f" at {where[i]}"
                         for i, p in zip(protocols.index[:2], protocols.head(2).to_dict("records")))
        raise FeatbenchError(f"results mix {len(protocols)} protocols ({first} | {second}); compare one at a time")
    speakers = rows.groupby("fold")["test_groups"].nunique()
    if (speakers > 1).any():
        fold = speakers[speakers > 1].index[0]
        sets = rows.loc[rows["fold"] == fold].drop_duplicates("test_groups")
        a, b = (f"{shown(s, 60)} at {where[i]}" for i, s in zip(sets.index[:2], sets["test_groups"]))
        raise FeatbenchError(f"fold {fold:g} tests different speakers in these results ({a} | {b}), so families "
                             "cannot be paired; train them on the same utterances (one store, families extracted alike)")
    return rows, combined.notes


def protocol_of(rows: pd.DataFrame) -> dict:
    """The shared protocol, plus the seeds, folds (`folds_run`: of the protocol's `n_folds`), budgets and classifiers
    present."""
    p = rows[PROTOCOL_COLUMNS].iloc[0].to_dict()
    p = {k: (v.item() if hasattr(v, "item") else v) for k, v in p.items()}
    p.update(seeds=sorted(int(s) for s in rows["seed"].unique()), folds_run=sorted(int(f) for f in rows["fold"].unique()),
             budgets=budget_order(rows),
             families=list(dict.fromkeys(rows["family"])), classifiers=list(dict.fromkeys(rows["classifier"])))
    return p


def score_bounds(rows: pd.DataFrame) -> tuple[float, float]:
    """The range of the rows' score: [-1, 1] for CCC rows, else [0, 1] (report.scale.Scale.bounds)."""
    ccc = "metric" in rows and len(rows) and rows["metric"].iloc[0] == CCC_METRIC
    return (-1.0, 1.0) if ccc else (0.0, 1.0)


UNIT = "fold"  # the unit of independence: one test speaker group per fold
INTERVAL = "95% t-interval over folds (test speaker groups), seeds averaged within each fold"


def fold_means(rows: pd.DataFrame, metric: str = "ua") -> pd.DataFrame:
    """One row per family x classifier x budget x fold: the metric and examples per class averaged over seeds."""
    return (rows.groupby(CURVE + ["budget", UNIT], sort=False)
            .agg(examples_per_class=("examples_per_class", "mean"), score=(metric, "mean"), n_rows=(metric, "size"))
            .reset_index())


def aggregate(rows: pd.DataFrame, metric: str = "ua") -> pd.DataFrame:
    """One row per family x classifier x budget: x (mean examples per class), mean, std (over folds), n (folds),
    n_rows (fold x seed rows), ci_low, ci_high (see INTERVAL; kept in the score's range, NaN for one fold:
    report.intervals)."""
    grouped = fold_means(rows, metric).groupby(CURVE + ["budget"], sort=False)
    out = grouped.agg(x=("examples_per_class", "mean"), mean=("score", "mean"), std=("score", "std"),
                      n=("score", "size"), n_rows=("n_rows", "sum")).reset_index()
    out["std"] = out["std"].fillna(0.0)
    out["n_rows"] = out["n_rows"].astype(float)
    out["ci_low"], out["ci_high"] = t_bounds(out["mean"], out["std"], out["n"], score_bounds(rows))
    out["n"] = out["n"].astype(float)
    setup = [c for c in SETUP_COLUMNS if c in rows]  # what each entry's training data is, beside its name
    if setup:
        out = out.merge(rows[["family", *setup]].drop_duplicates("family"), on="family", how="left")
    return out.sort_values(CURVE + ["x"]).reset_index(drop=True)


def best_classifiers(agg: pd.DataFrame) -> dict[str, str]:
    """Per family, the classifier with the highest mean at the family's largest budget."""
    best = {}
    for family, part in agg.groupby("family", sort=False):
        top = part[part["x"] == part["x"].max()].sort_values("mean", ascending=False)
        best[family] = top["classifier"].iloc[0]
    return best


def unit_matrix(rows: pd.DataFrame, family: str, classifier: str, metric: str = "ua") -> tuple[np.ndarray, np.ndarray, list]:
    """(x per budget, scores of shape (n_folds, n_budgets), folds): one unit per fold, seeds averaged."""
    part = rows[(rows["family"] == family) & (rows["classifier"] == classifier)]
    table = part.pivot_table(index=UNIT, columns="budget", values=metric, aggfunc="mean")
    order = budget_order(part)
    x = part.groupby("budget")["examples_per_class"].mean()
    table = table[order].dropna()
    return x[order].to_numpy(float), table.to_numpy(float), list(table.index)
