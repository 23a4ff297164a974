"""Paired efficiency ratios between two entries of the rows (report.efficiency), over the folds both hold: what the
Data efficiency, Transfer, Normalisation and Robustness sections compare, and `Pair`, one such ratio with its sentence.
Example: ``Pairing(rows, entries, scale, 2000, names)("whisper", "egemaps", -1)`` (see report.analysis)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError
from featbench.report.aggregate import unit_matrix
from featbench.report.efficiency import Curves, Efficiency, efficiency_ratio
from featbench.report.entries import Entry
from featbench.report.scale import Scale
from featbench.report.statistics.counts import DIMENSIONAL, curve_counts
from featbench.report.statistics.speakers import check_paired


@dataclass(frozen=True)
class Pair:
    """An entry's efficiency ratio against its `counterpart` (the baseline, or its own plain twin) and its sentence."""

    family: str
    counterpart: str
    eff: Efficiency
    sentence: str


class Pairing:
    """Paired efficiency ratios between entries of the rows, over the folds both have."""

    def __init__(self, rows: pd.DataFrame, entries: dict[str, Entry], scale: Scale, n_boot: int, names: dict[str, str]):
        self.rows, self.entries, self.scale, self.n_boot, self.names = rows, entries, scale, n_boot, names

    def sentence(self, eff: Efficiency, family: str, base: str) -> str:
        """The ratio of `family` against `base` in words, both named as the report names them."""
        return eff.sentence(self.scale, (self.names[family], self.names[base]))

    def __call__(self, family: str, base: str, reference: int) -> Efficiency | None:
        """The ratio of `family` against `base` at `base`'s budget index `reference` (None: no fold in common)."""
        x_a, units_a, keys_a = unit_matrix(self.rows, family, self.entries[family].classifier)
        x_b, units_b, keys_b = unit_matrix(self.rows, base, self.entries[base].classifier)
        common = [k for k in keys_a if k in set(keys_b)]
        if not common:
            return None
        ia, ib = [keys_a.index(k) for k in common], [keys_b.index(k) for k in common]
        counts, why = self.counts(family, base, common, (units_a[ia], units_b[ib]))
        return efficiency_ratio(x_a, units_a[ia], x_b, units_b[ib], self.entries[family].label,
                                self.entries[base].label, reference=reference, n_boot=self.n_boot, scale=self.scale,
                                counts=counts, why_folds=why)

    def counts(self, family: str, base: str, folds: list, units: tuple) -> tuple[Curves | None, str]:
        """(both entries' per-speaker counts on `folds`, '') where test speakers can be resampled within folds, else
        (None, why the ratio's bootstrap resamples folds instead); `units`: both entries' fold scores, which the
        counts must give."""
        if self.scale.dimensional:
            return None, DIMENSIONAL
        try:
            curves = tuple(curve_counts(self.rows, f, self.entries[f].classifier, folds) for f in (family, base))
            first = check_paired(list(curves))
        except FeatbenchError as err:  # the reason is said in the report: the ratio falls back to the fold bootstrap
            return None, str(err).removeprefix("speaker interval: ")
        if min(len(f.speakers) for f in first) < 2:
            return None, "each fold holds one test speaker: the folds are the speakers"
        if any(not np.allclose([[f.ua() for f in folds] for folds in curve], unit.T, atol=1e-6)
               for curve, unit in zip(curves, units)):
            return None, "the rows' correct_by_speaker counts do not give their UA"
        return (curves[0], curves[1]), ""
