"""What a reader of a report is told (issue 26), on synthetic results rows, rendered in memory without figures: the
folds a report really holds; a report of the baseline alone; one naming system (plain names, the codes in a legend)
and one ratio wording; the claims' second ratio with its own verdict and the first verdict accounting for it; 'not
reached' only where no interval end passes its bound; 'flat' only where the curve is; 'all' said as a mean over
unbalanced classes with the largest balanced budget; no plan toward a target at chance; the two `selected` variants
told apart; no shading promised in Markdown; no empty layer_weights.csv; the API reference."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.report.analysis import analyse
from featbench.report.claims import FULL_BUDGET_ONLY, NOT_REACHED, NOT_SIGNIFICANT, SUPPORTED, verdict
from featbench.report.compare import build_report
from featbench.report.efficiency import efficiency_ratio
from featbench.report.markdown import render_markdown
from test_ratios import FLAT, STEEP, X, rows_of

REPO = Path(__file__).resolve().parents[1]
CHANCE = [0.22, 0.24, 0.25, 0.25, 0.255]


def _made(tmp_path, rows: pd.DataFrame, baseline: str | None = "egemaps", **kw):
    """(the Report, its Markdown) of `rows`, without figures."""
    path = tmp_path / "r.csv"
    rows.to_csv(path, index=False)
    report = build_report(analyse([path], baseline=baseline, n_boot=200, **kw), tmp_path, figures=False)
    return report, render_markdown(report)


def test_a_report_of_one_fold_of_six_says_so(tmp_path):
    rows = rows_of({"egemaps": FLAT, "whisper": STEEP}, folds=6)
    report, text = _made(tmp_path, rows[rows.fold == 0])
    assert "1 of 6 speaker-independent k-group-folds (fold 0 only" in report.caption
    assert "6 speaker-independent k-group-folds x" not in text and "over 6" not in text
    assert "1 of 6 speaker-independent" in text.split("## Protocol", 1)[1]


def test_a_report_of_the_baseline_alone_says_so(tmp_path):
    report, text = _made(tmp_path, rows_of({"egemaps": FLAT}))
    assert "these results hold the baseline alone" in text and "()" not in text
    assert not report.claims


def test_plain_names_everywhere_with_the_codes_in_a_legend_and_one_ratio_wording(tmp_path):
    rows = rows_of({"egemaps-func": FLAT, "whisper@auto": STEEP}).assign(classifier="selected(logreg+svm)")
    report, text = _made(tmp_path, rows, baseline="egemaps-func")
    body = text.split("## Protocol", 1)[0]
    assert "whisper@auto" not in body and "egemaps-func (" not in body  # no code before the legend
    assert "Whisper encoder, layer chosen on validation speakers" in text.split("## Data efficiency", 1)[1]
    legend = text.split("### Legend", 1)[1]
    assert "| Whisper encoder, layer chosen on validation speakers | whisper@auto (selected(logreg+svm)) |" in legend
    assert "less labelled data" not in text and not re.search(r"\d\.\dx\b", text) and "× fewer labels" in text


def test_the_second_ratio_gets_its_own_verdict_and_the_first_accounts_for_it(tmp_path):
    report, text = _made(tmp_path, rows_of({"egemaps": FLAT, "whisper": STEEP}))
    claim = report.claims[0]
    assert verdict(claim.eff) == SUPPORTED or claim.eff.ci_low > 1  # the first ratio alone would be supported
    assert claim.eff.flat and verdict(claim.eff, plateau=True) == NOT_SIGNIFICANT
    assert claim.verdict == FULL_BUDGET_ONLY
    row = next(line for line in text.splitlines() if line.startswith("| Whisper encoder"))
    assert row.rstrip(" |").endswith(": not significant") and f"**{FULL_BUDGET_ONLY}**" in row


def test_not_reached_never_shows_an_interval_end_above_1x(tmp_path):
    close = [0.44, 0.56, 0.60, 0.615, 0.62]  # misses the baseline's 62.3% on average, reaches it in some resamples
    report, _ = _made(tmp_path, rows_of({"egemaps": FLAT, "whisper": close}, spread=0.05))
    claim = report.claims[0]
    assert claim.eff.ratio is None and claim.eff.ci_high > 1.0 and claim.eff.high_mark == ""
    assert claim.verdict == NOT_SIGNIFICANT  # 'not reached' would sit beside an end above 1x
    far = _made(tmp_path, rows_of({"egemaps": FLAT, "whisper": [0.3, 0.35, 0.38, 0.40, 0.42]}))[0].claims[0]
    assert far.verdict == NOT_REACHED and far.interval == "<\u00a01.0× to <\u00a01.0×"


def test_a_baseline_is_flat_only_where_its_curve_is():
    rng = np.random.default_rng(0)
    x = np.array(X)
    rising = np.array([0.40, 0.45, 0.513, 0.56, 0.601]) + rng.normal(0, 0.12, (6, 5))  # a wide interval at 64
    rising -= rising.mean(0) - np.array([0.40, 0.45, 0.513, 0.56, 0.601])
    better = rising + 0.1
    eff = efficiency_ratio(x, better, x, rising, n_boot=200)
    assert eff.target_low < 0.513 and not eff.flat  # 51.3% is inside the interval of 60.1%, but the curve still rises
    flat = np.array(FLAT) + rng.normal(0, 0.01, (6, 5))
    assert efficiency_ratio(x, flat + 0.1, x, flat, n_boot=200).flat


def _unbalanced(rows: pd.DataFrame) -> pd.DataFrame:
    """Every fold's test clips: 10 of three classes, 4 of the fourth."""
    def matrix(cm: str) -> str:
        cm = json.loads(cm)
        cm[3] = [round(v * 0.4) for v in cm[3]]
        return json.dumps(cm)

    return rows.assign(confusion=rows["confusion"].map(matrix))


