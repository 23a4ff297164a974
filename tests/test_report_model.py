"""The report model (issue 20) and its readable first page (issue 21), on synthetic results rows (no store): a section
registered once is rendered by Markdown, HTML and JSON; the claims table says each claim in plain words with a verdict
word; the headline figure draws at most five series; the summary is ordered by the score at the largest budget; the
protocol is said in words; the version is printed."""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from featbench import __version__
from featbench.report import Report, compare
from featbench.report.figures import SERIES_ID
from featbench.report.model import Cell, Paragraph, Section, Table
from featbench.results import Normalisation, Setup
from test_ratios import FLAT, STEEP, rows_of

WORSE = [0.30, 0.35, 0.38, 0.40, 0.42]  # never reaches the baseline's 62.3%
STRONG = [0.62, 0.66, 0.68, 0.69, 0.70]  # reaches the baseline's 62.3% at about 4 per class: also against its 16
CHANCE = [0.22, 0.24, 0.25, 0.25, 0.255]  # 4 classes: at chance


def _report(tmp_path, curves: dict, baseline: str = "egemaps", rows: pd.DataFrame | None = None, **kw) -> Report:
    path = tmp_path / "r.csv"
    (rows if rows is not None else rows_of(curves, **kw)).to_csv(path, index=False)
    return compare([path], tmp_path / "rep", baseline=baseline, n_boot=100)


def test_a_section_registered_once_is_in_markdown_html_and_json(tmp_path, monkeypatch):
    from featbench.report import sections

    def extra(inputs):
        return Section("extra-check", "An extra section", [Paragraph(f"{len(inputs.claims)} claims seen"),
                                                            Table(["what", "n"], [[Cell("rows"), Cell("7", num=True)]])])

    monkeypatch.setattr(sections, "SECTIONS", [*sections.SECTIONS, extra])
    made = _report(tmp_path, {"egemaps": FLAT, "whisper": STEEP})
    out = tmp_path / "rep"
    assert "## An extra section" in (out / "report.md").read_text() and "1 claims seen" in made.markdown
    page = (out / "report.html").read_text()
    assert '<section id="extra-check">' in page and 'href="#extra-check"' in page  # the section and its contents line
    saved = json.loads((out / "protocol.json").read_text())
    assert [s["id"] for s in saved["sections"]][-1] == "extra-check"
    assert saved["sections"][-1]["blocks"][1]["rows"][0][1]["text"] == "7"


@pytest.mark.parametrize("curves, word", [
    ({"egemaps": FLAT, "whisper": STRONG}, "supported"),
    ({"egemaps": FLAT, "whisper": STEEP}, "only against the full budget"),
    ({"egemaps": FLAT, "whisper": WORSE}, "not reached"),
    ({"egemaps": CHANCE, "whisper": STEEP}, "baseline at chance"),
])
def test_claims_table_opens_the_report_with_a_verdict_word(tmp_path, curves, word):
    made = _report(tmp_path, curves, spread=0.04 if word == "baseline at chance" else 0.03)
    assert made.sections[0].id == "claims" and [c.verdict for c in made.claims] == [word]
    claims = made.markdown.split("## Claims", 1)[1].split("## Summary", 1)[0]
    assert f"**{word}**" in claims and "less labelled data" not in claims and "does not reach" not in claims
    assert "| Whisper encoder, logistic regression | egemaps, logistic regression |" in claims  # else its own name
    assert "table id=\"claims\"" in (tmp_path / "rep" / "report.html").read_text()


def test_claims_name_entries_in_plain_words_with_both_interval_ends(tmp_path):
    rows = pd.concat([rows_of({"egemaps-func": FLAT, "whisper@auto": STEEP}),
                      rows_of({"egemaps-func": [v + 0.05 for v in FLAT]}, seed=1).assign(
                          **Setup("egemaps-func", normalisation=Normalisation("per-speaker")).columns())]).assign(
        classifier="selected")  # chosen on validation speakers: not named in the claims
    made = _report(tmp_path, {}, baseline="egemaps-func", rows=rows)
    words = [(c.entry_words, c.counterpart_words, c.kind) for c in made.claims]
    assert ("Whisper encoder, layer chosen on validation speakers", "eGeMAPS functionals", "against the baseline") in words
    assert ("eGeMAPS functionals, per-speaker normalisation", "eGeMAPS functionals", "per-speaker normalisation") in words
    first = made.claims[0]
    assert re.fullmatch(r"\d+\.\d× to \d+\.\d×", first.interval) and first.ratio.endswith("×")


def test_headline_figure_draws_the_baseline_and_at_most_four_honest_entries(tmp_path):
    curves = {"egemaps": FLAT, **{f"v{k}": [v + 0.01 * k for v in STEEP] for k in range(6)}}
    made = _report(tmp_path, curves)
    svg = (tmp_path / "rep" / "learning_curves.svg").read_text()
    drawn = sorted(set(re.findall(rf'id="({SERIES_ID}\d+)"', svg)))
    assert len(drawn) == 5, drawn
    figure = made.section("claims").blocks[-1]
    assert figure.stem == "learning_curves" and figure.series[0] == "baseline: egemaps, logistic regression"  # as named
    assert "v0," in figure.caption and "v5," not in figure.caption  # the lowest left out, and said so


def test_summary_is_best_first_and_protocol_is_said_in_words(tmp_path):
    made = _report(tmp_path, {"egemaps": FLAT, "whisper": STEEP, "fbank": WORSE})
    summary = (tmp_path / "rep" / "summary.md").read_text()
    order = re.findall(r"^\| \**([\w ]+)", summary.split("|---", 1)[1], flags=re.M)
    assert [o.strip() for o in order] == ["Whisper encoder", "egemaps", "log"] and "all (64/class)" in summary  # plain names
    protocol = made.markdown.split("## Protocol", 1)[1]
    assert "target_ua" not in protocol and "{" not in protocol and "[" not in protocol
    assert "62.3% (the baseline's score at its reference budget)" in protocol and "seeds 0" in protocol
    assert made.title == "syn, 4 classes" and made.markdown.startswith("# featbench report: syn, 4 classes")
    assert f"featbench {__version__}" in made.markdown and __version__ == "0.4.0"
    assert f"featbench {__version__}" in (tmp_path / "rep" / "report.html").read_text().split("<footer>", 1)[1]


def test_title_says_the_baselines_normalisation(tmp_path):
    rows = rows_of({"egemaps-func": FLAT, "whisper": STEEP}).assign(normalisation="per-speaker")
    made = _report(tmp_path, {}, baseline="egemaps-func [per-speaker normalisation]", rows=rows)
    assert made.title == "syn, 4 classes, per-speaker normalisation"
    assert "store" not in made.title


def test_an_entry_measured_at_one_budget_gets_no_ratio(tmp_path):
    rows = rows_of({"egemaps": FLAT, "whisper": STEEP})
    made = _report(tmp_path, {}, rows=rows[(rows.family == "egemaps") | (rows.budget == "all")])
    assert [(c.verdict, c.ratio, c.needed) for c in made.claims] == [("one budget: no ratio", "no ratio", "n/a")]
    assert "no curve to read a ratio from" in made.markdown
