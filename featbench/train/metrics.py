"""Scores of one test fold: UA (balanced accuracy, the headline), WA (accuracy), macro-F1, confusion matrix.

>>> s = scores([0, 0, 1, 1], [0, 1, 1, 1], 2)
>>> s["ua"], s["wa"], s["confusion"]
(0.75, 0.75, [[1, 1], [0, 2]])
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
