"""Protocol: what the report was made of, in words: corpus, classes, folds and seeds, metric, budgets, baseline,
planning target, the results files and the featbench version; then the legend: each entry's plain name (the one
every section gives it), its code in the results (what --baseline takes) and how its classifier was picked."""
from __future__ import annotations

from featbench import __version__
from featbench.report.conditions import CLEAN, TRAIN
from featbench.report.efficiency import resampling_said
from featbench.report.groups import feature_facts
from featbench.report.model import Cell, Heading, Section, Table
from featbench.report.plots import folds_said
from featbench.report.sections.base import Inputs
from featbench.results.columns import NOT_CONVERGED
from featbench.report.tables import budget_heading


def _groups(a) -> list[tuple[str, str]]:
    """What the test clips' speakers and genders hold of the classes (report.groups), where the rows record it."""
    g = a.groups
    if g is None:
        return [("speakers and classes", "not recorded in these rows (written before featbench recorded each fold's "
                 "test clips per class of each speaker and gender)")] if not a.scale.dimensional else []
    return [("speakers and classes", g.speaker_line())] + ([("genders and classes", g.gender_line())] if g.gaps else [])


def _stopped(a) -> list[tuple[str, str]]:
    """The rows whose fits stopped at their iteration limit (results.NOT_CONVERGED), where there are any."""
    stopped = int(a.rows["hp_selection"].fillna("").astype(str).str.contains(NOT_CONVERGED, regex=False).sum())
    return [("convergence", f"{stopped} of {len(a.rows)} rows: {NOT_CONVERGED} (scikit-learn's ConvergenceWarning, "
             "counted in their hp_selection); their scores are those of the last iteration")] if stopped else []


def _conditions(a) -> str:
    """The training and test conditions every section but Robustness reads (report.conditions: each entry tested
    under its own training condition)."""
    trains = list(dict.fromkeys(a.rows[TRAIN]))
    if trains == [CLEAN]:
        return ("clean (the recordings as they are), for training and test; scores under other test conditions, "
                "where the rows hold them, are in Robustness alone")
    return (f"each entry tested under its own training condition ({', '.join(trains)}; multi-condition training: "
            "tested clean); scores under other test conditions are in Robustness alone")


def _resampled(a) -> str:
    """What the Statistics section's intervals resample (report.significance), where it has any."""
    shown = [s.interval for s in a.significance.entries if s.interval is not None]
    if not shown:
        return ""
    how = "counts fitted to stored margins" if any(i.approximate for i in shown) else "exact counts"
    return f"; Statistics: 95% intervals that resample {shown[0].unit} ({how})"


def _ratios(a) -> str:
    """What the data-efficiency ratios' intervals resample (report.efficiency), where the report has any."""
    effs = [p.eff for p in [*a.ratios, *a.transfer, *a.normalised]]
    return f"; ratios: {resampling_said(effs)}" if effs else ""


def facts(a) -> list[tuple[str, str]]:
    """(what, in words) for the protocol table."""
    p, scale = a.protocol, a.scale
    classes = str(p["classes"]).split(",")
    what = (f"target {p['classes']} ({p['n_classes']} quantile bins balance folds and budgets)" if scale.dimensional
            else f"{p['n_classes']}: {', '.join(classes)}")
    said = "given" if a.target_given else "the baseline's score at its reference budget"
    return [("corpus", str(p["corpus"])), ("classes", what)] + ([("merged", str(p["merge"]))] if p.get("merge") else []) + [
        ("folds", f"{folds_said(p)}, seeds {', '.join(map(str, p['seeds']))}"),
        ("intervals", "95% t-interval over folds (seeds averaged within a fold)" + _ratios(a) + _resampled(a)),
        ("metric", str(p["metric"])),
        ("recording condition", _conditions(a)),
        ("budgets", f"{scale.x_unit}: {', '.join(budget_heading(a.agg, b, scale, a.pool) for b in p['budgets'])}"
                    + (f"; {a.pool.note()}" if a.pool is not None and a.pool.note() else "")),
        ("baseline", f"{a.names[a.baseline]} (code: {a.labels[a.baseline]})"),
        ("reference budget", budget_heading(a.agg, a.reference_budget, scale, a.pool)),
        ("planning target", f"{scale.fmt(a.target)} ({said})"),
        *_groups(a), *feature_facts(a.rows), *_stopped(a),
        ("results files", ", ".join(a.results)),
        ("featbench", __version__),
    ]


def section(inputs: Inputs) -> Section:
    a = inputs.analysis
    entries = [[Cell(a.names[f]), Cell(a.labels[f]), Cell(e.how),
                Cell("the baseline" if f == a.baseline else "yes" if f in a.honest else "")] for f, e in a.entries.items()]
    return Section("protocol", "Protocol", [
        Table(["", ""], [[Cell(k, strong=True), Cell(v)] for k, v in facts(a)], id="protocol"),
        Heading("Legend: each family's entry, its name here and its code in the results"),
        Table(["entry (as this report names it)", "code: view (classifier)", "how the classifier was picked",
               "in the claims"], entries, id="entries")])
