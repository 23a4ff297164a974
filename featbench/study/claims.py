"""The study report's claims: each report's data-efficiency claims (one row per report and claim), the claims under
recording conditions (an entry loses less UA than the baseline when the test clips are degraded: one row per report,
entry and condition), where each claim holds and where it fails across the study's reports, and each report's
@weighted entries against the chosen layer. Read from each report's protocol.json (`claims`, `robustness_claims`,
`layer_weighting`), never recomputed.

>>> claim_row({"entry": "a", "counterpart": "b", "verdict": "supported", "ratio": 8.0, "ci_low": 5.0, "ci_high": 12.0,
...            "low_bound": "", "high_bound": ""}, "ravdess 4")[3].text
'8.0x (5.0x to 12.0x)'
>>> where_it_holds([("r8", "a", "b", "supported"), ("n6", "a", "b", "not reached")])
['a against b: holds in r8; fails in n6 (not reached)']
"""
from __future__ import annotations

from featbench.report.model import Bullets, Cell, Paragraph, Section, Table

SUPPORTED = "supported"


def claim_row(claim: dict, report: str) -> list[Cell]:
    """One claims-table row: report, entry, counterpart, ratio with interval, verdict."""
    ratio = claim.get("ratio")
    if "no ratio" in str(claim.get("verdict", "")):
        text = "-"
    elif isinstance(ratio, (int, float)):
        bound = claim.get("low_bound") or claim.get("high_bound")
        text = f"{ratio:.1f}x ({claim.get('ci_low', float('nan')):.1f}x to {claim.get('ci_high', float('nan')):.1f}x)"
        text = f"{text}, {bound}" if bound else text
    else:
        text = "not reached"
    return [Cell(report), Cell(str(claim.get("entry", ""))), Cell(str(claim.get("counterpart", ""))), Cell(text, num=True),
            Cell(resampled(claim)), Cell(str(claim.get("verdict", "")), strong=claim.get("verdict") == SUPPORTED)]


def resampled(claim: dict) -> str:
    """What a claim's interval resampled, as its report says it (claims written before the field: folds).

    >>> resampled({"resampled": "speakers"}), resampled({})
    ('test speakers resampled within folds', 'bootstrap over folds')
    """
    from featbench.report.efficiency import FOLDS, RESAMPLED

    return RESAMPLED.get(str(claim.get("resampled", FOLDS)), str(claim.get("resampled")))


def condition_row(claim: dict, report: str) -> list[Cell]:
    """One row of the claims under conditions: report, entry, baseline, condition (trained -> tested), budget, each
    entry's drop in UA points, the difference with its interval, verdict.

    >>> cells = condition_row({"entry": "fbank", "baseline": "egemaps-func", "train_condition": "clean",
    ...     "test_condition": "white:20", "budget": "all", "entry_drop": 0.197, "baseline_drop": 0.316,
    ...     "difference": -0.12, "ci_low": -0.214, "ci_high": -0.025, "verdict": "supported"}, "8class")
    >>> [c.text for c in cells][3:]
    ['clean -> white:20', 'all', '19.7', '31.6', '-12.0 (-21.4 to -2.5)', 'supported']
    """
    def points(key: str) -> str:
        value = claim.get(key)
        return f"{100 * value:.1f}" if isinstance(value, (int, float)) else "-"

    difference = points("difference")
    if difference != "-" and isinstance(claim.get("ci_low"), (int, float)):
        difference = f"{difference} ({points('ci_low')} to {points('ci_high')})"
    condition = f"{claim.get('train_condition', 'clean')} -> {claim.get('test_condition', '')}"
    return [Cell(report), Cell(str(claim.get("entry", ""))), Cell(str(claim.get("baseline", ""))), Cell(condition),
            Cell(str(claim.get("budget", ""))), Cell(points("entry_drop"), num=True), Cell(points("baseline_drop"), num=True),
            Cell(difference, num=True), Cell(str(claim.get("verdict", "")), strong=claim.get("verdict") == SUPPORTED)]


def where_it_holds(claims: list[tuple[str, str, str, str]]) -> list[str]:
    """One sentence per claim (entry against counterpart, under a condition where there is one) made in at least
    two reports: the reports where it holds and those where it fails, with their verdicts. `claims` holds
    (report, entry, counterpart, verdict) tuples."""
    grouped: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for report, entry, counterpart, verdict in claims:
        grouped.setdefault((entry, counterpart), []).append((report, verdict))
    sentences = []
    for (entry, counterpart), found in grouped.items():
        if len(found) < 2:
            continue
        holds = [r for r, v in found if v == SUPPORTED]
        fails = [f"{r} ({v})" for r, v in found if v != SUPPORTED]
        sentences.append(f"{entry} against {counterpart}: holds in {', '.join(holds) or 'no report'}"
                         + (f"; fails in {', '.join(fails)}" if fails else ""))
    return sentences


