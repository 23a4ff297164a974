"""How far each speaker's clips are from the corpus's class balance: when per-speaker normalisation destroys the signal.

Per-speaker normalisation (`train --normalise per-speaker`) standardises each speaker on the mean and std of
their own clips. Where a speaker's clips are mostly of one class, that mean is mostly the class's: subtracting
it removes the emotion with the voice (a corpus whose speakers each hold one emotion falls to chance). Two
figures say how far a corpus is from that:

- a speaker is *dominated* by a class when the class's share of their clips is more than halfway from its share
  of the corpus to 100% (`DOMINATED`): (speaker share - corpus share) / (1 - corpus share) > 0.5. A speaker
  with the corpus's balance scores 0, one who holds a single class 1, whatever the number of classes; a class
  that is large in the whole corpus dominates nobody by being large (every speaker's mean then moves alike);
- the speaker-label mutual information as a share of the label entropy (sklearn's `mutual_info_score` over
  the entropy): 0% when every speaker has the corpus's balance, 100% when the speaker names the label.

Per-speaker normalisation is refused (`confounded`) when more than half of the speakers are dominated
(`REFUSE`): then the statistics of most speakers are taken mostly from one class. Balanced corpora score 0
(RAVDESS: every actor has every emotion in the corpus's proportions); a corpus where 26 of 29 speakers hold one
emotion scores 90%. The measure is a property of the clips the statistics are drawn from: `train` takes every
usable clip of each speaker in the store (every label, train's --merge applied), also for `per-speaker:K`,
whose K clips are drawn label-blind from them (the same class mix in expectation; how a few clips' mix varies
by chance is what that study measures, not a confound of the corpus: measured on 3 clips drawn from balanced
four-class speakers, about half of the speakers would count as dominated).

>>> b = speaker_balance(["a"] * 4 + ["b"] * 4, ["x", "y", "x", "y"] * 2)
>>> b.dominated, b.information, b.confounded
((), 0.0, False)
>>> c = speaker_balance(list("aabbccdd"), list("xxyyxxyy"))
>>> len(c.dominated), round(c.information, 6), c.confounded
(4, 1.0, True)
>>> c.line()
'4 of 4 speakers (100%) dominated by one class (e.g. a: 100% x, against 50% of the corpus), speaker-label mutual information 100.0% of the label entropy'
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterable

import numpy as np
import pandas as pd

DOMINATED = 0.5
"""A speaker is dominated by a class when its share of their clips is more than this fraction of the way from
its share of the corpus to 100%."""

REFUSE = 0.5
"""Per-speaker normalisation is refused when more than this share of the speakers is dominated."""

FLAG = "--confounded-ok"
"""The option that runs per-speaker normalisation anyway (rows tagged 'speakers confounded')."""


@dataclass(frozen=True)
class Dominated:
    """One dominated speaker: their largest class beyond the corpus balance, its share of their clips and of
    the corpus."""

    speaker: str
    label: str
    share: float
    corpus_share: float
    degree: float  # (share - corpus_share) / (1 - corpus_share): 0 as in the corpus, 1 this class only


@dataclass(frozen=True)
class SpeakerBalance:
    """The speakers, clips, dominated speakers and speaker-label information of one set of clips."""

    speakers: int
    clips: int
    dominated: tuple[Dominated, ...]
    information: float  # mutual information of speaker and label over the label entropy, 0..1

    @property
    def share(self) -> float:
        """The share of the speakers that are dominated by one class."""
        return len(self.dominated) / self.speakers if self.speakers else 0.0

    @property
    def confounded(self) -> bool:
        """Whether per-speaker statistics would be taken mostly from one class for most speakers."""
        return self.share > REFUSE

    def example(self) -> str:
        d = min(self.dominated, key=lambda d: (-d.degree, d.speaker)) if self.dominated else None
        return f" (e.g. {d.speaker}: {d.share:.0%} {d.label}, against {d.corpus_share:.0%} of the corpus)" if d else ""

    def line(self) -> str:
        """The measure in one clause."""
        return (f"{len(self.dominated)} of {self.speakers} speakers ({self.share:.0%}) dominated by one class"
                f"{self.example()}, speaker-label mutual information {self.information:.1%} of the label entropy")

    def lines(self, what: str) -> list[str]:
        """The preview of `featbench corpus`: the measure, what it means, and whether `train` refuses it."""
        verdict = (f"train --normalise per-speaker refuses it: more than {REFUSE:.0%} of the speakers are dominated, so "
                   "their statistics would be taken mostly from one class and standardising would remove the emotion "
                   f"with the voice ({FLAG} runs it anyway, every row tagged 'speakers confounded')"
                   if self.confounded else
                   f"train --normalise per-speaker takes it (refused above {REFUSE:.0%} of the speakers dominated)")
        return [f"per-speaker normalisation (each speaker standardised on all their clips), measured on {what}:",
                f"  speakers dominated by one class: {len(self.dominated)} of {self.speakers} ({self.share:.0%})"
                f"{self.example()}; dominated: a class's share of the speaker's clips is more than halfway from its "
                "share of the corpus to 100%",
                f"  speaker-label mutual information: {self.information:.1%} of the label entropy (0%: every speaker "
                "has the corpus's class balance; 100%: the speaker names the label)",
                f"  {verdict}"]


def speaker_balance(speakers: Iterable, labels: Iterable) -> SpeakerBalance:
    """The balance of clips given as parallel sequences of speakers and labels (see the module's doc)."""
    from scipy.stats import entropy
    from sklearn.metrics import mutual_info_score

    speakers, labels = np.asarray(list(speakers), dtype=str), np.asarray(list(labels), dtype=str)
    if not len(speakers):
        return SpeakerBalance(0, 0, (), 0.0)
    counts = pd.crosstab(speakers, labels)
    corpus = counts.sum(axis=0) / len(speakers)
    own = counts.div(counts.sum(axis=1), axis=0)
    spread = corpus[corpus < 1].index  # a single class dominates nobody: there is no balance to be far from
    beyond = (own[spread] - corpus[spread]) / (1 - corpus[spread])
    dominated = []
    for speaker, degrees in beyond.iterrows():
        label = degrees.idxmax() if len(spread) else None
        if label is not None and degrees[label] > DOMINATED:
            dominated.append(Dominated(str(speaker), str(label), float(own.loc[speaker, label]), float(corpus[label]),
                                       float(degrees[label])))
    label_entropy = entropy(counts.sum(axis=0).to_numpy())
    information = float(mutual_info_score(speakers, labels) / label_entropy) if label_entropy > 0 else 0.0
    return SpeakerBalance(len(counts), len(speakers), tuple(dominated), max(0.0, information))
