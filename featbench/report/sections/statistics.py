"""Statistics: which differences between entries are real (report.significance within one corpus; report.statistics
.across across corpora), each test with the unit of its blocks said.

Within one corpus the folds share training speakers: pairs are compared by the corrected resampled t-test over folds
with Holm over the pairs, the mean rank over folds is descriptive only, and each score has an interval that resamples
test speakers within folds. A Friedman test, Wilcoxon pairs and the critical-difference diagram need independent
blocks: recording conditions here (where the rows hold several), corpora in a study (`across_corpora_section`, for a
report over several corpora). Fewer than 5 blocks: said instead of a p-value.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from featbench.report.claims import points_text
from featbench.report.escape import plot_text
from featbench.report.model import Cell, Figure, Heading, Paragraph, Section, Table
from featbench.report.scale import UA, Scale, scale_of
from featbench.report.sections.base import Inputs, num
from featbench.report.statistics.across import MAX_ENTRIES
from featbench.report.statistics.bayes import ROPE, Bayes
from featbench.report.statistics.pairs import PairTests
from featbench.report.statistics.ranks import MIN_BLOCKS, CriticalDifference, RankTest, too_few
from featbench.report.statistics.speakers import UNITS, SPEAKERS

FIGURE = "critical_difference"  # the stem of the critical-difference diagram (report.statistics.cdplot)
NOT_INDEPENDENT = ("Folds of one corpus share training speakers, so they are not independent blocks: each pair of "
                   "entries is compared by the corrected resampled t-test of Nadeau and Bengio (2003) over the {k} "
                   "speaker folds (seeds averaged within a fold; the variance of the mean difference widened by the "
                   "fold's test over training rows), the p-values adjusted by Holm over the {m} pairs; the mean rank "
                   "over folds is descriptive only, and no Friedman test or critical difference is computed over folds.")


def _p(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"


def _why(text: str) -> str:
    """Why an entry has no speaker interval, without the fold and seed it was found at.

    >>> _why("fold 0 seed 1: no test_classes (rows written before featbench recorded it)")
    'no test_classes (rows written before featbench recorded it)'
    """
    return re.sub(r"^fold \S+ seed \S+: ", "", text)


def _counts_cell(s, shared: bool) -> Cell:
    if s.interval is None:
        return Cell("–" if shared else f"no interval: {s.why}")
    return Cell("fitted to stored margins (approximate)" if s.interval.approximate else "exact (correct_by_speaker)")


def _scores(a, sig) -> list:
    scale = a.scale
    whys = {_why(s.why) for s in sig.entries if s.interval is None}
    shared = len(whys) == 1 and all(s.interval is None for s in sig.entries)  # said once, under the table
    rows = [[Cell(a.names[s.family]), num(scale.fmt(s.mean), strong=True),
             num("–" if s.interval is None else scale.interval(s.interval.low, s.interval.high)),
             num("" if s.mean_rank is None else f"{s.mean_rank:.2f}"), num(str(s.folds)), _counts_cell(s, shared)]
            for s in sig.entries]
    approximate = any(s.interval is not None and s.interval.approximate for s in sig.entries)
    unit = UNITS[SPEAKERS]
    note = (f"95% interval: {a.n_boot} resamples of {unit} (S - 1 of each fold's S test speakers drawn with "
            "replacement, a speaker's utterances coming with it; an expanded percentile interval), the trained models "
            "held fixed: how far the score could move on other speakers like these, not the variation of training "
            "itself. Mean rank over folds: 1 = best, descriptive only.")
    if shared:
        note = (f"No interval for any entry: {whys.pop()}; rows written by this featbench record each test speaker's "
                "clips and correct predictions per class. " + note)
    if approximate:
        note += (" 'Fitted': these rows predate the correct_by_speaker column, so each speaker's correct predictions per class "
                 "are fitted to the stored per-speaker UA and per-class recall (report.statistics.counts), and the "
                 "interval is approximate; rows written by this featbench record them exactly.")
    return [Heading(f"{scale.name} with an interval that resamples test speakers"),
            Table(["entry", f"{scale.name} (mean over folds)", "95% interval (test speakers resampled within folds)",
                   "mean rank over folds", "folds", "speaker counts"], rows, id="statistics-scores",
                  caption=f"{a.caption}."),
            Paragraph(note, note=True)]


def _verdict(p_holm: float | None, difference: float, alpha: float = 0.05) -> str:
    """'entry higher', 'against higher', 'not told apart' (Holm-adjusted p at alpha) or 'no test'.

    >>> _verdict(0.01, -0.02), _verdict(0.2, 0.05), _verdict(None, 0.1)
    ('against higher', 'not told apart', 'no test')
    """
    if p_holm is None:
        return "no test"
    if p_holm >= alpha:
        return "not told apart"
    return "entry higher" if difference > 0 else "against higher"


def _range(low: float | None, high: float | None, scale: Scale) -> str:
    """'-3.5 to 3.9 points' (a difference's interval in the scale's unit); '' without one."""
    if low is None or high is None:
        return ""
    unit = points_text(high, scale).split(" ", 1)[1]
    return f"{points_text(low, scale).split(' ', 1)[0]} to {points_text(high, scale).split(' ', 1)[0]} {unit}"


def _bayes_cell(b: Bayes | None) -> Cell:
    """'0.95 / 0.04 / 0.01' (P(entry higher) / P(within the ROPE) / P(against higher)), or why there are none.

    >>> _bayes_cell(Bayes("t", 0.01, 0.951, 0.04, 0.009)).text
    '0.95 / 0.04 / 0.01'
    """
    if b is None:
        return Cell("")
    return num(("–" if b.reason.startswith("too few blocks") else b.reason) if b.p_a is None
               else f"{b.p_a:.2f} / {b.p_rope:.2f} / {b.p_b:.2f}")


def _bayes_heading(scale: Scale, rope: float = ROPE) -> str:
    return f"Bayesian: P(entry higher / within ±{points_text(rope, scale)} / against higher)"


def _fold_pairs(a, sig) -> list:
    if len(sig.entries) < 2:
        return []
    scale, rows = a.scale, []
    for p in sig.pairs:
        t, na, nb = p.test, a.names[p.a], a.names[p.b]
        rows.append([Cell(na), Cell(nb), num(points_text(t.mean_difference, scale)), num(_range(t.low, t.high, scale)),
                     num("" if t.t is None else f"{t.t:.2f}"), num(str(t.k)),
                     num(_p(t.p_value) or ("–" if t.reason.startswith("too few blocks") else t.reason)),
                     num(_p(p.p_holm)), Cell(_verdict(p.p_holm, t.mean_difference), strong=p.p_holm is not None),
                     _bayes_cell(p.bayes)])
    return [Heading("Pairs of entries over folds: corrected resampled t-test, Holm over the pairs"),
            Table(["entry", "against", "difference (mean over folds)", "95% CI (corrected)", "t", "folds", "p",
                   "p (Holm)", "at 0.05", _bayes_heading(scale)], rows, id="statistics-pairs", caption=f"{a.caption}."),
            Paragraph(f"Bayesian: the Bayesian correlated t-test (Corani and Benavoli 2015), the posterior of the mean "
                      f"difference under the same corrected variance; within ±{points_text(ROPE, scale)} counts as "
                      "practically equivalent (a region of practical equivalence); no probabilities with fewer than 5 "
                      "folds." + (f" Here: {too_few(sig.n_folds)}, so no p-value and no probability."
                                  if sig.n_folds < MIN_BLOCKS else ""), note=True)]


def rank_blocks(test: RankTest, pairs: PairTests, cd: CriticalDifference, names: dict[str, str], scale: Scale,
                figures: list[Figure], id: str, bayes: tuple[Bayes, ...] = ()) -> list:
    """The blocks of a rank test over independent blocks: the Friedman line (or why there is no p-value), the mean
    rank table, the Wilcoxon pairs with Holm (and `bayes`, the Bayesian signed-rank test of each pair, where given)
    and the critical-difference diagram (`figures` of stem FIGURE)."""
    said = {e: names.get(e, e) for e in test.entries}
    out: list = [Paragraph(test.line() + (f" Left out for a missing score: {', '.join(test.dropped)}." if test.dropped
                                          else "")),
                 Table(["entry", "mean rank (1 = best)"], [[Cell(said[e]), num(f"{r:.2f}")] for e, r in
                                                           sorted(test.mean_ranks.items(), key=lambda i: i[1])],
                       id=f"{id}-ranks", caption=f"Over {test.n_blocks} blocks: {test.unit}.")]
    rows = [[Cell(said[p.a]), Cell(said[p.b]), num(f"{p.wins}/{p.losses}"), num(points_text(p.median_difference, scale)),
             num(_p(p.p_value) or ("–" if pairs.reason else p.note)), num(_p(p.p_holm)),
             Cell(p.note or _verdict(p.p_holm, p.median_difference, pairs.alpha))] + ([_bayes_cell(b)] if bayes else [])
            for p, b in zip(pairs.pairs, bayes or [None] * len(pairs.pairs))]
    if rows:
        out += [Table(["entry", "against", "blocks higher/lower", "median difference", "p (Wilcoxon)", "p (Holm)",
                       "at 0.05"] + ([_bayes_heading(scale)] if bayes else []), rows, id=f"{id}-pairs",
                      caption=f"Wilcoxon signed-rank test per pair over {pairs.n_blocks} blocks ({pairs.unit}), "
                              f"Holm over the {len(rows)} pairs" + (f" ({pairs.reason}: no p-values)" if pairs.reason
                                                                    else "")
                              + ("; Bayesian signed-rank test (Benavoli et al. 2014, prior weight 0.5 at 0)"
                                 if bayes else "") + ".")]
    out += [f for f in figures if f.stem == FIGURE and cd.cd is not None]
    if cd.cd is None and test.p_value is not None:
        out.append(Paragraph(f"No critical-difference diagram: {cd.reason}.", note=True))
    return out


def _conditions(a, sig, figures) -> list:
    head = Heading("Across independent blocks: Friedman test, Wilcoxon pairs, critical difference")
    if sig.conditions is None:
        return [head, Paragraph("Not computed here: these tests need independent blocks (corpora, recording "
                                "conditions), and these rows hold one corpus under one test condition. A study over "
                                "several corpora ranks its entries across them.", note=True)]
    names = {f: a.names[f] for f in a.names}
    return [head, Paragraph(f"Blocks: the {len(sig.condition_names)} {sig.conditions.unit} "
                            f"({', '.join(sig.condition_names)}). The conditions share the test speakers and the "
                            "trained models: the blocks are independent in the condition only.", note=True),
            *rank_blocks(sig.conditions, sig.condition_pairs, sig.cd, names, a.scale, figures, "statistics-conditions")]


def _left_out(left: list[tuple[str, str]]) -> list:
    """One note naming the entries not in (some of) the tests, grouped by why; none without such entries.

    >>> _left_out([("a", "x"), ("b", "y"), ("c", "x")])[0].text
    'Not in these tests: x: a; c. y: b.'
    """
    if not left:
        return []
    whys = list(dict.fromkeys(why for _, why in left))
    said = " ".join(f"{why}: {'; '.join(e for e, w in left if w == why)}." for why in whys)
    return [Paragraph(f"Not in these tests: {said}", note=True)]


def section(inputs: Inputs) -> Section | None:
    """The Statistics section of one corpus's report; None where no entry is trained on its labels."""
    a: Any = inputs.analysis  # report.analysis.Analysis (not imported: sections come before it in the flow)
    sig = a.significance
    if sig.empty:
        return None
    from featbench.report.tables import budget_heading

    intro = (f"At budget {budget_heading(a.agg, sig.budget, a.scale, a.pool)} (the largest budget every entry below "
             f"holds), each family's entry trained on this corpus's labels, best first (at most 10: the baseline, then "
             "the honest entries, then the others by score). "
             + (NOT_INDEPENDENT.format(k=sig.n_folds, m=len(sig.pairs)) if sig.pairs else
                "One entry: no pair to compare; its score with an interval that resamples test speakers."))
    blocks: list = [Paragraph(intro, note=True), *_scores(a, sig), *_fold_pairs(a, sig),
                    *_conditions(a, sig, inputs.figures)]
    blocks += _left_out(sig.left_out)
    return Section("statistics", "Statistics: which differences are real", blocks)


