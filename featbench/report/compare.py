"""`featbench compare`: results rows -> one `Report` (report.model) of typed sections, rendered as report.md,
report.html and protocol.json, with its tables as CSV and its figures as PNG and SVG.

The numbers are computed once (report.analysis); the claims (report.claims) and every section (report.sections,
registered in SECTIONS) are built from them; Markdown (report.markdown), HTML (report.html) and JSON render the
same sections. Each family is represented by one entry (report.entries): its `selected` classifier, else its only
classifier, else the oracle pick, labelled as such. The headline holds honest entries only. Every score is the
rows' metric (report.scale): UA, or CCC for a dimensional target.

Example: ``compare(["results.csv"], "report/", baseline="egemaps-func", target_ua=0.6)`` writes
summary.csv/.md, efficiency.csv, planning.csv, curves.csv, choices.csv, layer_weights.csv (where an entry learned
layer weights), by_gender.csv,
by_speaker.csv, learning_curves*.png/.svg, learning_points.png/.svg, confusion_matrices.png/.svg, protocol.json,
report.md and report.html into report/ (and cross_corpus_recall.csv where entries are trained on another corpus;
robustness.csv and robustness.png/.svg where rows were tested under other recording conditions: report.robustness;
critical_difference.png/.svg where the Statistics section ranks entries over several test conditions: report.significance),
and returns the Report. Every row is checked first (report.rows): a damaged row is one error line, and nothing is
written.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from featbench import __version__
from featbench.csv_cells import write_people_csv
from featbench.report.analysis import Analysis, analyse
from featbench.report.claims import claims_of, robustness_claims
from featbench.report.weighting import weighting_gaps
from featbench.report.figures import draw
from featbench.report.html import write_report_html
from featbench.report.markdown import blocks_markdown, render_markdown
from featbench.report.model import Report, block_dict
from featbench.report.names import report_title
from featbench.report.sections import Inputs, build_sections
from featbench.report.tables import summary_table
from featbench.results import Normalisation


def write_tables(a: Analysis, out: Path) -> None:
    """The report's CSV files, their cells formula-safe (featbench.csv_cells: names a spreadsheet would run as
    formulas are written as text; numbers stay numbers)."""
    write_people_csv(summary_table(a.agg, a.best, a.oracle, a.scale), out / "summary.csv")
    write_people_csv(pd.DataFrame(a.efficiency_rows()), out / "efficiency.csv")
    write_people_csv(pd.DataFrame(a.plans), out / "planning.csv")
    write_people_csv(a.agg, out / "curves.csv")
    choices, weights = a.choices
    write_people_csv(choices, out / "choices.csv")
    if weights.empty:  # no '@weighted' entry: no file (an earlier report's in this folder would say otherwise)
        (out / "layer_weights.csv").unlink(missing_ok=True)
    else:
        write_people_csv(weights, out / "layer_weights.csv")
    speakers, genders = a.breakdowns
    write_people_csv(speakers, out / "by_speaker.csv")
    if not a.recall.empty:
        write_people_csv(a.recall, out / "cross_corpus_recall.csv")
    write_people_csv(genders, out / "by_gender.csv")
    drops = robustness_table(a)
    if drops.empty:  # no other test condition: no file (an earlier report's in this folder would say otherwise)
        (out / "robustness.csv").unlink(missing_ok=True)
    else:
        write_people_csv(drops, out / "robustness.csv")


def robustness_table(a: Analysis) -> pd.DataFrame:
    """robustness.csv: each entry's drop from clean per test condition (report.robustness.Drop), its protocol beside
    it (corpus, classes, folds, seeds, metric, budget, training and test condition)."""
    p = a.protocol
    return pd.DataFrame([{"entry": a.names[d.family], "family": d.family, "classifier": d.classifier,
                          "corpus": p["corpus"], "classes": p["classes"], "n_folds": p["n_folds"],
                          "seeds": " ".join(map(str, p["seeds"])), "metric": p["metric"], "budget": d.budget,
                          "train_condition": d.train, "test_condition": d.test, "clean": d.clean,
                          "degraded": d.degraded, "drop": d.mean, "ci_low": d.ci_low, "ci_high": d.ci_high,
                          "folds": d.n_folds} for d in a.robustness.drops])


def protocol_record(a: Analysis) -> dict:
    """What protocol.json records of the protocol: the rows' protocol, the baseline and its reference budget, the
    planning target, each family's entry, the headline's families and the results files read."""
    return {**a.protocol, "caption": a.caption, "baseline": a.labels[a.baseline], "reference_budget": a.reference_budget,
            "target_ua": a.target, "entries": {f: {"classifier": e.classifier, "pick": e.how} for f, e in a.entries.items()},
            "headline_families": a.honest, "results": a.results}


def _plain(value):
    """numpy scalars as Python numbers, for json."""
    return value.item() if hasattr(value, "item") else str(value)


def render_json(report: Report) -> str:
    """protocol.json: the protocol record, the title and version, the claims, and every section's blocks."""
    return json.dumps({**report.protocol, "title": report.title, "featbench_version": report.version,
                       "claims": [c.as_dict() for c in report.claims],
                       "robustness_claims": [c.as_dict() for c in report.robustness_claims],
                       "layer_weighting": report.layer_weighting,
                       "sections": [{"id": s.id, "title": s.title, "blocks": [block_dict(b) for b in s.blocks]}
                                    for s in report.sections]}, indent=2, default=_plain) + "\n"


