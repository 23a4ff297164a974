"""Scores from results rows, and the test for two entries within ONE corpus.

Folds of one corpus share training speakers: their scores are not independent, and a paired t-test over them is too
liberal. The corrected resampled t-test of Nadeau and Bengio (2003) widens the variance of the mean difference from
s^2 / k to (1 / k + n_test / n_train) s^2 (k folds, s^2 the sample variance of the per-fold differences, t with k - 1
df); n_test / n_train is each fold's test rows over its training rows, from the results rows, averaged over folds.
Seeds are averaged within a fold first (a seed redraws the training subset, not the test speakers).

>>> import numpy as np
>>> t = corrected_t([.70, .72, .68, .75, .71, .69], [.66, .70, .67, .70, .69, .66], test_fraction=0.2)
>>> round(t.mean_difference, 4), round(t.t, 3), round(t.p_value, 4), [round(v, 4) for v in (t.low, t.high)]
(0.0283, 3.179, 0.0246, [0.0054, 0.0512])
>>> corrected_t([.7] * 4, [.6] * 4, 0.2).line()
'corrected resampled t-test over 4 folds: too few blocks (4) for a test to mean anything'
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError
from featbench.report.statistics.ranks import MIN_BLOCKS, too_few
from featbench.results import budget_order

LEVEL = 0.95


@dataclass(frozen=True)
class CorrectedT:
    """Nadeau and Bengio's corrected resampled t-test of the per-fold differences a - b: the mean difference, t (k - 1
    df), its two-sided p-value and the `level` interval of the mean difference (None with a `reason`)."""

    k: int
    test_fraction: float
    mean_difference: float
    t: float | None
    p_value: float | None
    low: float | None
    high: float | None
    level: float = LEVEL
    reason: str = ""
    unit: str = "folds of one corpus (sharing training speakers)"

    def line(self) -> str:
        """One sentence: the test's outcome or why there is none."""
        head = f"corrected resampled t-test over {self.k} folds"
        if self.p_value is None:
            return f"{head}: {self.reason}"
        return (f"{head}: mean difference {self.mean_difference:+.4f} ({self.level:.0%} CI {self.low:+.4f} to "
                f"{self.high:+.4f}), t = {self.t:.2f} on {self.k - 1} df, p = {self.p_value:.3g}")


def corrected_t(a, b, test_fraction, level: float = LEVEL) -> CorrectedT:
    """The corrected resampled t-test of per-fold scores `a` against `b` (same folds, same order); `test_fraction`:
    n_test / n_train, one number or one per fold (averaged). Folds with a NaN score are refused, not dropped."""
    from scipy.stats import t as student

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise FeatbenchError(f"corrected t-test: the two entries' fold scores differ in shape ({a.shape} and {b.shape})")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise FeatbenchError("corrected t-test: a fold score is missing or not finite; compare the same complete folds")
    fraction = float(np.mean(test_fraction))
    if not math.isfinite(fraction) or fraction <= 0:
        raise FeatbenchError(f"corrected t-test: the test fraction n_test / n_train must be positive, not {fraction}")
    d, k = a - b, a.size
    mean = float(d.mean()) if k else float("nan")
    if k < MIN_BLOCKS:
        return CorrectedT(k, fraction, mean, None, None, None, None, level, too_few(k))
    se = math.sqrt((1.0 / k + fraction) * float(d.var(ddof=1)))
    if se == 0:
        return CorrectedT(k, fraction, mean, None, None, None, None, level,
                          "the difference is the same in every fold: no spread to test it against")
    t = mean / se
    half = float(student.ppf(0.5 + level / 2, k - 1)) * se
    return CorrectedT(k, fraction, mean, t, float(2 * student.sf(abs(t), k - 1)), mean - half, mean + half, level)