def _plain_names(rows: pd.DataFrame) -> dict[str, str]:
    """Each entry of `rows` as across_corpora names it ('whisper@L4 (logreg)') -> in words (report.names.plain_name);
    {} for rows without the setup columns (their names stay as they are)."""
    from featbench.report.names import plain_name
    from featbench.results import Setup, labels

    if "view" not in rows:
        return {}
    named = rows.assign(label=labels(rows)).drop_duplicates(["label", "classifier"])
    return {f"{r['label']} ({r['classifier']})": plain_name(Setup.from_row(r), str(r["classifier"]))
            for r in named.to_dict("records")}


def across_corpora_section(rows: pd.DataFrame, out: str | Path | None = None, budget: str | None = None,
                           condition: str | None = None, max_entries: int = MAX_ENTRIES, title: str = "") -> Section:
    """The Statistics section of a study across corpora: the entries of `rows` (results rows of several corpora, a
    `corpus` column; `condition` a column such as 'test_condition' to make blocks corpus x condition) at `budget`
    (default: the largest every block holds), ranked over independent blocks (report.statistics.across): the
    Friedman test, the mean rank table, Wilcoxon pairs with Holm and the critical-difference diagram, drawn as
    critical_difference.png/.svg into `out` (no figure without `out`). Fewer than 5 blocks: said, no p-value."""
    from featbench.report.statistics.across import across_corpora
    from featbench.report.statistics.cdplot import cd_diagram

    got = across_corpora(rows, budget, condition, max_entries)
    names = _plain_names(rows)
    scale = scale_of({"metric": rows["metric"].iloc[0], "n_classes": 2}) if "metric" in rows else UA
    figures = []
    if out is not None and cd_diagram(got.cd, Path(out), title, {e: plot_text(n) for e, n in names.items()}):
        figures = [Figure(FIGURE, "Critical-difference diagram across corpora",
                          f"Mean rank over {got.cd.n_blocks} blocks ({got.unit}); entries joined by a bar are not told "
                          f"apart by the Nemenyi test at {got.cd.alpha:g} (CD = {got.cd.cd:.2f}).", list(got.scores))]
    intro = (f"At budget {got.budget} (the same label in every corpus), blocks are {got.unit}: blocks do not share "
             f"speakers, so the Friedman test and the Wilcoxon pairs over them are valid; fewer than 5 blocks give no "
             "p-value.")
    blocks: list = [Paragraph(intro, note=True),
                    *rank_blocks(got.friedman, got.pairs, got.cd, names, scale, figures, "statistics-across", got.bayes)]
    blocks += _left_out([(names.get(e, e), why) for e, why in got.left_out])
    return Section("statistics-across", "Statistics across corpora: which differences are real", blocks)
