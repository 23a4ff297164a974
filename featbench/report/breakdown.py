"""Who the model fails: UA per gender and per test speaker, at each entry's largest budget, from the rows'
`ua_by_gender` and `ua_by_speaker` columns (UA over one gender's / one speaker's test clips of a fold; CCC
for a dimensional target, with no agreement at 0 in place of chance: see report.scale).

Per gender, seeds are averaged within a fold and the interval is taken over folds, as for the overall
score; per speaker (who is tested in exactly one fold), the UA is averaged over seeds.

>>> import pandas as pd
>>> rows = pd.DataFrame({"family": ["a"] * 2, "classifier": ["lr"] * 2, "budget": ["all"] * 2,
...                      "examples_per_class": [9.0] * 2, "fold": [0, 1], "seed": [0, 0],
...                      "ua_by_speaker": ['{"s1": 0.5}', '{"s2": 0.9}'], "ua_by_gender": ['{"f": 0.5}', '{"f": 0.7}']})
>>> by_speaker(rows, [("a", "lr")])[["speaker", "ua"]].values.tolist()
[['s1', 0.5], ['s2', 0.9]]
>>> round(float(by_gender(rows, [("a", "lr")])["mean"].iloc[0]), 2)
0.6
"""
from __future__ import annotations

import json
import re

import pandas as pd

from featbench.report.intervals import t_interval
from featbench.report.scale import Scale
from featbench.results import budget_order


def _largest(rows: pd.DataFrame, family: str, classifier: str, column: str) -> pd.DataFrame:
    """One row per (fold, seed, key, ua) of the entry's largest budget; empty without the column's data."""
    part = rows[(rows["family"] == family) & (rows["classifier"] == classifier)]
    columns = ["fold", "seed", "key", "ua", "budget"]
    part = part[part[column].fillna("").astype(str).str.startswith("{")]
    if part.empty:
        return pd.DataFrame(columns=columns)
    budget = budget_order(part)[-1]
    part = part[part["budget"].astype(str) == budget]
    out = [{"fold": r.fold, "seed": r.seed, "key": k, "ua": v, "budget": budget}
           for r in part.itertuples() for k, v in json.loads(getattr(r, column)).items()]
    return pd.DataFrame(out, columns=columns)  # no rows at all for a corpus without genders ({} in every row)


def by_speaker(rows: pd.DataFrame, entries: list[tuple[str, str]]) -> pd.DataFrame:
    """Per entry and test speaker: UA at the entry's largest budget (mean over seeds)."""
    out = []
    for family, clf in entries:
        long = _largest(rows, family, clf, "ua_by_speaker")
        for speaker, part in long.groupby("key", sort=False):
            out.append({"entry": f"{family} ({clf})", "family": family, "classifier": clf, "budget": part["budget"].iloc[0],
                        "speaker": speaker, "fold": int(part["fold"].iloc[0]), "ua": float(part["ua"].mean()), "n_rows": len(part)})
    frame = pd.DataFrame(out, columns=["entry", "family", "classifier", "budget", "speaker", "fold", "ua", "n_rows"])
    return frame.sort_values(["entry", "speaker"], key=lambda s: s.map(natural_key) if s.name == "speaker" else s,
                             kind="stable").reset_index(drop=True)


def natural_key(text: str):
    """A sort key that orders 'ravdess_2' before 'ravdess_10'."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(text)))


def by_gender(rows: pd.DataFrame, entries: list[tuple[str, str]]) -> pd.DataFrame:
    """Per entry and gender: mean UA over folds (seeds averaged within a fold) with its 95% t-interval, in the score's
    range (report.intervals; NaN ends from one fold)."""
    from featbench.report.aggregate import score_bounds

    out, bounds = [], score_bounds(rows)
    for family, clf in entries:
        long = _largest(rows, family, clf, "ua_by_gender")
        for gender, part in long.groupby("key", sort=True):
            folds = part.groupby("fold")["ua"].mean()
            low, high = t_interval(folds.to_numpy(), bounds)
            out.append({"entry": f"{family} ({clf})", "family": family, "classifier": clf, "budget": part["budget"].iloc[0],
                        "gender": gender, "mean": float(folds.mean()), "ci_low": low,
                        "ci_high": high, "n": len(folds)})
    return pd.DataFrame(out, columns=["entry", "family", "classifier", "budget", "gender", "mean", "ci_low", "ci_high", "n"])


def spread_sentences(speakers: pd.DataFrame, genders: pd.DataFrame, scale: Scale, confounded: bool = False) -> list[str]:
    """One sentence per entry: its worst and best test speaker, how many sit at or below chance (`scale.chance`), the
    gender gap; with `confounded` (report.groups), each group figure said to be a class figure too."""
    sentences, fmt, chance = [], scale.fmt, scale.chance
    for entry, part in speakers.groupby("entry", sort=False):
        worst, best = part.loc[part["ua"].idxmin()], part.loc[part["ua"].idxmax()]
        low = int((part["ua"] <= chance).sum())
        text = (f"{entry} at budget {part['budget'].iloc[0]}: test speakers range from {fmt(worst['ua'])} ({worst['speaker']}) "
                f"to {fmt(best['ua'])} ({best['speaker']}); {low} of {len(part)} at or below {scale.chance_name} ({fmt(chance)})")
        g = genders[genders["entry"] == entry]
        if len(g) > 1:
            text += "; by gender " + ", ".join(f"{r.gender} {fmt(r.mean)} ({scale.interval(r.ci_low, r.ci_high)})" for r in g.itertuples())
        sentences.append(text + (" (groups confounded with classes: see the note above)" if confounded else "") + ".")
    return sentences