def fold_scores(rows: pd.DataFrame, family: str, classifier: str, budget: str | None = None) -> pd.DataFrame:
    """One row per fold of the entry at `budget` (default its largest): ua, n_train and n_test, each the mean over
    seeds (columns of results rows).

    >>> rows = pd.DataFrame({"family": "a", "classifier": "lr", "budget": "all", "examples_per_class": 9.0,
    ...                      "fold": [0, 0, 1], "seed": [0, 1, 0], "ua": [0.5, 0.7, 0.8], "n_train": 90, "n_test": 18})
    >>> fold_scores(rows, "a", "lr").to_dict("list")
    {'ua': [0.6, 0.8], 'n_train': [90.0, 90.0], 'n_test': [18.0, 18.0]}
    """
    part = rows[(rows["family"] == family) & (rows["classifier"] == classifier)]
    if part.empty:
        raise FeatbenchError(f"statistics: no rows of entry {family} ({classifier})")
    budget = str(budget) if budget is not None else budget_order(part)[-1]
    part = part[part["budget"].astype(str) == budget]
    if part.empty:
        raise FeatbenchError(f"statistics: entry {family} ({classifier}) has no rows at budget {budget}")
    return part.groupby("fold")[["ua", "n_train", "n_test"]].mean().astype(float)


def corrected_pair(rows: pd.DataFrame, a: tuple[str, str], b: tuple[str, str], budget: str | None = None,
                   level: float = LEVEL) -> CorrectedT:
    """The corrected resampled t-test of entry `a` (family, classifier) against `b` on the folds both have at `budget`
    (default each one's largest), the test fraction from their rows.

    >>> rows = pd.DataFrame([{"family": f, "classifier": "lr", "budget": "all", "examples_per_class": 9.0, "fold": k,
    ...                       "seed": 0, "ua": 0.6 + 0.01 * k + (0.02 + 0.01 * (k % 2) if f == "a" else 0),
    ...                       "n_train": 400, "n_test": 80} for f in "ab" for k in range(6)])
    >>> t = corrected_pair(rows, ("a", "lr"), ("b", "lr"))
    >>> round(t.test_fraction, 6), round(t.mean_difference, 3), round(t.p_value, 4)
    (0.2, 0.025, 0.0007)
    """
    return corrected_t(*paired_folds(rows, a, b, budget), level)


def paired_folds(rows: pd.DataFrame, a: tuple[str, str], b: tuple[str, str],
                 budget: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a's fold scores, b's, n_test / n_train of each fold) over the folds both entries (family, classifier) hold at
    `budget` (default each one's largest), seeds averaged within a fold."""
    fa, fb = fold_scores(rows, *a, budget), fold_scores(rows, *b, budget)
    both = fa.add_suffix("_a").join(fb.add_suffix("_b"), how="inner")
    fraction = ((both["n_test_a"] + both["n_test_b"]) / (both["n_train_a"] + both["n_train_b"])).to_numpy()
    return both["ua_a"].to_numpy(), both["ua_b"].to_numpy(), fraction


def score_matrix(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Blocks x entries: one row per value of the `by` columns (what a block is: ['corpus'], ['corpus',
    'test_condition'], ...), one column per entry ('family (classifier)'), each cell the mean over folds of the
    seed-averaged UA. Filter the rows to one budget first; a missing cell is NaN (the tests then drop its block).

    >>> rows = pd.DataFrame({"corpus": ["x", "x", "y"], "family": "a", "classifier": ["lr", "svm", "lr"],
    ...                      "fold": 0, "seed": 0, "ua": [0.5, 0.6, 0.7]})
    >>> score_matrix(rows, ["corpus"]).to_dict("index")
    {'x': {'a (lr)': 0.5, 'a (svm)': 0.6}, 'y': {'a (lr)': 0.7, 'a (svm)': nan}}
    """
    missing = [c for c in [*by, "family", "classifier", "fold", "ua"] if c not in rows]
    if missing:
        raise FeatbenchError(f"statistics: the rows lack column(s) {', '.join(missing)}")
    frame = rows.assign(entry=rows["family"].astype(str) + " (" + rows["classifier"].astype(str) + ")")
    folds = frame.groupby([*by, "entry", "fold"], sort=False)["ua"].mean().reset_index()
    matrix = folds.groupby([*by, "entry"], sort=False)["ua"].mean().unstack("entry")
    if len(by) > 1:
        matrix.index = [" x ".join(map(str, i)) for i in matrix.index]
    matrix.columns.name = None
    return matrix[list(dict.fromkeys(frame["entry"]))]
