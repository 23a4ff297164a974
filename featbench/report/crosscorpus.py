"""Entries trained on another corpus (design cross, results.Setup; 'view [from A]' in reports): tested on this corpus's folds, their
budgets count A's labels, so they get no efficiency ratio against this corpus's baseline. What is said of them
instead, at their largest budget: the score with its interval over folds and whether chance lies in it, and the
recall of each class (confusion matrices summed over seeds within a fold, the interval over folds:
report.intervals).

>>> import json, pandas as pd
>>> rows = pd.DataFrame({"family": ["v [from a]"] * 2, "classifier": ["lr"] * 2, "budget": ["all"] * 2,
...                      "examples_per_class": [9.0] * 2, "fold": [0, 1], "seed": [0, 0], "labels": ['["x", "y"]'] * 2,
...                      "confusion": ["[[3, 1], [2, 2]]", "[[4, 0], [1, 3]]"]})
>>> class_recall(rows, "v [from a]", "lr")[["label", "mean"]].values.tolist()
[['x', 0.875], ['y', 0.625]]
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from featbench.report.intervals import t_interval
from featbench.report.scale import Scale
from featbench.report.entries import setups_of
from featbench.results import budget_order

INTRO = ("Each entry 'trained on A only' is trained on corpus A alone (its budgets count A's labels) and tested on this "
         "corpus's speaker folds, so it has no efficiency ratio against this corpus's baseline. At its largest budget: "
         "its score with the 95% t-interval over folds and whether chance lies inside it, and each class's recall "
         "(mean over folds, 95% interval), with the classes at or below chance named.")


def class_recall(rows: pd.DataFrame, family: str, classifier: str) -> pd.DataFrame:
    """Per class at the entry's largest budget: label, mean recall over folds, ci_low, ci_high, n (folds)."""
    part = rows[(rows["family"] == family) & (rows["classifier"] == classifier)]
    part = part[part["budget"].astype(str) == budget_order(part)[-1]]
    names = json.loads(part["labels"].iloc[0])
    recalls = []
    for _, fold in part.groupby("fold"):
        total = np.sum([np.array(json.loads(c), float) for c in fold["confusion"]], axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            recalls.append(np.diag(total) / total.sum(1))
    recalls = np.array(recalls)
    out = []
    for k, name in enumerate(names):
        values = recalls[:, k][~np.isnan(recalls[:, k])]
        low, high = t_interval(values) if len(values) else (np.nan, np.nan)
        out.append({"label": name, "mean": float(values.mean()) if len(values) else np.nan, "ci_low": low,
                    "ci_high": high, "n": len(values)})
    return pd.DataFrame(out, columns=["label", "mean", "ci_low", "ci_high", "n"])


def chance_check(mean: float, low: float, high: float, scale: Scale) -> str:
    """'above chance', 'at chance (its interval holds chance)', 'below chance'; said without an interval for one fold."""
    if low != low:
        return f"{'above' if mean > scale.chance else 'at or below'} {scale.chance_name} (one fold: no interval to check)"
    if low > scale.chance:
        return f"above {scale.chance_name}"
    return f"below {scale.chance_name}" if high < scale.chance else f"at {scale.chance_name} (its interval holds it)"


def cross_corpus(rows: pd.DataFrame, agg: pd.DataFrame, best: dict[str, str], labels: dict[str, str],
                 scale: Scale, corpus: str, names: dict[str, str] | None = None) -> tuple[list[str], pd.DataFrame]:
    """Sentences for every '[from A]' entry (named by `names`, default `labels`), and their per-class recall (columns
    entry: its label, label, mean, ci_low, ci_high, n; empty for a dimensional target)."""
    sentences, recall = [], []
    setups = setups_of(agg)
    for family in (f for f in best if setups[f].trained_on):
        curve = agg[(agg["family"] == family) & (agg["classifier"] == best[family])].sort_values("x")
        top = curve.iloc[-1]
        other = setups[family].trained_on
        text = (f"{(names or labels)[family]}: tested on {corpus}'s folds, at budget {top.budget} "
                f"({top.x:.0f} of {other}'s {scale.x_unit}, over {top.n:.0f} folds): {scale.said(top['mean'])}, 95% "
                f"interval {scale.interval(top.ci_low, top.ci_high)}, {chance_check(top['mean'], top.ci_low, top.ci_high, scale)} "
                f"({scale.fmt(scale.chance)})")
        if not scale.dimensional:
            classes = class_recall(rows, family, best[family])
            recall.append(classes.assign(entry=labels[family]))
            low = [r.label for r in classes.itertuples() if (r.ci_low if r.ci_low == r.ci_low else r.mean) <= scale.chance]
            text += ("; recall per class: " + ", ".join(f"{r.label} {scale.fmt(r.mean)} ({scale.interval(r.ci_low, r.ci_high)})"
                                                        for r in classes.itertuples())
                     + (f"; at or below {scale.chance_name} (lower end of the interval): {', '.join(low)}" if low else ""))
        sentences.append(text)
    columns = ["entry", "label", "mean", "ci_low", "ci_high", "n"]
    return sentences, (pd.concat(recall)[columns] if recall else pd.DataFrame(columns=columns))