def build_report(a: Analysis, out: Path, figures: bool = True) -> Report:
    """Draw the figures into `out` (none without `figures`: the sections alone, for a quick look) and build the
    Report of `a`."""
    title = report_title(a.protocol, a.setups[a.baseline])
    figures, paths = draw(a, out, title) if figures else ([], [])
    claims, robust = claims_of(a), robustness_claims(a)
    gaps = [g.as_dict(a.name_of(g.weighted, g.classifier), a.name_of(g.auto, g.classifier))
            for g in weighting_gaps(a.rows, a.best)]
    return Report(title=title, caption=a.caption, version=__version__,
                  sections=build_sections(Inputs(a, claims, figures, title, robust)), protocol=protocol_record(a),
                  claims=claims, robustness_claims=robust,
                  robustness=[c.sentence for c in robust] + [f"Under {test}: {p.sentence}" for test, p in a.robustness.ratios], headline=a.headline, efficiency=[p.sentence for p in a.ratios],
                  transfer=[p.sentence for p in a.transfer], normalised=[p.sentence for p in a.normalised],
                  cross_corpus=a.cross_sentences, plans=[p["sentence"] for p in a.plans], notes=a.notes, out=out,
                  figures=paths, layer_weighting=gaps)


def compare(results: list[str | Path], out: str | Path, baseline: str | None = None, target_ua: float | None = None,
            reference_budget: str | None = None, n_boot: int = 2000,
            baseline_normalisation: Normalisation | str | None = None) -> Report:
    """Write every report artefact for one protocol's results into `out` and return the Report. `baseline`: an
    entry's display name, or a view whose `baseline_normalisation` entry is meant (see find_baseline)."""
    out = Path(out)
    analysis = analyse(results, baseline, target_ua, reference_budget, n_boot, baseline_normalisation)
    out.mkdir(parents=True, exist_ok=True)  # only now: a damaged row or a bad option has written nothing
    write_tables(analysis, out)
    report = build_report(analysis, out)
    summary = report.section("summary")
    (out / "summary.md").write_text(blocks_markdown(summary.blocks))
    report.markdown = render_markdown(report)
    (out / "report.md").write_text(report.markdown)
    write_report_html(report)
    (out / "protocol.json").write_text(render_json(report))
    return report
