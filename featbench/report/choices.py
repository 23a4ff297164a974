"""What the entries chose on validation speakers (layer, classifier) and the layer weights they learned,
read from the rows' `choice` and `val_ua` columns.

>>> import pandas as pd
>>> rows = pd.DataFrame({"family": ["w@auto"] * 2, "classifier": ["selected"] * 2, "budget": ["all"] * 2,
...                      "examples_per_class": [9.0, 9.0], "val_ua": [0.7, 0.8], "ua": [0.6, 0.7],
...                      "choice": ['{"layer": 3, "classifier": "svm"}', '{"layer": 4, "classifier": "svm"}']})
>>> choice_table(rows)[["entry", "chosen", "val_ua", "n_rows"]].values.tolist()
[['w@auto (selected)', 'layer 3 x1, layer 4 x1; svm x2', 0.75, 2]]
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from featbench.results import budget_order


def _parsed(rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows[rows["choice"].fillna("").astype(str).str.startswith("{")].copy()
    rows["made"] = [json.loads(c) for c in rows["choice"]]
    return rows.loc[np.array([bool(m) for m in rows["made"]], bool)]


def _counts(values: list, prefix: str = "") -> str:
    counts = pd.Series(values).value_counts()
    counts = counts.sort_index() if prefix else counts
    return ", ".join(f"{prefix}{k} x{n}" for k, n in counts.items())


def choice_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per entry and budget: the layers and classifiers chosen over folds x seeds, with mean validation and
    test UA. Empty when no row chose anything (no `@auto` view, no `selected` entry)."""
    rows = _parsed(rows)
    rows = rows.loc[np.array([("layer" in m) or ("classifier" in m) for m in rows["made"]], bool)]
    out = []
    for (family, clf), part in rows.groupby(["family", "classifier"], sort=False):
        for budget in budget_order(part):
            b = part[part["budget"].astype(str) == budget]
            made = list(b["made"])
            parts = [_counts([m["layer"] for m in made if "layer" in m], "layer "),
                     _counts([m["classifier"] for m in made if "classifier" in m])]
            out.append({"entry": f"{family} ({clf})", "family": family, "classifier": clf, "budget": budget,
                        "x": float(b["examples_per_class"].mean()), "chosen": "; ".join(p for p in parts if p),
                        "val_ua": float(pd.to_numeric(b["val_ua"], errors="coerce").mean()),
                        "ua": float(b["ua"].mean()), "n_rows": len(b)})
    return pd.DataFrame(out, columns=["entry", "family", "classifier", "budget", "x", "chosen", "val_ua", "ua", "n_rows"])


def layer_weight_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per entry and budget: the mean (and std) of each learned layer weight over folds x seeds; columns
    entry, budget, x, n_rows, w0, w1, ... (means) and sd0, sd1, ... Empty without `@weighted` rows."""
    rows = _parsed(rows)
    rows = rows.loc[np.array(["layer_weights" in m for m in rows["made"]], bool)]
    out = []
    for (family, clf), part in rows.groupby(["family", "classifier"], sort=False):
        for budget in budget_order(part):
            b = part[part["budget"].astype(str) == budget]
            weights = np.array([m["layer_weights"] for m in b["made"]], float)
            out.append({"entry": f"{family} ({clf})", "family": family, "classifier": clf, "budget": budget,
                        "x": float(b["examples_per_class"].mean()), "n_rows": len(b),
                        **{f"w{k}": w for k, w in enumerate(weights.mean(0))},
                        **{f"sd{k}": s for k, s in enumerate(weights.std(0))}})
    return pd.DataFrame(out)
