"""The utterance table every corpus loader produces, and label selection / merging.

Columns: id, path (absolute), label, speaker, group (for folds), gender (may be empty; used to
balance folds), duration (s, NaN if unknown), transcript (may be empty), then any further columns the
loader gives, as given (a manifest's `arousal`, IEMOCAP's valence/arousal/dominance: what
`featbench train --target` learns).

>>> t = make_table([dict(id="a", path="/x/a.wav", label="exc", speaker="s1"),
...                 dict(id="b", path="/x/b.wav", label="neu", speaker="s2")])
>>> list(select_labels(t, ["neu", "hap"], {"exc": "hap"}).label)
['hap', 'neu']
>>> list(make_table([dict(id="a", path="/x/a.wav", label="l", speaker="s", arousal="3.5")]).columns[len(COLUMNS):])
['arousal']
>>> make_table([dict(id="a", path="/x/a.wav", label="l", speaker="s"), dict(id="a", path="/y/a.wav", label="l", speaker="s")])
Traceback (most recent call last):
featbench.errors.FeatbenchError: corpus: duplicate utterance id 'a' (/x/a.wav and /y/a.wav)
"""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from featbench.errors import FeatbenchError

COLUMNS = ["id", "path", "label", "speaker", "group", "gender", "duration", "transcript"]


def make_table(rows: Iterable[dict], name: str = "corpus") -> pd.DataFrame:
    """Build a validated utterance table from dicts; group defaults to speaker."""
    table = pd.DataFrame(list(rows))
    if table.empty:
        raise FeatbenchError(f"{name}: no utterances found")
    for column in ("id", "path", "label", "speaker"):
        if column not in table:
            raise FeatbenchError(f"{name}: utterances lack a '{column}'")
    if "group" not in table:
        table["group"] = table["speaker"]
    table["group"] = table["group"].fillna(table["speaker"])
    if "duration" not in table:
        table["duration"] = float("nan")
    for column in ("gender", "transcript"):
        if column not in table:
            table[column] = ""
        table[column] = table[column].fillna("")
    if "transcript" not in table:
        table["transcript"] = ""
    table["transcript"] = table["transcript"].fillna("")
    for column in ("id", "label", "speaker", "group", "gender", "path", "transcript"):
        table[column] = table[column].astype(str)
    table["duration"] = pd.to_numeric(table["duration"], errors="coerce")
    duplicated = table["id"].duplicated(keep=False)
    if duplicated.any():
        first = table["id"][duplicated].iloc[0]
        paths = table["path"][table["id"] == first].tolist()
        others = table["id"][duplicated].nunique() - 1
        more = f"; {others} more duplicate ids" if others else ""
        raise FeatbenchError(f"{name}: duplicate utterance id '{first}' ({paths[0]} and {paths[1]}){more}")
    extra = [c for c in table.columns if c not in COLUMNS]
    table[extra] = table[extra].fillna("")  # a value some rows lack is empty, never the text 'nan'
    return table[COLUMNS + extra].sort_values("id", kind="stable").reset_index(drop=True)


def parse_merge(spec: str | Iterable[str] | None) -> dict[str, str]:
    """Parse 'excited=happy,calm=neutral' (or a list of such items) into a mapping.

    >>> parse_merge("excited=happy, calm=neutral")
    {'excited': 'happy', 'calm': 'neutral'}
    """
    if not spec:
        return {}
    items = spec.split(",") if isinstance(spec, str) else [p for s in spec for p in s.split(",")]
    merge = {}
    for item in (i.strip() for i in items if i.strip()):
        if item.count("=") != 1:
            raise FeatbenchError(f"label merge '{item}' is not of the form source=target")
        source, target = (part.strip() for part in item.split("="))
        merge[source] = target
    return merge


def parse_classes(spec: str | None) -> list[str] | None:
    """Parse 'neutral,happy' into a list; None or '' means keep every class."""
    if not spec:
        return None
    return [c.strip() for c in spec.split(",") if c.strip()]


def select_labels(table: pd.DataFrame, classes: list[str] | None, merge: dict[str, str] | None = None) -> pd.DataFrame:
    """Apply label merges, then keep only `classes` (all when None). A listed class with no utterance is an error."""
    table = table.copy()
    if merge:
        table["label"] = table["label"].replace(merge)
    if classes:
        present = set(table["label"])
        missing = [c for c in classes if c not in present]
        if missing:
            raise FeatbenchError(
                f"class '{missing[0]}' has no utterance; labels present: {', '.join(sorted(present))}"
            )
        table = table[table["label"].isin(classes)]
    return table.reset_index(drop=True)


def summary_text(table: pd.DataFrame, problems: pd.DataFrame | None = None, name: str = "corpus") -> str:
    """Human-readable summary: utterances per class x speaker, hours, problems."""
    counts = pd.crosstab(table["speaker"], table["label"], margins=True, margins_name="total")
    hours = table["duration"].sum(skipna=True) / 3600
    lines = [
        f"{name}: {len(table)} utterances, {table['label'].nunique()} classes, "
        f"{table['speaker'].nunique()} speakers, {table['group'].nunique()} groups, {hours:.2f} h",
        "",
        "utterances per speaker (rows) x class (columns):",
        counts.to_string(),
    ]
    if problems is not None:
        lines += ["", f"problems found: {len(problems)}"]
        lines += [f"  {row.path}: {row.problem}" for row in problems.itertuples()]
    return "\n".join(lines)
