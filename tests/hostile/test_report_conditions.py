"""Surface: recording-condition texts inside results rows (`test_condition`, `train_condition`, results schema 4) as
the report writes them: the Robustness section, the robustness claims, robustness.csv, the figure's panels and ticks.

The contract is test_report_names': every text escaped in Markdown and HTML, tables intact, every text readable in
the page, protocol.json read back, no markup in the SVG. A text the conditions parser does not know is split on ':'
(report.conditions), never refused: the rows were checked when they were written. In-process cases hand the rows to
report.analysis.analyse_rows (as read_one_protocol returns them) and render without figures; one test draws them.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

from hostile.contract import Case, Surface, campaign, cases_budget
from hostile.test_report_names import NAMES, check_rendered, results_rows

SHAPES = ("{}", "white:10+{}", "{}:10", "babble:{}", "multi:{},white:10")


def condition_rows(test: str, train: str = "clean", folds: int = 3) -> pd.DataFrame:
    """Two entries' rows (test_report_names.results_rows) tested clean and under `test`, trained under `train`."""
    from featbench.results import labels

    clean = results_rows({}, folds)
    rows = pd.concat(
        [clean.assign(test_condition="clean"), clean.assign(test_condition=test, ua=clean["ua"] - 0.05)],
        ignore_index=True,
    ).assign(train_condition=train)
    rows["family"] = labels(rows)
    return rows


def render_rows(rows: pd.DataFrame, out: Path | None = None) -> dict[str, str]:
    """The report of `rows` rendered in memory (figures drawn into `out` where given): Markdown, summary, HTML, JSON."""
    from featbench.report.analysis import analyse_rows
    from featbench.report.compare import build_report, render_json
    from featbench.report.html import render_html
    from featbench.report.markdown import blocks_markdown, render_markdown

    report = build_report(analyse_rows(rows, [], ["results.csv"], n_boot=20), out or Path("."), figures=out is not None)
    return {
        "md": render_markdown(report),
        "summary": blocks_markdown(report.section("summary").blocks),
        "html": render_html(report),
        "json": render_json(report),
    }


def _case(text: str, train: str) -> dict[str, str]:
    out = render_rows(condition_rows(text, train))
    assert "## Robustness" in out["md"], "no Robustness section"
    return out


def condition_cases(rng: random.Random, workdir: Path):
    while True:
        test = rng.choice(SHAPES).format(rng.choice(NAMES))
        train = rng.choice(["clean", test]) if not test.startswith("multi:") else test
        names = {"test condition": test} | ({"train condition": train} if train != "clean" else {})
        yield Case(
            f"{names!r}"[:200],
            lambda test=test, train=train: _case(test, train),
            check=lambda out, names=names: check_rendered(out, names),
            names=[],
            seconds=30,
        )


SURFACE = Surface("report conditions", condition_cases)


def test_hostile_condition_texts_are_escaped_in_every_report(tmp_path):
    campaign(SURFACE, cases_budget(10), tmp_path).assert_clean(at_least=10)


def test_every_hostile_name_as_a_test_condition(tmp_path):
    for name in NAMES:
        if name.strip() and name.strip() != "clean":
            check_rendered(_case(name, "clean"), {"test condition": name})


def test_hostile_conditions_in_the_figure(tmp_path, recwarn):
    """The robustness figure's panels and ticks (matplotlib SVG): no raw markup, no mathtext error."""
    rows = pd.concat(
        [condition_rows(text) for text in ("<script>alert(1)</script>:10", "white:$\\notacommand$", "\u202eevil")],
        ignore_index=True,
    )
    rows = rows.drop_duplicates(["family", "fold", "budget", "test_condition"])
    out = render_rows(rows, tmp_path)
    check_rendered(out, {"a": "<script>alert(1)</script>:10", "b": "white:$\\notacommand$"})
    svg = (tmp_path / "robustness.svg").read_text()
    assert "<script" not in svg and "&lt;script&gt;" in svg
    assert not [w for w in recwarn if "Glyph" in str(w.message)], [str(w.message) for w in recwarn][:3]
