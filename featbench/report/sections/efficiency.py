"""Data efficiency: every entry of the baseline's protocol against the baseline, each ratio in a sentence (oracle
entries included, labelled), after a note on how to read them."""
from __future__ import annotations

from featbench.report.sections.base import Inputs, sentences_section
from featbench.results import TRANSFER


def intro(a) -> str:
    """How to read the ratios, and which entries are not compared with the baseline."""
    scale, transfer = a.scale, [f for f in a.best if a.setups[f].design == TRANSFER]
    return (
        f"{'' if scale.percent else f'Scores are {scale.metric}; budgets count training utterances. '}"
        f"Baseline {a.labels[a.baseline]} at budget {a.reference_budget}; each family with its entry (its `selected` "
        "classifier, else its only one, else the best on the test folds, marked 'oracle': biased upwards); 95% "
        "bootstrap interval over folds (test speaker groups, seeds averaged within a fold), paired; both ends always "
        "stated. '>=' marks a ratio (or an interval end) reached at the smallest budget tried (a lower bound), '<' one "
        "never reached (an upper bound). Beside each ratio, the labels saved against where the baseline stops "
        f"improving: its smallest budget whose mean {scale.name} reaches the 95% t-interval of its reference score "
        "(a flat baseline inflates the first ratio, not this one). A baseline whose interval holds "
        f"{scale.chance_name} ({scale.fmt(scale.chance)}) gives no ratio."
        + (f" The budgets of {', '.join(transfer)} count this corpus's labels only; every utterance of the other "
           "corpus comes on top." if transfer else "")
        + (" Not compared with the baseline, being under another protocol (per-speaker normalisation or not, or "
           f"validated elsewhere): {', '.join(a.apart)}{'; see Normalisation' if a.normalised else ''}."
           if a.apart else "")
        + (f" Not compared with the baseline, their budgets counting another corpus's labels: {', '.join(a.cross)}"
           f"{'; see Cross-corpus' if a.cross_sentences else ''}." if a.cross else ""))


def section(inputs: Inputs):
    a = inputs.analysis
    return sentences_section("efficiency", "Data efficiency", intro(a), [p.sentence for p in a.ratios])
