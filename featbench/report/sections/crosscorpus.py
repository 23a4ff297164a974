"""Cross-corpus: entries trained on another corpus only (no ratio against this corpus's baseline): their score,
whether it is above chance, and their recall per class (report.crosscorpus)."""
from __future__ import annotations

from featbench.report.crosscorpus import INTRO
from featbench.report.sections.base import Inputs, sentences_section


def section(inputs: Inputs):
    return sentences_section("cross-corpus", "Cross-corpus: trained on another corpus", INTRO,
                             inputs.analysis.cross_sentences)
