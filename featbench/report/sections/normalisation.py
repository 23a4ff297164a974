"""Normalisation: how many labels per-speaker statistics save, each 'view [per-speaker normalisation]' entry against
the view normalised on the training rows."""
from __future__ import annotations

from featbench.report.efficiency import resampling_said
from featbench.report.sections.base import Inputs, sentences_section

INTRO = ("Each entry with per-speaker normalisation standardises every speaker's pooled features on the "
         "mean and std of all that speaker's clips (labels unread; the test speakers' clips included, so it "
         "assumes unlabelled audio of each speaker before predicting). The ratio is how many fewer labels it "
         "needs to reach the plain view's full-data score, {resampled}.")


def section(inputs: Inputs):
    pairs = inputs.analysis.normalised
    return sentences_section("normalisation", "Normalisation: labels per-speaker statistics save",
                             INTRO.format(resampled=resampling_said([p.eff for p in pairs])), [p.sentence for p in pairs])
