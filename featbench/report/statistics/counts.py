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


def _json(value, what: str, row) -> dict:
    text = str(value) if value is not None else ""
    if not text.startswith("{"):
        raise FeatbenchError(f"speaker interval: fold {row.fold} seed {row.seed} has no {what} (rows written before "
                             f"featbench recorded it)")
    return json.loads(text)


def _row_counts(row, classes: list[str]) -> tuple[list[str], np.ndarray, np.ndarray, bool]:
    """(speakers, correct, total, approximate) of one results row."""
    tc = _json(row.test_classes, "test_classes", row).get("speaker", {})
    speakers = sorted(tc)
    total = np.array([[float(tc[s].get(c, 0)) for c in classes] for s in speakers])
    exact = getattr(row, "correct_by_speaker", None)
    if isinstance(exact, str) and exact.startswith("{"):
        known = json.loads(exact)
        return speakers, np.array([[float(known.get(s, {}).get(c, 0)) for c in classes] for s in speakers]), total, False
    by_speaker = _json(row.ua_by_speaker, "ua_by_speaker", row)
    labels, confusion = json.loads(row.labels), np.array(json.loads(row.confusion), dtype=float)
    recall = dict(zip(labels, np.diag(confusion) / np.maximum(confusion.sum(1), 1)))
    p = fit_margins(total, np.array([recall.get(c, 0.0) for c in classes]),
                    np.array([float(by_speaker.get(s, 0.0)) for s in speakers]))
    return speakers, p * total, total, True


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
    out = []
    for fold, seeds in part.groupby("fold", sort=True):
        classes = json.loads(seeds["labels"].iloc[0])
        counted = [_row_counts(r, classes) for r in seeds.itertuples()]
        speakers, total = counted[0][0], counted[0][2]
        if any(c[0] != speakers or not np.array_equal(c[2], total) for c in counted):
            raise FeatbenchError(f"speaker interval: the seeds of fold {fold} did not test the same clips")
        correct = np.mean([c[1] for c in counted], axis=0)
        out.append(FoldCounts(int(fold), tuple(speakers), tuple(classes), correct, total, any(c[3] for c in counted)))
    return out
