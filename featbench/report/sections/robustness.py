"""Robustness: each entry's score under every recording condition its rows were tested under (report.robustness), at
its full budget: the figure (one panel per condition group, clean at the left), the drop from clean with its paired
95% interval over speaker folds, the data-efficiency ratio recomputed under each test condition (does it survive?),
and, where entries were trained under conditions too, mismatched against matched against multi-condition training.
Every number says its protocol: the caption (corpus, classes, folds, seeds, metric), the budget, the training and
the test condition. None where the rows hold no test condition but each entry's own."""
from __future__ import annotations

from typing import Any

from featbench.report.claims import drop_interval, interval_text, needed_text, points_text, ratio_text, verdict
from featbench.report.conditions import CLEAN, MULTI
from featbench.report.efficiency import resampling_said
from featbench.report.model import Cell, Heading, Paragraph, Section, Table
from featbench.report.sections.base import Inputs, num
from featbench.report.tables import budget_heading

FIGURE_PREFIX = "robustness"  # the stems of this section's figures (report.figures)


def _budgets(a) -> str:
    """Each entry's full budget, in words ('egemaps: all (mean 20/class)'; one budget said once)."""
    said = {f: budget_heading(a.agg, b, a.scale, a.pool) for f, b in a.robustness.budgets.items()}
    if len(set(said.values())) == 1:
        return next(iter(said.values()))
    return "; ".join(f"{a.names[f]}: {b}" for f, b in said.items())


def _intro(a) -> str:
    folds = sorted({d.n_folds for d in a.robustness.drops}) or [0]
    return (f"Each entry at its full budget ({_budgets(a)}), trained under its training condition and tested on the same "
            "test speakers under each recording condition of these rows. The drop is the score on clean test clips "
            "minus the score under the condition, paired by fold, seed and budget (the same trained models score "
            f"both), seeds averaged within a fold, then a 95% t-interval over {'/'.join(map(str, folds))} speaker "
            f"folds (one fold: no interval); positive: the condition costs {a.scale.name}. Protocol: {a.caption}.")


def _drops(a) -> Table:
    s = a.scale
    rows = [[Cell(a.names[d.family]), Cell(d.train), Cell(d.test), Cell(str(d.budget)), num(s.fmt(d.clean)),
             num(s.fmt(d.degraded)), num(points_text(d.mean, s), strong=True), num(drop_interval(d.ci_low, d.ci_high, s)),
             num(str(d.n_folds))] for d in a.robustness.drops]
    return Table(["entry", "training condition", "test condition", "budget", f"{s.name} clean", f"{s.name} under it",
                  "drop from clean", "95% interval (folds)", "folds"], rows, id="robustness-drops",
                 caption=f"{a.caption}.")


def _ratios(a) -> list:
    """The efficiency ratio of each headline entry against the baseline, clean first, then under each condition."""
    clean = {p.family: p for p in a.ratios}
    rows, seen, shown = [], set(), []
    for test, pair in a.robustness.ratios:
        first = [] if pair.family in seen or pair.family not in clean else [(CLEAN, clean[pair.family])]
        seen.add(pair.family)
        for condition, p in [*first, (test, pair)]:
            shown.append(p.eff)
            rows.append([Cell(a.names[p.family]), Cell(a.names[p.counterpart]), Cell(condition), num(needed_text(p.eff)),
                         num(ratio_text(p.eff)), num(interval_text(p.eff)), Cell(verdict(p.eff), strong=True)])
    if not rows:
        return []
    return [Heading("Data efficiency under each test condition: does the ratio survive?"),
            Paragraph(f"Each honest entry against the baseline as under Claims (entries trained clean, reference budget "
                      f"{a.reference_budget}, {resampling_said(shown)}), recomputed on the rows of each test condition"
                      ": the baseline's score under that condition is the target.", note=True),
            Table(["entry", "against", "test condition", f"{a.scale.x_unit} needed", "fewer labels", "95% interval",
                   "verdict"], rows, id="robustness-efficiency", caption=f"{a.caption}.")]


def _matched(a) -> list:
    matched = a.robustness.matched
    if not matched:
        return []
    multi = list(dict.fromkeys(t for m in matched for t in m["scores"] if t.startswith(MULTI)))
    rows = []
    for m in matched:
        scores = {t: p for t, (f, p) in m["scores"].items()}
        cells = [scores.get(t) for t in (CLEAN, m["test"], *multi)]
        rows.append([Cell(a.names[m["twins"][0]]), Cell(m["test"]),
                     *[num("" if p is None else a.scale.cell(p["mean"], p["ci_low"], p["ci_high"])) for p in cells]])
    return [Heading("Mismatched against matched against multi-condition training"),
            Table(["entry", "test condition", "trained clean (mismatched)", "trained under the test condition (matched)",
                   *[f"trained {t} (multi-condition)" for t in multi]], rows, id="robustness-matched",
                  caption=f"{a.scale.heading} at each entry's full budget, 95% t-interval over folds; {a.caption}.")]


def section(inputs: Inputs) -> Section | None:
    a: Any = inputs.analysis  # report.analysis.Analysis (not imported: sections come before it in the flow)
    if a.robustness.empty:
        return None
    figures = [f for f in inputs.figures if f.stem.startswith(FIGURE_PREFIX)]
    blocks: list = [Paragraph(_intro(a), note=True), *figures]
    if a.robustness.drops:
        blocks += [Heading("Drop from clean per entry and test condition"), _drops(a)]
    return Section("robustness", "Robustness: recording conditions", blocks + _ratios(a) + _matched(a))
