"""Recording conditions as the report reads them from results rows (schema 4: `train_condition`, `test_condition`;
a row without them, schema <= 3, is clean/clean): which rows every existing section reads (each entry tested
under its own training condition), and what a condition's text means for the robustness figure (its panel, its x).

A condition's text is parsed with `featbench.protocol.conditions.parse_condition`; a text it does not know (a kind
this featbench lacks, `multi:...` training) is split on ':' instead: the kind is its panel, the first number its x.

>>> import pandas as pd
>>> rows = pd.DataFrame({"family": ["a", "a", "a"], "test_condition": ["clean", "white:10", ""]})
>>> with_conditions(rows)[[TRAIN, TEST]].values.tolist()
[['clean', 'clean'], ['clean', 'white:10'], ['clean', 'clean']]
>>> own_rows(with_conditions(rows)).index.tolist()
[0, 2]
>>> with_conditions(rows.assign(test_condition=" "))
Traceback (most recent call last):
featbench.errors.FeatbenchError: results rows: test_condition is ' ', blank: not a recording condition ('clean' for none)
>>> described("white:10"), described("babble:5:4").group, described("mp3:8k").severity, described("telephone").severity
(Described(text='white:10', group='white', severity=10.0, axis='SNR (dB)'), 'babble', 8.0, None)
>>> x_order([described(t) for t in ["white:0", "white:20", "white:10"]])
['white:20', 'white:10', 'white:0']
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from featbench.errors import FeatbenchError

TRAIN, TEST, CLEAN, MULTI = "train_condition", "test_condition", "clean", "multi:"
FALLBACK_AXES = {"white": "SNR (dB)", "pink": "SNR (dB)", "brown": "SNR (dB)", "babble": "SNR (dB)",
                 "noise": "SNR (dB)", "room": "RT60 (s)", "mp3": "bitrate (bit/s)", "opus": "bitrate (bit/s)",
                 "amr-nb": "bitrate (bit/s)"}
"""The x axis of kinds this featbench may not parse yet (a newer featbench wrote the rows)."""
_CLEANER_HIGH = ("snr", "bitrate", "kbit", "hz", "cut-off")
"""Axes on which a larger value is the cleaner recording (so they run from high to low, clean at the left)."""


def condition_problem(value) -> str | None:
    """Why a condition cell is not a condition's text (a blank that is not empty), or None."""
    text = "" if value is None or value != value else str(value)
    return f"is '{text}', blank: not a recording condition ('clean' for none)" if text and not text.strip() else None


def _text(column: str, value) -> str:
    if (problem := condition_problem(value)) is not None:
        raise FeatbenchError(f"results rows: {column} {problem}")
    return CLEAN if value is None or value != value or value == "" else str(value)


def with_conditions(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows with both condition columns as text, 'clean' where a row has none (schema <= 3, an empty cell); a
    blank cell that is not empty is one error line."""
    out = rows.copy()
    for column in (TRAIN, TEST):
        out[column] = [_text(column, v) for v in rows[column]] if column in rows else CLEAN
    return out


def own_condition(train: str) -> str:
    """The test condition an entry trained under `train` is read at in every section but Robustness: its training
    condition (clean for clean, C for matched C); clean for multi-condition training (no single own condition)."""
    return CLEAN if train.startswith(MULTI) else train


def own_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows tested under their entry's own training condition (rows of `with_conditions`)."""
    return rows[[test == own_condition(train) for train, test in zip(rows[TRAIN], rows[TEST])]]


def by_training(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows whose `family` (an entry's display name) holds rows of several training conditions get the training
    condition in their name ('egemaps-func [trained under white:10]'; clean keeps its name), so that an entry is
    one training condition; a name that already tells them apart is left as it is."""
    mixed = rows.groupby("family", sort=False)[TRAIN].nunique()
    mixed = set(mixed[mixed > 1].index)
    if not mixed:
        return rows
    return rows.assign(family=[f"{f} [trained under {t}]" if f in mixed and t != CLEAN else f
                               for f, t in zip(rows["family"], rows[TRAIN])])


@dataclass(frozen=True)
class Described:
    """A test condition as the robustness figure places it: its panel (`group`), its x (`severity`; None for a
    one-point condition such as telephone) and what x measures (`axis`)."""

    text: str
    group: str
    severity: float | None
    axis: str


def _number(text: str) -> float | None:
    """'10' -> 10.0, '8k' -> 8000.0, '0.6' -> 0.6; None for anything else."""
    match = re.fullmatch(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))([kK]?)", text.strip())
    return None if match is None else float(match.group(1)) * (1000.0 if match.group(2) else 1.0)


def _fallback(text: str) -> Described:
    parts = [p.split(":") for p in text.split("+")]
    group = "+".join(p[0] for p in parts)
    severity = next((v for v in map(_number, parts[-1][1:]) if v is not None), None)
    return Described(text, group, severity, FALLBACK_AXES.get(parts[-1][0], "") if severity is not None else "")


def described(text: str) -> Described:
    """The panel, x and axis of a condition's text (parsed; else split on ':', see the module)."""
    from featbench.protocol.conditions import parse_condition

    if text.startswith(MULTI):
        return Described(text, "multi", None, "")
    try:
        condition = parse_condition(text)
    except FeatbenchError:
        return _fallback(text)
    last = getattr(condition, "parts", (condition,))[-1]
    return Described(text, condition.group, condition.severity, str(last.axis) if condition.severity is not None else "")


def x_order(points: list[Described]) -> list[str]:
    """The texts of one panel's conditions from the least degraded to the most (clean goes before them all): on
    an SNR, bitrate or cut-off axis from high to low, else from low to high; one-point conditions by their text."""
    ranked = [p for p in points if p.severity is not None]
    high_first = any(word in (ranked[0].axis if ranked else "").lower() for word in _CLEANER_HIGH)
    ranked = sorted(ranked, key=lambda p: -(p.severity or 0.0) if high_first else (p.severity or 0.0))
    return [p.text for p in ranked] + sorted(p.text for p in points if p.severity is None)
