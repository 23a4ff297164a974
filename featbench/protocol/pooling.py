"""Pooling, a protocol kind that acts: how a frame-level view's frames become one row per utterance before an
utterance-level classifier sees them (`train --pooling`), read once at the edge (`Pooling.parse`), named (`text`,
`label`) and applied (`apply`, to the rows `featbench.pooling.pool` makes and pooled stores keep: every frame
column's mean, then every frame column's std). The kinds (POOLINGS): the mean and the standard deviation over the
utterance's frames (MEAN_STD, the default, and what every row written before the choice existed used), the mean
alone (MEAN: half the columns; across corpora the std columns also carry each recording's channel and loudness), or
an attention-weighted mean and std (ATTENTIVE: the attention is learned per fold, budget and seed on the training
rows, `train.attentive`, so it pools frames, never rows already pooled: `apply` refuses it).

>>> p = Pooling.parse("mean")
>>> p.text, p.label, p.is_default
('mean', 'mean pooling', False)
>>> p.apply(np.array([[1.0, 2.0, 0.5, 0.1]]), frame_dim=2).tolist()
[[1.0, 2.0]]
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featbench.errors import FeatbenchError

MEAN_STD, MEAN, ATTENTIVE = "mean+std", "mean", "attentive"
POOLINGS = (MEAN_STD, MEAN, ATTENTIVE)


@dataclass(frozen=True)
class Pooling:
    """A `--pooling` value, read once at the edge (`parse`).

    >>> Pooling.parse("mean+std") == Pooling(), Pooling().label
    (True, 'mean+std pooling')
    >>> Pooling.parse("max")
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: --pooling max: choose mean+std (the default), mean or attentive
    >>> Pooling.parse("attentive").learned
    True
    """

    kind: str = MEAN_STD

    @classmethod
    def parse(cls, value: str | Pooling | None) -> Pooling:
        """A Pooling of its text ('mean+std', 'mean', 'attentive'; None or '': the default, as rows written before the choice
        existed read), or a one-line error."""
        if isinstance(value, Pooling):
            return value
        text = MEAN_STD if value is None or str(value) in ("", "nan") else str(value)
        if text not in POOLINGS:
            raise FeatbenchError(f"--pooling {value}: choose {MEAN_STD} (the default), {' or '.join(POOLINGS[1:])}")
        return cls(text)

    @property
    def is_default(self) -> bool:
        """Mean and std: what every row written before `--pooling` existed holds."""
        return self.kind == MEAN_STD

    @property
    def learned(self) -> bool:
        """Attentive: pooled by attention learned on each task's training rows (`train.attentive`), not by `apply`."""
        return self.kind == ATTENTIVE

    @property
    def text(self) -> str:
        """As `--pooling` takes it and the rows' `pooling` column holds it."""
        return self.kind

    @property
    def label(self) -> str:
        """As a display name says it ('mean pooling')."""
        return f"{self.kind} pooling"

    def apply(self, pooled: np.ndarray, frame_dim: int) -> np.ndarray:
        """The columns of `pooled` (rows of `frame_dim` frame columns' means, then their stds) this kind keeps: all
        of them, or the means (a view, not a copy). Attentive pooling reads frames, not pooled rows: a ValueError."""
        if self.learned:
            raise ValueError("attentive pooling weights frames with attention learned per task (train.attentive); "
                             "it cannot be applied to rows already pooled")
        if pooled.shape[-1] != 2 * frame_dim:
            raise ValueError(f"pooled rows of {frame_dim} frame columns hold {2 * frame_dim} columns, not {pooled.shape[-1]}")
        return pooled if self.kind == MEAN_STD else pooled[..., :frame_dim]
