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

from featbench.layers import layer_view
from featbench.results import SETUP_COLUMNS, Setup

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




def setups_of(frame: pd.DataFrame) -> dict[str, Setup]:
    """{entry name (the frame's `family`): its results.Setup}, from the frame's SETUP_COLUMNS; a frame without them
    holds plain views trained within one corpus.

    >>> setups_of(pd.DataFrame({"family": ["a"]}))["a"].design
    'within'
    """
    if not all(c in frame for c in SETUP_COLUMNS):
        return {f: Setup(f) for f in dict.fromkeys(frame["family"])}
    first = frame.drop_duplicates("family")
    return {f: Setup.from_row(r) for f, r in zip(first["family"], first[SETUP_COLUMNS].to_dict("records"))}


def _sibling_key(setup: Setup) -> tuple | None:
    """(family without its layer, training data) of an `@Lk` view; None for any other view."""
    layer = layer_view(setup.view)
    return (layer[0], replace(setup, view="")) if layer else None


def headline_families(entries: dict[str, Entry], baseline: str, setups: dict[str, Setup] | None = None) -> list[str]:
    """Families whose ratio to the baseline may headline: honest entries, no layer picked among siblings, and
    under the baseline's normalisation (per-speaker statistics are another protocol). `setups`: each entry's
    results.Setup (default: plain views within one corpus).

    >>> from featbench.results import TRANSFER, Normalisation
    >>> s = {f: Setup(f) for f in ["x", "w@L0", "w@L1", "w@auto", "v@L2"]}
    >>> s |= {"w@auto [+a]": Setup("w@auto", TRANSFER, "a"), "w@auto [ps]": Setup("w@auto", normalisation=Normalisation("per-speaker"))}
    >>> e = {f: Entry(f, "selected", SELECTED_ON_VALIDATION) for f in s}
    >>> headline_families(e, "x", s)
    ['w@auto', 'v@L2', 'w@auto [+a]']
    """
    if not entries[baseline].honest:
        return []
    setups = setups or {f: Setup(f) for f in entries}
    normalisation = setups[baseline].normalisation
    keys = [k for k in map(_sibling_key, (setups[f] for f in entries)) if k]
    return [f for f, e in entries.items() if f != baseline and e.honest
            and setups[f].normalisation == normalisation
            and not ((k := _sibling_key(setups[f])) and keys.count(k) > 1)]
