"""The study report, one page across the study's reports (each a corpus and class set): the claims of every report
(data efficiency, and under recording conditions where a report tests any: study.claims) and where each holds,
the entries' UA at the full budget side by side, statistics across the reports (the independent blocks), what each
step cost, and the exact study file (copied beside the report). Markdown, HTML and
JSON are rendered from the same sections, as `compare`'s reports are. It reads the per-corpus reports'
protocol.json and the grids' results files, never a store.

>>> _relative(Path("/s/out/ravdess-8"), Path("/s/out"))
'ravdess-8'
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from featbench.report.model import Bullets, Cell, Paragraph, Report, Section, Table
from featbench.study.claims import claims_section, condition_claims_section, weighting_section
from featbench.study.resolve import Resolved

FOLDER = "study"


def _protocols(resolved: Resolved) -> dict[str, dict]:
    found = {}
    for report in resolved.study.reports:
        path = report.out / "protocol.json"
        if path.is_file():
            found[report.name] = json.loads(path.read_text(encoding="utf-8"))
    return found


def full_budget_scores(resolved: Resolved) -> pd.DataFrame:
    """Mean UA at the full budget of each entry (view x classifier, clean test condition) in each report: one
    column per report, one row per entry present anywhere."""
    from featbench.results import read_results

    columns = {}
    for report in resolved.study.reports:
        files: list[str | Path] = [p for p in report.results if p.is_file()]
        if not files:
            continue
        rows = read_results(files).rows
        rows = rows[(rows["budget"].astype(str) == "all") & (rows["test_condition"].fillna("clean") == "clean")]
        if rows.empty:
            continue
        entry = rows["view"].astype(str) + " x " + rows["classifier"].astype(str)
        columns[report.name] = rows.assign(entry=entry).groupby("entry")["ua"].mean()
    return pd.DataFrame(columns)


def _scores_section(scores: pd.DataFrame, protocols: dict[str, dict]) -> Section:
    if scores.empty:
        return Section("scores", "Entries across corpora", [Paragraph("No full-budget rows yet (run the study).")])
    order = scores.mean(axis=1).sort_values(ascending=False).index
    rows = [[Cell(entry)] + [Cell("" if pd.isna(v) else f"{100 * v:.1f}", num=True) for v in scores.loc[entry]]
            for entry in order]
    intro = ("UA (%) at the full budget, mean over folds and seeds, clean test clips; one column per report. Entries are "
             "view x classifier; each report's own page gives intervals and learning curves.")
    protocol = Bullets([f"{name}: {p.get('caption', '')}" for name, p in protocols.items() if name in scores.columns])
    return Section("scores", "Entries across corpora", [Paragraph(intro, note=True),
                                                        Table(["entry", *scores.columns], rows, id="study-scores"),
                                                        Paragraph("Each report's protocol:", note=True), protocol])


def independent_rows(resolved: Resolved, protocols: dict[str, dict]) -> tuple[pd.DataFrame, list[str]]:
    """The results rows of one report per corpus (the first the study names: two class sets of one corpus share
    their speakers, so they are not independent blocks), and a sentence per report left out."""
    from featbench.results import read_results

    frames: list[pd.DataFrame] = []
    used: dict[str, str] = {}
    notes: list[str] = []
    for report in resolved.study.reports:
        corpus = protocols.get(report.name, {}).get("corpus")
        files: list[str | Path] = [p for p in report.results if p.is_file()]
        if corpus is None or not files:
            continue
        if corpus in used:
            notes.append(f"{report.name}: left out of the test across corpora (corpus {corpus} is already a block, "
                         f"through {used[corpus]}; its speakers are the same)")
            continue
        used[corpus] = report.name
        frames.append(read_results(files).rows)
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), notes


def _statistics_section(resolved: Resolved, protocols: dict[str, dict], out: Path) -> Section:
    """The entries ranked over the corpora (report.sections.statistics.across_corpora_section), one block per
    corpus: Friedman, mean ranks, Wilcoxon + Holm pairs, the critical-difference diagram; too few blocks: said."""
    from featbench.errors import FeatbenchError
    from featbench.report.sections.statistics import across_corpora_section

    rows, notes = independent_rows(resolved, protocols)
    if rows.empty:
        return Section("statistics-across", "Statistics across corpora", [Paragraph("No results yet (run the study).")])
    try:
        section = across_corpora_section(rows, out, title=f"Study {resolved.study.name}")
    except FeatbenchError as err:
        return Section("statistics-across", "Statistics across corpora", [Paragraph(f"No test across corpora: {err}")])
    if notes:
        section.blocks.append(Bullets(notes))
    return section


def _costs_section(resolved: Resolved) -> Section:
    from featbench.study.state import read_state

    seconds = read_state(resolved.study.out).get("seconds", {})
    rows = [[Cell(step), Cell(f"{s:.0f}", num=True)] for step, s in seconds.items()]
    if not rows:
        return Section("costs", "Costs", [Paragraph("No step has run yet.")])
    total = sum(seconds.values())
    return Section("costs", "Costs", [Paragraph(f"Wall time of each step's last run ({total:.0f} s in all; jobs = "
                                                f"{resolved.study.jobs}).", note=True),
                                      Table(["step", "seconds"], rows, id="study-costs")])


def _file_section(resolved: Resolved, record: dict) -> Section:
    study = resolved.study
    return Section("study-file", "The study file", [
        Paragraph(f"Study '{study.name}', file {study.path.name} (copied beside this report as study.toml; sha256 "
                  f"{record.get('sha256', '')[:16]}...), featbench {record.get('featbench_version', '')}. Rerun: "
                  f"featbench study run {study.path.name}"),
        Bullets([f"{r.name}: {_relative(r.out, study.out)}/report.md" for r in study.reports])])


def _relative(path: Path, start: Path) -> str:
    """`path` as seen from the study's output folder (no machine's absolute paths in a committed report)."""
    import os

    return os.path.relpath(path, start)


def write_study_report(resolved: Resolved) -> Report:
    """Write report.md, report.html and report.json (and study.toml) into OUT/study/; return the Report."""
    from featbench import __version__
    from featbench.report.compare import render_json
    from featbench.report.html import write_report_html
    from featbench.report.markdown import render_markdown

    study = resolved.study
    out = study.out / FOLDER
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(study.path, out / "study.toml")
    record = json.loads((study.out / "study.json").read_text(encoding="utf-8")) if (study.out / "study.json").is_file() else {}
    protocols, scores = _protocols(resolved), full_budget_scores(resolved)
    sections = [claims_section(protocols), condition_claims_section(protocols), _scores_section(scores, protocols),
                weighting_section(protocols), _statistics_section(resolved, protocols, out), _costs_section(resolved),
                _file_section(resolved, record)]
    sections = [s for s in sections if s is not None]
    title = f"Study {study.name}: {', '.join(r.name for r in study.reports) or 'no reports'}"
    report = Report(title=title, caption=f"featbench study report of {study.path.name}", version=__version__,
                    sections=sections, protocol={"study": study.name, "reports": list(protocols)}, claims=[], headline=[],
                    efficiency=[], transfer=[], normalised=[], cross_corpus=[], plans=[], notes=[], out=out)
    report.markdown = render_markdown(report)
    (out / "report.md").write_text(report.markdown, encoding="utf-8")
    write_report_html(report)
    (out / "report.json").write_text(render_json(report), encoding="utf-8")
    return report


def report_path(study) -> Path:
    return study.out / FOLDER / "report.md"
