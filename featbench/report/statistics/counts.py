"""Each test speaker's correct predictions per class, from results rows (see report.statistics.speakers).

Exact from a `correct_by_speaker` column where rows have it (JSON: per test speaker and class the correct
predictions). Rows written today do not: the counts are then fitted to what the row stores, each speaker's clips per
class (`test_classes`), each speaker's UA (`ua_by_speaker`) and each class's recall over the fold (`confusion`), by a
logit-additive model p[s, c] = expit(a[c] + b[s]) fitted to both margins (`fit_margins`): the fold's UA is then the
row's exactly, and each speaker's UA its own where the speakers hold every class in equal numbers (otherwise as near
as the model allows: S + C margins, S + C - 1 free values); what is lost is how a speaker's recall differs between
classes beyond that.

>>> n = np.array([[4, 4], [4, 4]])
>>> p = fit_margins(n, class_recall=np.array([0.75, 0.5]), speaker_ua=np.array([0.75, 0.5]))
>>> [round(float(v), 3) for v in (n * p).sum(0) / n.sum(0)], [round(float(v), 3) for v in p.mean(1)]
([0.75, 0.5], [0.75, 0.5])
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError
from featbench.report.statistics.speakers import FoldCounts
from featbench.results import CCC_METRIC, budget_order

EDGE = 1e-6  # recalls of exactly 0 or 1 are fitted as this far inside (their logit is infinite)


def fit_margins(n: np.ndarray, class_recall: np.ndarray, speaker_ua: np.ndarray, iterations: int = 200) -> np.ndarray:
    """p (speakers x classes) = expit(a[c] + b[s]) with sum_s n p / sum_s n = class_recall and the mean of p over each
    speaker's classes (n > 0) = speaker_ua, by alternating Newton steps (the class margins exact, the speakers' as near
    as the model allows)."""
    from scipy.special import expit, logit

    held = n > 0
    r, u = (np.clip(np.asarray(v, dtype=float), EDGE, 1 - EDGE) for v in (class_recall, speaker_ua))
    a, b = logit(r), np.zeros(n.shape[0])
    for _ in range(iterations):  # the class step last: the class recalls (the fold's UA) are matched exactly
        p = expit(a[None] + b[:, None])
        b = b + (u * held.sum(1) - (held * p).sum(1)) / np.maximum((held * p * (1 - p)).sum(1), 1e-12)
        for _ in range(3):
            p = expit(a[None] + b[:, None])
            a = a + (r * n.sum(0) - (n * p).sum(0)) / np.maximum((n * p * (1 - p)).sum(0), 1e-12)
    return expit(a[None] + b[:, None]) * held


def _json(value, what: str):
    text = str(value) if value is not None else ""
    if not text.startswith(("{", "[")):
        raise ValueError(f"no {what} (rows written before featbench recorded it)")
    return json.loads(text)


def _table(parsed, speakers: list[str], classes: list[str], what: str) -> np.ndarray:
    """speakers x classes numbers of `parsed` ({speaker: {class: number}}), each finite and at least 0."""
    if not isinstance(parsed, dict) or not all(isinstance(parsed.get(s), dict) for s in speakers):
        raise ValueError(f"{what} is not a count per class of every test speaker")
    table = np.array([[float(parsed[s].get(c, 0)) for c in classes] for s in speakers]).reshape(len(speakers), len(classes))
    if not (np.isfinite(table).all() and (table >= 0).all()):
        raise ValueError(f"{what} holds a count below 0 or not finite")
    return table


def _row_counts(row, classes: list[str]) -> tuple[list[str], np.ndarray, np.ndarray, bool]:
    """(speakers, correct, total, approximate) of one results row; ValueError (or TypeError) where it cannot say."""
    tc = _json(row.test_classes, "test_classes")
    speakers = sorted(tc.get("speaker", {})) if isinstance(tc, dict) else []
    total = _table(tc.get("speaker") if speakers else None, speakers, classes, "test_classes")
    exact = getattr(row, "correct_by_speaker", None)
    if isinstance(exact, str) and exact.startswith("{"):
        correct = _table(json.loads(exact), speakers, classes, "correct_by_speaker")
        if (correct > total).any():
            raise ValueError("correct_by_speaker counts more correct clips than test_classes holds")
        return speakers, correct, total, False
    by_speaker, labels = _json(row.ua_by_speaker, "ua_by_speaker"), _json(row.labels, "labels")
    confusion = np.array(_json(row.confusion, "confusion"), dtype=float)
    if not isinstance(by_speaker, dict) or set(by_speaker) != set(speakers):
        raise ValueError("ua_by_speaker does not name the same test speakers as test_classes")
    if confusion.shape != (len(labels), len(labels)) or not (np.isfinite(confusion).all() and (confusion >= 0).all()):
        raise ValueError("confusion is not a square table of counts, one row per label")
    ua = np.array([float(by_speaker[s]) for s in speakers])
    if not ((ua >= 0) & (ua <= 1)).all():
        raise ValueError("ua_by_speaker holds a UA outside 0 to 1")
    recall = dict(zip(map(str, labels), np.diag(confusion) / np.maximum(confusion.sum(1), 1)))
    p = fit_margins(total, np.array([recall.get(c, 0.0) for c in classes]), ua)
    return speakers, p * total, total, True


def _fold_counts(fold, seeds: pd.DataFrame) -> FoldCounts:
    """One fold's FoldCounts, correct predictions averaged over its seeds' rows."""
    counted = []
    for r in seeds.itertuples():
        try:
            classes = [str(c) for c in _json(r.labels, "labels")]
            counted.append(_row_counts(r, classes))
        except (ValueError, TypeError, AttributeError) as err:  # json.JSONDecodeError is a ValueError
            raise FeatbenchError(f"speaker interval: fold {fold} seed {r.seed}: {err}") from None
    speakers, total = counted[0][0], counted[0][2]
    if any(c[0] != speakers or not np.array_equal(c[2], total) for c in counted):
        raise FeatbenchError(f"speaker interval: the seeds of fold {fold} did not test the same clips")
    return FoldCounts(int(fold), tuple(speakers), tuple(classes), np.mean([c[1] for c in counted], axis=0), total,
                      any(c[3] for c in counted))


def counts_of(rows: pd.DataFrame, family: str, classifier: str, budget: str | None = None) -> list[FoldCounts]:
    """Per fold, the entry's FoldCounts at `budget` (default its largest), correct predictions averaged over seeds.

    >>> import json
    >>> tc = json.dumps({"speaker": {"s1": {"a": 2, "b": 2}, "s2": {"a": 2, "b": 2}}})
    >>> row = {"family": "f", "classifier": "lr", "budget": "all", "examples_per_class": 5.0, "fold": 0, "seed": 0,
    ...        "metric": "UA (balanced accuracy)", "test_classes": tc, "labels": '["a", "b"]',
    ...        "confusion": "[[3, 1], [1, 3]]", "ua_by_speaker": json.dumps({"s1": 1.0, "s2": 0.5})}
    >>> f = counts_of(pd.DataFrame([row]), "f", "lr")[0]
    >>> round(f.ua(), 3), f.approximate
    (0.75, True)
    """
    part = rows[(rows["family"] == family) & (rows["classifier"] == classifier)]
    if part.empty:
        raise FeatbenchError(f"speaker interval: no rows of entry {family} ({classifier})")
    if (part.get("metric", pd.Series(dtype=str)) == CCC_METRIC).any():
        raise FeatbenchError("speaker interval: rows of a dimensional target (CCC) hold no per-class counts")
    part = part[part["budget"].astype(str) == (str(budget) if budget is not None else budget_order(part)[-1])]
    return [_fold_counts(fold, seeds) for fold, seeds in part.groupby("fold", sort=True)]


NO_COUNTS = "these rows hold no per-speaker correct counts (correct_by_speaker, recorded from results schema 5 on)"
DIMENSIONAL = "a dimensional target (CCC) has no per-class counts"


def curve_counts(rows: pd.DataFrame, family: str, classifier: str, folds: list) -> list[list[FoldCounts]]:
    """Per budget (in budget order), the entry's exact FoldCounts of `folds` (in that order), correct predictions
    averaged over seeds; FeatbenchError (NO_COUNTS, DIMENSIONAL) where a row lacks the recorded counts, never fitted
    ones (what report.efficiency resamples test speakers with).

    >>> import json
    >>> tc = json.dumps({"speaker": {"s1": {"a": 2}, "s2": {"a": 2}}})
    >>> row = {"family": "f", "classifier": "lr", "budget": "all", "examples_per_class": 4.0, "fold": 0, "seed": 0,
    ...        "metric": "UA (balanced accuracy)", "test_classes": tc, "labels": '["a"]', "confusion": "[[3]]",
    ...        "correct_by_speaker": json.dumps({"s1": {"a": 2}, "s2": {"a": 1}})}
    >>> [[f.ua() for f in budget] for budget in curve_counts(pd.DataFrame([row]), "f", "lr", [0])]
    [[0.75]]
    """
    part = rows[(rows["family"] == family) & (rows["classifier"] == classifier)]
    if (part.get("metric", pd.Series(dtype=str)) == CCC_METRIC).any():
        raise FeatbenchError(DIMENSIONAL)
    recorded = part.get("correct_by_speaker", pd.Series("", index=part.index)).fillna("").astype(str)
    if part.empty or not recorded.str.startswith("{").all():
        raise FeatbenchError(NO_COUNTS)
    out = []
    for budget in budget_order(part):
        by_fold = {f.fold: f for f in counts_of(part, family, classifier, budget)}
        out.append([by_fold[int(k)] for k in folds])
    return out
