"""The fold scheme of training (it lives in `featbench.protocol.folds`, where extraction reads it too, for the
babble talkers of a test clip), and `check_folds`, which also reads a dimensional target's values.

>>> import pandas as pd
>>> t = pd.DataFrame({"label": list("aab") * 4, "group": list("xxxyyyzzzwww")})
>>> check_folds(t, make_folds(t, 2))
"""
from __future__ import annotations

import pandas as pd

from featbench.errors import FeatbenchError
from featbench.protocol.folds import (MAX_FOLDS, Fold, assign, default_n_folds, make_folds,  # noqa: F401 (re-exported)
                                      per_fold_test_clips)
from featbench.train.target import VALUE, check_variance

__all__ = ["MAX_FOLDS", "Fold", "assign", "check_folds", "default_n_folds", "make_folds", "per_fold_test_clips"]


def check_folds(table: pd.DataFrame, folds: list[Fold]) -> None:
    """Every class must appear in every fold's training and test part; a dimensional target must vary in each."""
    classes = sorted(table["label"].unique())
    if len(classes) < 2:
        raise FeatbenchError(f"need at least 2 classes to train, found {len(classes)} ({', '.join(classes)})")
    for fold in folds:
        mask = fold.test_mask(table)
        for part, name in ((table[mask], "test"), (table[~mask], "training")):
            missing = sorted(set(classes) - set(part["label"]))
            if missing:
                raise FeatbenchError(
                    f"class '{missing[0]}' is missing from the {name} part of fold {fold.index} "
                    f"(test groups {', '.join(fold.test_groups)}); choose fewer folds or other classes"
                )
    if VALUE in table.columns:  # a dimensional target
        check_variance(table, folds)
