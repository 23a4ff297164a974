"""Summary: the score per budget of every family's entry, best first at the largest budget, with what the entry
costs (report.cost); the other classifiers folded below. Each family by its plain name (report.names; the codes in
the legend under Protocol), its classifier in words."""
from __future__ import annotations

from featbench.report.cost import COST_NOTE, cost_text, entry_costs
from featbench.report.model import Cell, Fold, Paragraph, Section, Table
from featbench.report.names import classifier_name, plain_name
from featbench.report.sections.base import Inputs, num
from featbench.report.tables import SUMMARY_NOTE, budget_heading, budget_note
from featbench.results import budget_order


def _ranked(agg, keys: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(family, classifier) pairs by their mean at their largest budget, best first (ties in the given order)."""
    def top(key):
        part = agg[(agg.family == key[0]) & (agg.classifier == key[1])]
        return -float(part.sort_values("x", kind="stable")["mean"].iloc[-1])

    return sorted(keys, key=top)


def _cells(a, family: str, classifier: str, order: list[str]) -> list[Cell]:
    part = a.agg[(a.agg.family == family) & (a.agg.classifier == classifier)]
    cells = []
    for budget in order:
        row = part[part.budget == budget]
        cells.append(num("" if row.empty else a.scale.cell(*row[["mean", "ci_low", "ci_high"]].iloc[0])))
    return cells


def section(inputs: Inputs) -> Section:
    """The summary table (entries), and the other classifiers' table folded."""
    a = inputs.analysis
    order = budget_order(a.agg, "x")
    heads = [budget_heading(a.agg, b, a.scale, a.pool) for b in order]
    costs = entry_costs(a.rows, a.best)
    entries = _ranked(a.agg, list(a.best.items()))
    view = {f: plain_name(a.setups[f]) for f in a.best}
    view = {f: w if list(view.values()).count(w) == 1 else f"{w} [{f}]" for f, w in view.items()}
    rows = [[Cell(view[f] + (" (baseline)" if f == a.baseline else ""), strong=f == a.baseline),
             Cell(classifier_name(c, oracle=f in a.oracle, short=True)), *_cells(a, f, c, order), num(cost_text(costs[f]))]
            for f, c in entries]
    pairs = a.agg[["family", "classifier"]].drop_duplicates()
    others = _ranked(a.agg, [(f, c) for f, c in zip(pairs.family, pairs.classifier) if a.best[f] != c])
    note = budget_note(a.agg, a.scale, a.pool, a.names)
    blocks = [Paragraph(SUMMARY_NOTE.format(heading=a.scale.heading, axis=a.scale.axis) + (f" {note}" if note else "")
                        + f" {COST_NOTE} Codes in the results: the legend under Protocol. {a.caption}.", note=True),
              Table(["entry", "classifier", *heads, "cost"], rows, id="summary")]
    if others:
        table = Table(["family", "classifier", *heads], [[Cell(view[f]), Cell(classifier_name(c, short=True)), *_cells(a, f, c, order)]
                                                          for f, c in others], id="summary-others")
        blocks.append(Fold(f"The other classifiers ({len(others)} rows), best first", [table]))
    return Section("summary", "Summary", blocks)
