"""What each entry costs, at a glance, from its results rows: the seconds to train it at its largest budget (the
rows' `fit_seconds`, mean over folds x seeds), and, where the rows record them (results.COST_COLUMNS, written since
featbench 0.3.0), the seconds its features took to extract per hour of audio and the megabytes they take in the store
per hour of audio; 'n/a' where the rows do not say.

>>> import pandas as pd
>>> rows = pd.DataFrame({"family": ["a"] * 2, "classifier": ["lr"] * 2, "budget": ["all"] * 2,
...                      "examples_per_class": [9.0] * 2, "fit_seconds": [0.2, 0.4]})
>>> cost_text(entry_costs(rows, {"a": "lr"})["a"])
'train 0.30 s · extract n/a · store n/a'
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from featbench.results import budget_order

EXTRACT, STORE = "extract_seconds_per_audio_hour", "store_mb_per_audio_hour"


@dataclass(frozen=True)
class Cost:
    """One entry's cost: None where the rows do not record it."""

    train_seconds: float | None
    extract_seconds_per_audio_hour: float | None
    store_mb_per_audio_hour: float | None


def _mean(part: pd.DataFrame, column: str) -> float | None:
    if column not in part:
        return None
    values = pd.to_numeric(part[column], errors="coerce").dropna()
    return float(values.mean()) if len(values) else None


def entry_costs(rows: pd.DataFrame, best: dict[str, str]) -> dict[str, Cost]:
    """family -> the Cost of its entry (`best[family]` its classifier), at the entry's largest budget."""
    out = {}
    for family, classifier in best.items():
        part = rows[(rows["family"] == family) & (rows["classifier"] == classifier)]
        part = part[part["budget"].astype(str) == budget_order(part)[-1]] if len(part) else part
        out[family] = Cost(_mean(part, "fit_seconds"), _mean(part, EXTRACT), _mean(part, STORE))
    return out


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def cost_text(cost: Cost) -> str:
    """'train 0.31 s · extract 95 s/h · store 12.0 MB/h' (per hour of audio), 'n/a' for what is not recorded."""
    extract = "n/a" if cost.extract_seconds_per_audio_hour is None else f"{cost.extract_seconds_per_audio_hour:.0f} s/h"
    store = "n/a" if cost.store_mb_per_audio_hour is None else f"{cost.store_mb_per_audio_hour:.1f} MB/h"
    return f"train {_seconds(cost.train_seconds)} · extract {extract} · store {store}"


COST_NOTE = ("Cost: seconds to train the entry at its largest budget (mean over folds x seeds); seconds its features "
             "took to extract, and megabytes they take in the store, per hour of audio (n/a: not recorded in these "
             "results rows).")
