"""Check results rows before a report is made of them: a damaged row (a zero budget, a score that is not finite or
out of its range, a budget label or JSON column that does not read back) is one error line naming the file, the
line and the column, raised before `compare` writes anything.

>>> import pandas as pd
>>> row = {"budget": "8", "examples_per_class": 0.0, "ua": 0.5, "fold": 0, "seed": 0, "n_classes": 2,
...        "metric": "CCC (concordance correlation coefficient)", "confusion": "", "labels": "", "choice": "",
...        "ua_by_speaker": "", "ua_by_gender": ""}
>>> check_rows("r.csv", pd.DataFrame([row]))
Traceback (most recent call last):
featbench.errors.FeatbenchError: r.csv: line 2: examples_per_class is 0.0, not a positive count
"""
from __future__ import annotations

import json
import math
import numbers

import pandas as pd

from featbench.options import is_whole
from featbench.errors import FeatbenchError
from featbench.report.conditions import TEST, TRAIN, condition_problem
from featbench.results import CCC_METRIC, shown

SCORE_MAPS = ("ua_by_speaker", "ua_by_gender")  # JSON {key: score}, or empty
DETAILS = ("family_options", "test_classes", "correct_by_speaker")  # JSON objects, or empty (DETAIL/COUNT_COLUMNS)


def _budget_problem(value) -> str | None:
    """Why a budget label does not read as a budget ('all', a positive count, a fraction in (0, 1)), or None."""
    text = str(value).strip().lower()
    if text == "all" or (is_whole(text) and int(text) > 0):
        return None
    try:
        return None if 0 < float(text) < 1 else f"is '{value}', not a budget (a count, a fraction or 'all')"
    except ValueError:
        return f"is '{value}', not a budget (a count, a fraction or 'all')" if text else "is empty"


def _json(value, kind: type, what: str) -> tuple[object, str | None]:
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return None, f"is not readable JSON ({what})"
    return (parsed, None) if isinstance(parsed, kind) else (None, f"is not {what}")


def _finite(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _confusion_problem(confusion, labels, n_classes) -> tuple[str, str] | None:
    """(column, why) when a classification row's confusion matrix or label list is damaged."""
    names, why = _json(labels, list, "a JSON list of class names")
    if why or len(names) != n_classes:
        return "labels", why or f"holds {len(names)} class names, not n_classes = {n_classes:g}"
    matrix, why = _json(confusion, list, "a JSON matrix of counts")
    if why:
        return "confusion", why
    if (len(matrix) != len(names) or not all(isinstance(r, list) and len(r) == len(names) for r in matrix)
            or not all(_finite(v) and v >= 0 for r in matrix for v in r)):
        return "confusion", f"is not a {len(names)} x {len(names)} matrix of counts"
    return None


def _row_problem(row: pd.Series) -> tuple[str, str] | None:
    """(column, why) for the first damaged column of one row, or None."""
    if (why := _budget_problem(row["budget"])) is not None:
        return "budget", why
    for column in ("fold", "seed"):
        if not _finite(row[column]):
            return column, "is empty or not finite"
    x = row["examples_per_class"]
    if not _finite(x) or x <= 0:
        return "examples_per_class", f"is {x}, not a positive count"
    ccc = row["metric"] == CCC_METRIC
    low = -1.0 if ccc else 0.0
    if not _finite(row["ua"]) or not low <= row["ua"] <= 1.0:
        return "ua", f"is {row['ua']}, not a score in [{low:g}, 1]"
    if not _finite(row["n_classes"]) or row["n_classes"] < 2:
        return "n_classes", f"is {row['n_classes']}, not a number of classes"
    if not ccc and (problem := _confusion_problem(row["confusion"], row["labels"], row["n_classes"])):
        return problem
    for column in (TRAIN, TEST):
        if column in row and (why := condition_problem(row[column])) is not None:
            return column, why
    for column in (*SCORE_MAPS, "choice", *DETAILS):
        text = str(row.get(column, "") if row.get(column, "") == row.get(column, "") else "").strip()
        if not text:
            continue
        parsed, why = _json(text, dict, "a JSON object")
        if why:
            return column, why
        if column in SCORE_MAPS and not all(_finite(v) and low <= v <= 1.0 for v in parsed.values()):
            return column, f"holds a score that is not finite or not in [{low:g}, 1]"
        if column == "test_classes" and not _counts(parsed):
            return column, "is not {\"speaker\": {name: {class: count}}, \"gender\": {...}} of whole counts"
        if column == "correct_by_speaker" and not _counts({"speaker": parsed}):
            return column, "is not {speaker: {class: count}} of whole counts"
    return None


def _counts(parsed: dict) -> bool:
    """Whether a `test_classes` object holds, per group kind, {name: {class: a whole count >= 0}}."""
    return all(isinstance(groups, dict) and all(isinstance(c, dict) and all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in c.values()) for c in groups.values())
        for groups in parsed.values())


def check_rows(path, rows: pd.DataFrame, lines: list[int] | None = None) -> None:
    """Raise FeatbenchError naming the file, the line (`lines`: each row's, else the header is line 1 and a row a
    line) and the column of the first damaged row."""
    for number, (_, row) in zip(lines or range(2, len(rows) + 2), rows.iterrows()):
        if (problem := _row_problem(row)) is not None:
            column, why = problem
            raise FeatbenchError(f"{path}: line {number}: {column} {shown(why, 200)}")