def claims_section(protocols: dict[str, dict]) -> Section:
    """Each report's data-efficiency claims, and where each claim made in several reports holds."""
    found = [(name, c) for name, p in protocols.items() for c in p.get("claims", [])]
    intro = ("Each report's claims (an entry matches its counterpart's full-data UA with N x fewer labelled examples; "
             "95% interval; verdict as in that report). A claim that holds on one corpus and fails on another is "
             "shown on both rows.")
    blocks: list = [Paragraph(intro, note=True)]
    if not found:
        empty = ("No report has run yet (featbench study run)." if not protocols else
                 "No report makes a claim: see each report's Claims section for why (an entry picked on the test folds "
                 "makes no honest headline).")
        return Section("claims", "Claims per corpus", [*blocks, Paragraph(empty)])
    blocks.append(Table(["report", "entry", "counterpart", "less labelled data", "interval", "verdict"],
                        [claim_row(c, name) for name, c in found], id="study-claims"))
    across = where_it_holds([(name, str(c.get("entry", "")), str(c.get("counterpart", "")), str(c.get("verdict", "")))
                             for name, c in found])
    if across:
        blocks += [Paragraph("Where each claim holds, across the reports that make it:", note=True), Bullets(across)]
    return Section("claims", "Claims per corpus", blocks)


def condition_claims_section(protocols: dict[str, dict]) -> Section | None:
    """The claims under recording conditions of every report that tests any (None when none does): does an entry
    lose less UA than the baseline when the test clips are degraded, per report and condition."""
    found = [(name, c) for name, p in protocols.items() for c in p.get("robustness_claims", [])]
    if not found:
        return None
    intro = ("Each report's claims under recording conditions: the UA points each entry loses when its test clips "
             "are degraded (trained as the condition column says, against the same entry on clean clips), and the "
             "difference of the entry's drop and the baseline's with its 95% interval (negative: the entry loses "
             "less); verdict as in that report.")
    rows = [condition_row(c, name) for name, c in found]
    columns = ["report", "entry", "baseline", "condition", "budget", "entry drop", "baseline drop", "difference", "verdict"]
    blocks: list = [Paragraph(intro, note=True), Table(columns, rows, id="study-condition-claims")]
    across = where_it_holds([(name, str(c.get("entry", "")), f"{c.get('baseline', '')} under {c.get('test_condition', '')}",
                              str(c.get("verdict", ""))) for name, c in found])
    if across:
        blocks += [Paragraph("Where each claim under a condition holds, across the reports that make it:", note=True),
                   Bullets(across)]
    return Section("condition-claims", "Claims per condition", blocks)


def weighting_section(protocols: dict[str, dict]) -> Section | None:
    """Each report's @weighted entries against the @auto entry of the same family (report.weighting), side by side:
    does the weighting at least match the chosen layer on every corpus, and where it does not, why. None when no
    report holds both."""
    found = [(name, g) for name, p in protocols.items() for g in p.get("layer_weighting", [])]
    if not found:
        return None

    from featbench.report.weighting import difference_text

    rows = [[Cell(name), Cell(str(g.get("weighted", ""))), Cell(str(g.get("classifier", ""))), Cell(str(g.get("budget", ""))),
             Cell(difference_text(g.get("difference"), g.get("ci_low"), g.get("ci_high")), num=True,
                  strong=bool(g.get("loses"))), Cell(str(g.get("picked", ""))),
             Cell(f"{g.get('val_agreed', 0)} of {g.get('folds', 0)}", num=True)] for name, g in found]
    losses = [f"{name}: {g.get('entry', '')} at budget {g.get('budget', '')}, {-100 * float(g['difference']):.1f} points "
              f"below {g.get('against', '')}; {g.get('why', '')}" for name, g in found if g.get("loses")]
    intro = ("Each @weighted entry (layer weights chosen on validation speakers: learned, uniform or one layer alone) "
             "minus the @auto entry of the same family (one layer chosen on the same speakers), UA points with the "
             "corrected resampled t 95% interval over folds; the weightings the folds picked, and in how many folds "
             "validation ranked the weighting at least as high.")
    verdict = (Bullets(losses) if losses else
               Paragraph("The weighting is never more than one point below the chosen layer, in any report."))
    return Section("layer-weighting", "Learned layer weights against one chosen layer", [
        Paragraph(intro, note=True),
        Table(["report", "entry", "classifier", "budget", "against @auto", "weighting picked", "val agreed"], rows,
              id="study-layer-weighting"), verdict])
