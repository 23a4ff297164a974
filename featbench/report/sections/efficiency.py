"""Data efficiency: every entry of the baseline's protocol against the baseline, each ratio in a sentence (oracle
entries included, labelled), after a note on how to read them."""
from __future__ import annotations

from featbench.report.efficiency import flat_gain, resampling_said
from featbench.report.sections.base import Inputs, sentences_section
from featbench.results import TRANSFER


def intro(a) -> str:
    """How to read the ratios, and which entries are not compared with the baseline."""
    scale, names = a.scale, a.names
    transfer = [names[f] for f in a.best if a.setups[f].design == TRANSFER]
    return (
        f"{'' if scale.percent else f'Scores are {scale.metric}; budgets count training utterances. '}"
        f"Baseline: {names[a.baseline]}, at budget {a.reference_budget}; each family with its entry (its classifier "
        "chosen on validation speakers, else its only one, else the best on the test folds, marked 'oracle': biased "
        f"upwards); ratios in fewer labels (×), {resampling_said([p.eff for p in a.ratios])}, paired; both ends always "
        "stated. '≥' marks a ratio (or an interval end) reached at the "
        "smallest budget tried (a lower bound), '<' one never reached (an upper bound). Beside each ratio, the labels "
        "saved counted from where the baseline stops improving: its smallest budget whose mean "
        f"{scale.name} reaches the 95% t-interval of its reference score and from which its curve gains at most "
        f"{flat_gain(scale)} per doubling of the budget (a flat baseline inflates the first ratio, not this one). "
        "A baseline whose interval holds "
        f"{scale.chance_name} ({scale.fmt(scale.chance)}) gives no ratio."
        + (f" The budgets of {'; '.join(transfer)} count this corpus's labels only; every utterance of the other "
           "corpus comes on top." if transfer else "")
        + (" Not compared with the baseline, being under another protocol (per-speaker normalisation or not, "
           f"validated elsewhere, or trained under another recording condition): {'; '.join(names[f] for f in a.apart)}{'. See Normalisation' if a.normalised else ''}."
           if a.apart else "")
        + (f" Not compared with the baseline, their budgets counting another corpus's labels: "
           f"{'; '.join(names[f] for f in a.cross)}{'. See Cross-corpus' if a.cross_sentences else ''}." if a.cross else ""))


def section(inputs: Inputs):
    a = inputs.analysis
    return sentences_section("efficiency", "Data efficiency", intro(a), [p.sentence for p in a.ratios])
