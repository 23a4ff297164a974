"""Transfer: how many of this corpus's labels every utterance of another corpus saves, each 'view [+other]' entry
against the view trained on this corpus alone."""
from __future__ import annotations

from featbench.report.efficiency import resampling_said
from featbench.report.sections.base import Inputs, sentences_section

INTRO = ("Each entry 'plus every label of' another corpus trains on this corpus's budget plus every utterance of it, "
         "under this corpus's speaker folds (its test speakers are used for the test only); the ratio is how "
         "many fewer of this corpus's labels (×) reach the view's full-data score, {resampled}.")


def section(inputs: Inputs):
    pairs = inputs.analysis.transfer
    return sentences_section("transfer", "Transfer: labels another corpus saves",
                             INTRO.format(resampled=resampling_said([p.eff for p in pairs])), [p.sentence for p in pairs])