def test_all_is_said_as_a_mean_over_unbalanced_classes_with_the_largest_balanced_budget(tmp_path):
    _, text = _made(tmp_path, _unbalanced(rows_of({"egemaps": FLAT, "whisper": STEEP})))
    summary = text.split("## Summary", 1)[1].split("## ", 1)[0]
    assert "all (mean 64/class)" in summary
    assert "the largest balanced budget every fold can serve is 20 per class" in summary  # 6 folds x 4 - 4
    assert "all (64/class)" in _made(tmp_path, rows_of({"egemaps": FLAT, "whisper": STEEP}))[1]  # balanced: exact


def test_no_label_budget_is_planned_toward_a_target_at_chance(tmp_path):
    report, text = _made(tmp_path, rows_of({"egemaps": CHANCE, "whisper": STEEP}, spread=0.04))
    planning = text.split("## Label-budget planning", 1)[1].split("## ", 1)[0]
    assert "No label budget is planned" in planning and "is reached at about" not in planning
    assert all("no label budget planned" in p for p in report.plans)


def test_baseline_given_as_a_view_of_per_speaker_rows_names_the_option(tmp_path):
    rows = rows_of({"egemaps-func": FLAT, "whisper": STEEP}).assign(normalisation="per-speaker")
    path = tmp_path / "r.csv"
    rows.to_csv(path, index=False)
    result = CliRunner().invoke(app, ["compare", str(path), "--baseline", "egemaps-func", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "--baseline-norm per-speaker" in result.output, result.output
    assert "did you mean 'egemaps-func'" not in result.output


def test_two_selected_variants_read_apart_in_the_summary(tmp_path):
    rows = rows_of({"egemaps": FLAT, "whisper": STEEP})
    both = pd.concat([rows.assign(classifier="selected"), rows.assign(classifier="selected(logreg+svm)")])
    _, text = _made(tmp_path, both)
    summary = text.split("## Summary", 1)[1].split("## ", 1)[0]
    assert "chosen on validation speakers among every classifier" in summary
    assert "chosen on validation speakers among logistic regression and SVM" in summary


def test_markdown_promises_no_shading_html_does(tmp_path):
    from featbench.report.html import render_html

    report, text = _made(tmp_path, rows_of({"egemaps": FLAT, "whisper": STEEP}))
    assert "shaded" not in text.lower() and "Shaded from chance" in render_html(report)


def test_no_empty_layer_weights_csv(tmp_path):
    from featbench.report import compare

    (tmp_path / "rep").mkdir()
    (tmp_path / "rep" / "layer_weights.csv").write_text("\n")  # an earlier report's, empty
    rows_of({"egemaps": FLAT, "whisper": STEEP}, folds=3).to_csv(tmp_path / "r.csv", index=False)
    compare([tmp_path / "r.csv"], tmp_path / "rep", baseline="egemaps", n_boot=20)
    assert not (tmp_path / "rep" / "layer_weights.csv").exists()


def test_the_api_reference_lists_every_public_name_of_featbench_report():
    """mkdocstrings (griffe) sees `featbench.report.compare` and `.aggregate` as the submodules their functions shadow:
    docs/reference/api.md names each public function of featbench.report where griffe documents it."""
    griffe = pytest.importorskip("griffe")
    import featbench.report

    page = (REPO / "docs" / "reference" / "api.md").read_text()
    shown = set(re.findall(r"^::: (\S+)", page, flags=re.M))
    module = griffe.load("featbench.report", search_paths=[str(REPO)])
    for name in featbench.report.__all__:
        member = module.members[name]
        documented = ("featbench.report" in shown and not member.is_module) or f"featbench.report.{name}.{name}" in shown
        assert documented, f"featbench.report.{name} is not in docs/reference/api.md"


def test_a_run_records_test_classes_and_family_options_and_counts_convergence_warnings(demo_store, tmp_path,
                                                                                      monkeypatch, capfd):
    """A ConvergenceWarning is counted into the rows (hp_selection) and the report, never printed; the rows record
    each fold's test clips per class of each speaker and gender, and each family's options."""
    from dataclasses import replace

    from sklearn.linear_model import LogisticRegression

    from featbench.report import compare
    from featbench.results import read_results
    from featbench.results.columns import NOT_CONVERGED
    from featbench.train import classifiers
    from featbench.train.runner import Experiment, run_training

    def stops_early(hp, seed):
        return LogisticRegression(C=hp["C"], max_iter=1, random_state=seed)  # lbfgs warns: iteration limit reached

    monkeypatch.setitem(classifiers.CLASSIFIERS, "logreg", replace(classifiers.CLASSIFIERS["logreg"], make=stops_early))
    done = run_training(Experiment(demo_store, ["egemaps-func"], ["logreg"], [2, "all"], [0], n_folds=2),
                        tmp_path / "r.csv", progress=False)
    assert "ConvergenceWarning" not in capfd.readouterr().err
    rows = read_results(tmp_path / "r.csv").rows
    assert rows["hp_selection"].str.contains(NOT_CONVERGED).all() and NOT_CONVERGED in done.summary()
    tested = json.loads(rows["test_classes"].iloc[0])
    assert set(tested) == {"speaker", "gender"} and sum(sum(c.values()) for c in tested["speaker"].values()) == \
        rows["n_test"].iloc[0]
    assert "egemaps-func" in json.loads(rows["family_options"].iloc[0])
    made = compare([tmp_path / "r.csv"], tmp_path / "rep", n_boot=20)
    assert f"4 of 4 rows: {NOT_CONVERGED}" in made.markdown.split("## Protocol", 1)[1]


def _confounded(rows: pd.DataFrame) -> pd.DataFrame:
    """Every fold tests two speakers: a man holding every angry clip and some of the rest, a woman holding the rest."""
    tested = {f: {"speaker": {f"m{f}": {"angry": 10, "happy": 5, "neutral": 5, "sad": 5},
                              f"f{f}": {"happy": 5, "neutral": 5, "sad": 5}},
                  "gender": {"male": {"angry": 10, "happy": 5, "neutral": 5, "sad": 5},
                             "female": {"happy": 5, "neutral": 5, "sad": 5}}} for f in range(6)}
    return rows.assign(test_classes=[json.dumps(tested[f]) for f in rows.fold])


def test_speakers_and_genders_confounded_with_the_classes_are_said_in_protocol_and_beside_every_breakdown(tmp_path):
    report, text = _made(tmp_path, _confounded(rows_of({"egemaps": FLAT, "whisper": STEEP})))
    protocol = text.split("## Protocol", 1)[1]
    assert "angry tested through a single speaker in every fold" in protocol
    assert "the genders hold different classes (female: no angry" in protocol
    failures = report.section("failures")
    tables = [b for b in failures.blocks if hasattr(b, "rows")]
    assert failures.blocks[0].text.startswith("Read these breakdowns as class breakdowns too")
    assert tables and all("class breakdowns" in t.caption for t in tables)  # the gender and the speaker table
    assert all("confounded with classes" in s for s in failures.blocks[1].items)
    plain = _made(tmp_path, rows_of({"egemaps": FLAT, "whisper": STEEP}))[1]
    assert "class breakdowns" not in plain and "not recorded in these rows" in plain.split("## Protocol", 1)[1]


def test_the_whisper_window_mode_is_stated(tmp_path):
    rows = rows_of({"egemaps-func": FLAT, "whisper@L4": STEEP})
    options = json.dumps({"whisper": {"model": "whisper-base", "whisper_mode": "padded", "chunk_seconds": 20.0}})
    with_mode = rows.assign(family_options=[options if v.startswith("whisper") else "" for v in rows["view"]])
    protocol = _made(tmp_path, with_mode, baseline="egemaps-func")[1].split("## Protocol", 1)[1]
    assert "| **Whisper window mode** | whisper (whisper-base): padded: every window padded to 30 s" in protocol
    old = _made(tmp_path, rows, baseline="egemaps-func")[1].split("## Protocol", 1)[1]
    assert "| **Whisper window mode** | not recorded in these rows (whisper:" in old
