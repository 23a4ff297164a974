"""Scores of one test fold: UA (balanced accuracy, the headline), WA (accuracy), macro-F1, confusion matrix;
for a dimensional target, CCC (Lin's concordance correlation coefficient, the headline of that field).

>>> s = scores([0, 0, 1, 1], [0, 1, 1, 1], 2)
>>> s["ua"], s["wa"], s["confusion"]
(0.75, 0.75, [[1, 1], [0, 2]])
>>> round(ccc([1, 2, 3], [2, 3, 4]), 4)  # 2 * 2/3 / (2/3 + 2/3 + 1^2) = 4/7: correlated, but shifted by 1
0.5714
"""
from __future__ import annotations

import numpy as np


def scores(y_true, y_pred, n_classes: int) -> dict:
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score

    labels = np.arange(n_classes)
    return {
        "ua": float(balanced_accuracy_score(y_true, y_pred)),
        "wa": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def ua_by(keys, y_true, y_pred) -> dict[str, float]:
    """UA within each group of clips sharing a key (a test speaker, a gender); empty keys are skipped.

    >>> ua_by(["a", "a", "b", "b"], [0, 1, 0, 1], [0, 1, 0, 0])
    {'a': 1.0, 'b': 0.5}
    """
    from sklearn.metrics import balanced_accuracy_score

    keys, y_true, y_pred = (np.asarray(v) for v in (keys, y_true, y_pred))
    return {str(k): float(balanced_accuracy_score(y_true[keys == k], y_pred[keys == k]))
            for k in sorted(set(keys.tolist())) if str(k) not in ("", "nan")}


def ccc(y_true, y_pred) -> float:
    """Concordance correlation coefficient: 2 cov / (var_true + var_pred + (mean_true - mean_pred)^2), population
    moments. 1 only for identical values; it punishes a shift or a scale that Pearson's r ignores. Undefined
    (NaN) when the true values do not vary: there is nothing to agree with (the formula is 0/0 for a perfect
    constant prediction, 0 for any other; neither says anything about the model).

    >>> ccc([1, 2, 3], [1, 2, 3]), ccc([1, 2, 3], [3, 2, 1]), ccc([1, 2, 3], [2, 2, 2]), ccc([2, 2], [2, 2])
    (1.0, -1.0, 0.0, nan)
    """
    t, p = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    if float(t.var()) == 0:
        return float("nan")
    if np.array_equal(t, p):
        return 1.0
    cov = float(np.mean((t - t.mean()) * (p - p.mean())))
    return 2 * cov / (float(t.var()) + float(p.var()) + float(t.mean() - p.mean()) ** 2)


def headline(y_true, y_pred, regression: bool = False) -> float:
    """The headline score: CCC for a dimensional target, else UA (what choices on validation speakers maximise).

    >>> headline([0, 1, 1], [0, 1, 0]), headline([0.0, 1.0, 1.0], [0.0, 1.0, 1.0], regression=True)
    (0.75, 1.0)
    """
    from sklearn.metrics import balanced_accuracy_score

    return ccc(y_true, y_pred) if regression else float(balanced_accuracy_score(y_true, y_pred))


def ccc_by(keys, y_true, y_pred) -> dict[str, float]:
    """CCC within each group of clips sharing a key; empty keys, and groups of fewer than 2 clips or of one true
    value (CCC undefined), are skipped.

    >>> ccc_by(["a", "a", "b", "b", "c"], [1, 2, 1, 2, 5], [1, 2, 2, 1, 5])
    {'a': 1.0, 'b': -1.0}
    """
    keys, y_true, y_pred = (np.asarray(v) for v in (keys, y_true, y_pred))
    return {str(k): ccc(y_true[keys == k], y_pred[keys == k])
            for k in sorted(set(keys.tolist())) if str(k) not in ("", "nan") and len(set(y_true[keys == k].tolist())) >= 2}


def class_counts(keys, labels) -> dict[str, dict[str, int]]:
    """Per key (a test speaker, a gender; empty keys skipped), its clips per class, for results.DETAIL_COLUMNS'
    `test_classes`.

    >>> class_counts(["a", "a", "b", ""], ["x", "y", "x", "y"])
    {'a': {'x': 1, 'y': 1}, 'b': {'x': 1}}
    """
    out: dict[str, dict[str, int]] = {}
    for key, label in zip(map(str, keys), map(str, labels)):
        if key not in ("", "nan"):
            out.setdefault(key, {}).setdefault(label, 0)
            out[key][label] += 1
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


def correct_counts(keys, labels, right) -> dict[str, dict[str, int]]:
    """Per key (a test speaker; empty keys skipped), its correct predictions per class it holds (zeros included), for
    results.COUNT_COLUMNS' `correct_by_speaker`; `right` says per clip whether its prediction was correct.

    >>> correct_counts(["a", "a", "b", ""], ["x", "y", "x", "y"], [True, False, True, True])
    {'a': {'x': 1, 'y': 0}, 'b': {'x': 1}}
    """
    held = class_counts(keys, labels)
    for key, label, ok in zip(map(str, keys), map(str, labels), right):
        if key in held:
            held[key][label] -= int(not ok)
    return held
