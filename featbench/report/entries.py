"""Which classifier stands for each family in curves, ratios and plans, and whether that pick is honest.

A family's entry is, in order: its `selected` classifier (chosen per fold on validation speakers); else
the only classifier trained for it; else the classifier with the best mean on the test folds at the
largest budget, an *oracle* pick (biased upwards: a maximum over noisy means), labelled as such wherever
it is shown. The headline takes honest entries only, and never a maximum over families: an `@Lk` layer
view is left out when other layers of the same family are in the results (picking it would be a choice
made on the test folds; `@auto` and `@weighted` make that choice honestly).

>>> import pandas as pd
>>> agg = pd.DataFrame({"family": ["a", "a", "a", "b"], "classifier": ["lr", "svm", "selected", "lr"],
...                     "x": [10.0] * 4, "mean": [0.5, 0.6, 0.55, 0.4]})
>>> [(e.family, e.classifier, e.honest) for e in family_entries(agg).values()]
[('a', 'selected', True), ('b', 'lr', True)]
>>> family_entries(agg[agg.classifier != "selected"])["a"].label
'a (svm, oracle)'
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from featbench.results import EntryName
from featbench.layers import layer_view

SELECTED_ON_VALIDATION = "chosen per fold on validation speakers"
ONLY_ONE = "the only classifier trained"
ORACLE = "oracle: the best mean on the test folds"


@dataclass(frozen=True)
class Entry:
    family: str
    classifier: str
    how: str

    @property
    def honest(self) -> bool:
        return self.how != ORACLE

    @property
    def label(self) -> str:
        return f"{self.family} ({self.classifier}{'' if self.honest else ', oracle'})"


def family_entries(agg: pd.DataFrame) -> dict[str, Entry]:
    """family -> its Entry, from aggregated curves (columns family, classifier, x, mean)."""
    from featbench.results import is_selected

    entries = {}
    for family, part in agg.groupby("family", sort=False):
        classifiers = list(dict.fromkeys(part["classifier"]))
        selected = [c for c in classifiers if is_selected(c)]
        if selected:
            entries[family] = Entry(family, selected[0], SELECTED_ON_VALIDATION)
        elif len(classifiers) == 1:
            entries[family] = Entry(family, classifiers[0], ONLY_ONE)
        else:
            top = part[part["x"] == part["x"].max()].sort_values("mean", ascending=False, kind="stable")
            entries[family] = Entry(family, top["classifier"].iloc[0], ORACLE)
    return entries


def _sibling_key(family: str) -> tuple | None:
    """(family without its layer, training-data tags) of an `@Lk` view; None for any other view."""
    name = EntryName.parse(family)
    layer = layer_view(name.view)
    return (layer[0], replace(name, view="")) if layer else None


def headline_families(entries: dict[str, Entry], baseline: str) -> list[str]:
    """Families whose ratio to the baseline may headline: honest entries, no layer picked among siblings, and
    under the baseline's normalisation (results.EntryName: per-speaker statistics are another protocol).

    >>> e = {f: Entry(f, "selected", SELECTED_ON_VALIDATION) for f in ["x", "w@L0", "w@L1", "w@auto", "v@L2",
    ...                                                                  "w@auto [+a]", "w@auto [per-speaker normalisation]"]}
    >>> headline_families(e, "x")
    ['w@auto', 'v@L2', 'w@auto [+a]']
    """
    if not entries[baseline].honest:
        return []
    normalisation = EntryName.parse(baseline).normalisation
    keys = [k for k in map(_sibling_key, entries) if k]
    return [f for f, e in entries.items() if f != baseline and e.honest
            and EntryName.parse(f).normalisation == normalisation
            and not ((k := _sibling_key(f)) and keys.count(k) > 1)]
