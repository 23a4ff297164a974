"""Claims: the report's first section. A table of what the results support, in plain words (report.claims), one
short paragraph on how to read it, and the headline figure."""
from __future__ import annotations

from featbench.report.claims import (AT_CHANCE, BASELINE, FULL_BUDGET_ONLY, LARGER_DROP, MORE_LABELS, NOT_REACHED,
                                     NOT_SIGNIFICANT, ONE_BUDGET, ONE_FOLD, SUPPORTED, drop_interval, plateau_text,
                                     points_text, verdict)
from featbench.report.efficiency import flat_gain, resampling_said
from featbench.report.model import Cell, Heading, Paragraph, Section, Table
from featbench.report.sections.base import Inputs, num


MEANING = {
    SUPPORTED: "the whole interval lies above 1×", NOT_SIGNIFICANT: "the interval holds 1×",
    MORE_LABELS: "the whole interval lies below 1×",
    NOT_REACHED: "the entry never gets there within its budgets, nor in almost any bootstrap sample",
    FULL_BUDGET_ONLY: "the interval lies above 1× against the full budget, but counted from where what the entry is "
    "set against stops improving it does not: the saving may come from the flat end of that curve",
    AT_CHANCE: "what the entry is set against does not score above {chance}, so there is no ratio",
    ONE_FOLD: "one fold gives no interval to judge by", ONE_BUDGET: "an entry measured at one budget has no curve to "
    "read a ratio from (its score is in the summary)",
}
"""What each verdict word means, said under the table for the verdicts it holds."""


def _paragraph(inputs: Inputs) -> str:
    a, claims = inputs.analysis, inputs.claims
    if not claims:
        return a.headline_note()
    scale = a.scale
    base = next((c.eff for c in claims if c.kind == BASELINE), claims[0].eff)
    verdicts = list(dict.fromkeys([c.verdict for c in claims]
                                  + [verdict(c.eff, plateau=True) for c in claims if c.eff.flat and not c.eff.at_chance]))
    text = (f"Ratio: how many times fewer {scale.x_unit} an entry needs to reach the score of what it is set against "
            f"(the baseline reaches {scale.said(base.target)} with {base.reference_x:.0f} {scale.per}, over "
            f"{base.n_units} speaker folds), with both ends of its {resampling_said([c.eff for c in claims])}. "
            + "; ".join(f"{v.capitalize() if k == 0 else v}: {MEANING[v].format(chance=scale.chance_name)}"
                        for k, v in enumerate(verdicts)) + ".")
    if base.flat and not base.at_chance:
        text += (f" The baseline stops improving at {base.plateau_x:.0f} {scale.per} ({scale.said(base.plateau_score)}"
                 f"; its curve gains at most {flat_gain(scale)} per doubling of the budget from there): the last column counts the "
                 "labels saved from there, a smaller and safer number, with a verdict of its own (–: what the entry is "
                 "set against keeps improving up to its largest budget).")
    return f"{text} {a.headline_note()}"


def section(inputs: Inputs) -> Section:
    """The claims table, its paragraph and the headline figure."""
    claims, scale = inputs.claims, inputs.analysis.scale
    blocks = []
    if claims:
        flat = any(c.eff.flat and not c.eff.at_chance for c in claims)
        columns = ["entry", "against", f"{scale.x_unit} needed", "fewer labels", "95% interval", "verdict"]
        columns += ["counted from where the 'against' entry stops improving"] if flat else []
        rows = [[Cell(c.entry_words), Cell(c.counterpart_words), num(c.needed), num(c.ratio), num(c.interval),
                 Cell(c.verdict, strong=True)] + ([Cell(plateau_text(c.eff))] if flat else []) for c in claims]
        blocks.append(Table(columns, rows, id="claims"))
    blocks.append(Paragraph(_paragraph(inputs)))
    blocks += [f for f in inputs.figures if f.stem == "learning_curves"]
    return Section("claims", "Claims", blocks + robustness_blocks(inputs))


DROP_MEANING = {SUPPORTED: "the whole interval of the difference of drops lies below 0: the entry loses less",
                NOT_SIGNIFICANT: "the interval holds 0", LARGER_DROP: "the whole interval lies above 0: the entry "
                "loses more", ONE_FOLD: "one fold gives no interval to judge by"}
"""What each verdict word of a robustness claim means."""


def robustness_blocks(inputs: Inputs) -> list:
    """The robustness claims (report.claims.RobustnessClaim) after the claims above: each headline entry's drop from
    clean against the baseline's at each test condition (none where the rows hold no other condition)."""
    claims, scale = inputs.robustness_claims, inputs.analysis.scale
    if not claims:
        return []
    rows = []
    for claim in claims:
        c = claim.comparison
        rows.append([Cell(claim.entry_words), Cell(claim.baseline_words), Cell(c.entry.test), Cell(c.entry.train),
                     Cell(str(c.entry.budget)), num(points_text(c.entry.mean, scale)), num(points_text(c.baseline.mean, scale)),
                     num(f"{points_text(c.difference, scale)} ({drop_interval(c.ci_low, c.ci_high, scale)})"),
                     Cell(claim.verdict, strong=True)])
    verdicts = list(dict.fromkeys(c.verdict for c in claims))
    return [Heading("Robustness claims: is the entry's drop from clean smaller than the baseline's?"),
            Table(["entry", "against", "test condition", "training condition", "budget", "entry's drop",
                   "baseline's drop", "difference of drops (95% CI)", "verdict"], rows, id="robustness-claims",
                  caption=f"{inputs.analysis.caption}."),
            Paragraph("Drop: the score on clean test clips minus the score under the test condition, the same trained "
                      "models scoring both; the difference of the two entries' drops is paired by speaker fold (seeds "
                      "averaged within a fold), 95% t-interval over the folds both hold; negative: the entry loses "
                      "less. " + "; ".join(f"{v.capitalize() if k == 0 else v}: {DROP_MEANING[v]}"
                                           for k, v in enumerate(verdicts)) + ". See Robustness.")]
