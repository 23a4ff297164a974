"""Summary tables: UA (or the rows' other metric, see report.scale) per budget for every family x classifier,
each family's entry marked (an oracle entry, picked on the test folds, says so).

>>> import pandas as pd
>>> agg = pd.DataFrame({"family": ["a", "a"], "classifier": ["lr", "lr"], "budget": ["8", "all"],
...                     "x": [8.0, 20.0], "mean": [0.5, 0.6], "ci_low": [0.45, 0.55], "ci_high": [0.55, 0.65]})
>>> summary_table(agg, {"a": "lr"}).columns.tolist()
['family', 'classifier', 'entry', 'oracle', 'UA@8', 'UA@all']
>>> from featbench.report.scale import CCC_METRIC, scale_of
>>> budget_heading(agg, "all", scale_of({"metric": CCC_METRIC}))
'all (20 utterances)'
>>> from featbench.report.pool import Pool
>>> budget_heading(agg, "all"), budget_heading(agg, "all", pool=Pool(20.0, 20, 20, True))
('all (mean 20/class)', 'all (20/class)')
>>> from featbench.results import CROSS, Setup
>>> plain, cross = Setup("a").columns() | {"family": "a"}, Setup("a", CROSS, "b").columns() | {"family": "a [from b]"}
>>> two = pd.concat([agg.assign(**plain), agg.assign(**cross, x=[8.0, 50.0])])
>>> budget_heading(two, "all", pool=Pool(20.0, 8, 30, False)), budget_note(two)
('all (mean 20/class)', "Budgets of 'a [from b]' count b's examples per class (all = mean 50/class).")
"""
from __future__ import annotations

import pandas as pd

from featbench.report.entries import setups_of
from featbench.report.pool import Pool
from featbench.report.scale import UA, Scale
from featbench.results import budget_order


def _cross(agg: pd.DataFrame) -> pd.Series:
    """Whether each row's entry is trained on another corpus ('view [from A]'): its budgets count A's examples."""
    setups = setups_of(agg)
    return pd.Series([bool(setups[f].trained_on) for f in agg["family"]], index=agg.index, dtype=bool)


def own_rows(agg: pd.DataFrame) -> pd.DataFrame:
    """The rows of entries trained on this corpus's labels (all rows where every entry is from another corpus)."""
    own = agg[~_cross(agg)]
    return own if not own.empty else agg


def budget_heading(agg: pd.DataFrame, budget: str, scale: Scale = UA, pool: Pool | None = None) -> str:
    """A budget column's heading; 'all' with its size, counted on this corpus's own rows (not '[from A]' ones): a
    mean over classes ('all (mean 75/class)') unless `pool` (report.pool) shows every fold's classes balanced."""
    if budget != "all":
        return str(budget)
    x = own_rows(agg).groupby("budget")["x"].mean()
    if not scale.percent:
        return f"all ({x['all']:.0f} utterances)"
    return f"all ({'' if pool is not None and pool.balanced else 'mean '}{x['all']:.0f}/class)"


def budget_note(agg: pd.DataFrame, scale: Scale = UA, pool: Pool | None = None, names: dict | None = None) -> str:
    """What 'all' is where the classes are unbalanced (`pool`, report.pool), and what the budgets of '[from A]' rows
    count (A's examples, not this corpus's; each entry as `names` says it); '' when there is nothing to say."""
    notes, setups = [f"{pool.note()[0].upper()}{pool.note()[1:]}."] if pool is not None and pool.note() else [], setups_of(agg)
    for family, part in agg[_cross(agg)].groupby("family", sort=False):
        sizes = part[part["budget"] == "all"]["x"]
        size = f" (all = {'mean ' if scale.percent else ''}{sizes.mean():.0f}{'/class' if scale.percent else ' utterances'})" if len(sizes) else ""
        notes.append(f"Budgets of '{(names or {}).get(family, family)}' count {setups[family].trained_on}'s {scale.x_unit}{size}.")
    return " ".join(notes)


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


SUMMARY_NOTE = ("{heading} by {axis}, mean ± half-width of the 95% t-interval over folds (seeds averaged within a fold; "
                "[low, high] where the interval is clipped to the score's range). One row per family, its entry (its "
                "classifier chosen on validation speakers, else its only one, else the best on the test folds: oracle), "
                "best first at the largest budget.")
