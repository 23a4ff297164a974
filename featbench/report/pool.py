"""The training pool behind the budget 'all', from the rows' confusion matrices: every clip is tested in exactly one
fold (k-group-folds and leave-one-group-out both partition the speakers), so a class's clips in the corpus are its
test clips summed over the folds, and a fold's training part holds the rest. 'all' trains on every clip of that
part: its examples per class are a mean over classes, and where the classes are unbalanced a reader needs the
largest balanced budget beside it (the largest per-class count every fold's training part can serve, as
`featbench corpus` and train's budget check count it).

>>> import json, pandas as pd
>>> conf = lambda a, b: json.dumps([[a, 0], [0, b]])
>>> rows = pd.DataFrame({"fold": [0, 1, 2], "confusion": [conf(2, 8), conf(2, 8), conf(2, 8)], "design": "within",
...                      "metric": "UA (balanced accuracy)", "n_folds": 3})
>>> p = pool_of(rows)
>>> p.balanced, p.largest, p.mean, p.note()
(False, 4, 10.0, "'all' trains on every clip of a fold's training part: a mean of 10 per class over unbalanced classes (4 to 16 per class); the largest balanced budget every fold can serve is 4 per class")
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from featbench.results import CCC_METRIC, CROSS


@dataclass(frozen=True)
class Pool:
    """Per-class training clips of the folds' training parts: their `mean` over classes and folds, the `smallest`
    (= `largest` balanced budget) and the `biggest` class of any fold, and whether every fold's part is balanced."""

    mean: float
    largest: int
    biggest: int
    balanced: bool

    def note(self) -> str:
        """What 'all' is, where the classes are unbalanced ('' where they are balanced)."""
        if self.balanced:
            return ""
        return (f"'all' trains on every clip of a fold's training part: a mean of {self.mean:.0f} per class over "
                f"unbalanced classes ({self.largest} to {self.biggest} per class); the largest balanced budget every "
                f"fold can serve is {self.largest} per class")


def pool_of(rows: pd.DataFrame) -> Pool | None:
    """The Pool of the rows trained on this corpus's labels, from one confusion matrix per fold; None where the rows
    cannot say (a dimensional target, folds missing, no confusion matrices)."""
    if rows.empty or rows["metric"].iloc[0] == CCC_METRIC:
        return None
    own = rows[(rows["design"] != CROSS) & rows["confusion"].fillna("").astype(str).str.startswith("[")]
    first = own.drop_duplicates("fold")
    if first.empty or len(first) < int(first["n_folds"].iloc[0]):
        return None
    test = np.array([np.asarray(json.loads(c), float).sum(axis=1) for c in first["confusion"]])
    part = test.sum(axis=0)[None, :] - test  # (folds, classes): each fold's training part
    balanced = bool((part.max(axis=1) == part.min(axis=1)).all())
    return Pool(float(part.mean()), int(part.min()), int(part.max()), balanced)
