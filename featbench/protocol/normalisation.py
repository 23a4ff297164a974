"""Normalisation, a protocol kind that acts: how features are standardised before a classifier sees them
(`--normalise`), read once at the edge (`Normalisation.parse`), asked what it is (`per_speaker`, `per_corpus`,
`on_training_rows`), named (`text`, `label`) and applied (`apply`, on `standardise_within`) in training and in
`predict` alike. The kinds (NORMALISATIONS): on the training rows (by each classifier's scaler; the default),
each corpus on its own statistics, or each speaker on the statistics of that speaker's clips (their labels unread);
`per-speaker:K` uses K of each speaker's clips, drawn at random.

>>> n = Normalisation.parse("per-speaker:8")
>>> n.per_speaker, n.per_corpus, n.on_training_rows, n.text, n.label
(True, False, False, 'per-speaker:8', 'per-speaker normalisation on 8 clips')
>>> n.apply(np.array([[1.0], [3.0], [10.0], [30.0]]), np.array(["a", "a", "b", "b"])).ravel().tolist()
[-1.0, 1.0, -1.0, 1.0]
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featbench.errors import FeatbenchError
from featbench.options import is_whole

TRAINING, PER_CORPUS, PER_SPEAKER = "training", "per-corpus", "per-speaker"
NORMALISATIONS = (TRAINING, PER_CORPUS, PER_SPEAKER)


@dataclass(frozen=True)
class Normalisation:
    """A `--normalise` value, read once at the edge (`parse`): the kind, and for per-speaker statistics the clips per
    speaker they use (None: all).

    >>> Normalisation.parse("per-speaker:16"), Normalisation.parse("training").text
    (Normalisation(kind='per-speaker', clips=16), 'training')
    >>> Normalisation.parse("per-speaker:8").label
    'per-speaker normalisation on 8 clips'
    >>> Normalisation.parse("per-corpus:8")
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: --normalise per-corpus:8: choose training, per-corpus, per-speaker or per-speaker:K (the statistics of K >= 2 clips per speaker)
    """

    kind: str = TRAINING
    clips: int | None = None

    @classmethod
    def parse(cls, value: str | Normalisation) -> Normalisation:
        """A Normalisation of its text ('training', 'per-corpus', 'per-speaker', 'per-speaker:K'), or a one-line error."""
        if isinstance(value, Normalisation):
            return value
        kind, colon, clips = str(value).partition(":")
        if kind not in NORMALISATIONS or (colon and (kind != PER_SPEAKER or not is_whole(clips) or int(clips) < 2)):
            raise FeatbenchError(f"--normalise {value}: choose {', '.join(NORMALISATIONS)} or {PER_SPEAKER}:K (the "
                                 "statistics of K >= 2 clips per speaker)")
        return cls(kind, int(clips) if colon else None)

    @property
    def on_training_rows(self) -> bool:
        """Left to each classifier's scaler, fitted on its training rows (the default; no protocol of its own)."""
        return self.kind == TRAINING

    @property
    def per_corpus(self) -> bool:
        """Each corpus (or recording condition) standardised on its own statistics."""
        return self.kind == PER_CORPUS

    @property
    def per_speaker(self) -> bool:
        """Each speaker standardised on the statistics of their own clips (a protocol of its own)."""
        return self.kind == PER_SPEAKER

    @property
    def text(self) -> str:
        """As `--normalise` takes it."""
        return self.kind + (f":{self.clips}" if self.clips is not None else "")

    @property
    def label(self) -> str:
        """As a display name says it ('per-corpus normalisation', 'per-speaker normalisation on 8 clips')."""
        return f"{self.kind} normalisation" + (f" on {self.clips} clips" if self.clips is not None else "")

    def apply(self, X: np.ndarray, keys: np.ndarray, reference: np.ndarray | None = None,
              reference_keys: np.ndarray | None = None) -> np.ndarray:
        """`X` as this kind hands it to a classifier: as it is on the training rows (each classifier standardises
        it), else each row standardised on the statistics of the `reference` rows (default: X) of its key (its
        corpus, or its speaker: `keys` and `reference_keys` say whose each row is)."""
        if self.on_training_rows:
            return X
        return standardise_within(X, keys, reference, reference_keys)


def standardise_within(X: np.ndarray, keys: np.ndarray, reference: np.ndarray | None = None,
                       reference_keys: np.ndarray | None = None) -> np.ndarray:
    """Each row of X standardised with the mean and std of the `reference` rows that share its key (a corpus, a
    speaker); the reference is X itself by default. Constant columns are only centred.

    >>> standardise_within(np.array([[1.0], [3.0], [10.0], [30.0]]), np.array(["a", "a", "b", "b"])).ravel().tolist()
    [-1.0, 1.0, -1.0, 1.0]
    >>> standardise_within(np.array([[4.0]]), np.array(["a"]), np.array([[1.0], [3.0]]), np.array(["a", "a"])).ravel().tolist()
    [2.0]
    """
    if reference is None:
        reference, reference_keys = X, keys
    out = np.empty_like(X, dtype=np.float32)
    for key in np.unique(keys):
        rows, ref = keys == key, reference[reference_keys == key]
        mean, std = ref.mean(0), ref.std(0)
        out[rows] = (X[rows] - mean) / np.where(std > 0, std, 1.0)
    return out
