"""Two corpora in one grid: train on one corpus and test on another (cross-corpus), or add every utterance of
one corpus to the training budgets of another (transfer curves).

The *target* corpus gives the folds, and its test speakers are used for the test only. The *other*
corpus is the training corpus of a cross-corpus run (its per-class budgets, drawn from all its
speakers), or is added whole to each of the target's budgets in a transfer run. Both stores must hold
the same feature configurations (config hashes), and after ``--classes``/``--merge`` the two label sets
must be the same: a label without a counterpart is an error, never a silent drop.

Rows say their training data in columns (results.Setup: `design` cross or transfer, `other_corpus`), and reports
name them ``egemaps-func [from demo]`` (trained on demo, tested on the target's folds) and ``egemaps-func [+demo]``
(the target's budget plus all of demo); `examples_per_class`
counts the budgeted corpus only (the other corpus in a cross-corpus run, the target in a transfer run).
The two corpora must not share a clip (train.shared_clips: the same file bytes, feature rows or decoded signal):
a copy of the target would put its test speakers' clips into training.

Choices (layer, classifier, hyper-parameters; see train.selection) are validated on SOURCE, by default:
held-out speakers of the training subset, as within one corpus (in a cross-corpus run the other corpus's
speakers, in a transfer run speakers of either corpus); or on TARGET (`train --validate-on target`): the
target corpus's speakers outside the test fold, all their clips in a cross-corpus run (the model is fitted
on the whole training subset), held-out speakers of the target's budget in a transfer run. Both are honest
(no test speaker is read), but TARGET spends labels of the target corpus that a cross-corpus row does not
count; its rows say so (column `validation`: target; ``[from demo, validated on target]`` in reports).

>>> Design(TRANSFER, "demo").setup("egemaps-func").label
'egemaps-func [+demo]'
>>> Design(CROSS, "demo", validate_on=TARGET).setup("w@auto").columns()["validation"]
'target'
>>> Design(CROSS, "demo", Normalisation(PER_CORPUS)).setup("fbank").label
'fbank [from demo, per-corpus normalisation]'
"""
from __future__ import annotations

from dataclasses import dataclass

from featbench.protocol import designs
from featbench.protocol.designs import (CROSS, OTHER, SOURCE, TARGET, TRANSFER, VALIDATE_ON, VALIDATIONS, WITHIN,  # noqa: F401 (re-exported: their home is the protocol)
                                       check_labels, check_same_features, combine)
from featbench.protocol.normalisation import standardise_within  # noqa: F401 (re-exported: its home is the protocol)
from featbench.results import PER_CORPUS, Normalisation, Setup  # noqa: F401 (PER_CORPUS: the doctests)


@dataclass(frozen=True)
class Design(designs.Design):
    """A two-corpus design (protocol.designs.Design: where the training rows come from, where choices are
    validated), with what its rows say of their training data (`setup`: results.Setup, which the protocol
    cannot import)."""

    def setup(self, view: str) -> Setup:
        """What a view's rows say of their training data (results.Setup: their columns, their display name)."""
        return Setup(view, self.mode, self.other, self.normalisation, self.validate_on, self.confounded,
                     pooling=self.pooling)
