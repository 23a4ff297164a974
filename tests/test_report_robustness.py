"""The report's Robustness section (issue 27), on synthetic results rows carrying `train_condition` and
`test_condition` (results schema 4): degraded test rows change no other section; the drop from clean and its paired
interval over folds equal a hand computation; the robustness claims' verdicts; the figure, the CSV, the matched /
multi-condition table and the command line's lines.

Rows are handed to `report.analysis.analyse_rows` as `read_one_protocol` returns them (the results reader of this
branch does not read schema 4 files yet); the command line test replaces the reader."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from featbench.report.analysis import analyse_rows
from featbench.report.compare import build_report, render_json, robustness_table
from featbench.report.markdown import render_markdown
from featbench.results import labels
from test_ratios import FLAT, STEEP, rows_of

FOLDS, SEEDS = 3, 2


def condition_rows(drops: dict[str, dict[str, float]], curves: dict | None = None, folds: int = FOLDS,
                   seed_noise: float = 0.01, train: str = "clean", fold_noise: float = 0.0) -> pd.DataFrame:
    """Rows of each entry of `curves` (default egemaps FLAT, whisper STEEP) x `folds` folds x SEEDS seeds, tested
    clean and under each condition of `drops` ({condition: {family: its known drop}}): a row under a condition is the
    same row's clean score minus the drop (plus `fold_noise` x (fold - 1) for the second family, if given)."""
    rng = np.random.default_rng(7)
    clean = rows_of(curves or {"egemaps": FLAT, "whisper": STEEP}, folds=folds)
    seeded = []
    for seed in range(SEEDS):
        part = clean.assign(seed=seed)
        part["ua"] = part["ua"] + rng.normal(0, seed_noise, len(part))
        seeded.append(part)
    clean = pd.concat(seeded, ignore_index=True).assign(test_condition="clean", train_condition=train)
    out = [clean]
    for condition, by_family in drops.items():
        for k, (family, drop) in enumerate(by_family.items()):
            part = clean[clean["family"] == family].copy()
            part["ua"] = part["ua"] - drop - (fold_noise * (part["fold"] - 1) if k else 0.0)
            out.append(part.assign(test_condition=condition))
    return pd.concat(out, ignore_index=True)


def analysed(rows: pd.DataFrame, **kw):
    rows = rows.copy()
    rows["family"] = labels(rows)
    return analyse_rows(rows, [], ["r.csv"], **{"baseline": "egemaps", "n_boot": 100, **kw})


def report(rows: pd.DataFrame, out: Path, figures: bool = False, **kw):
    return build_report(analysed(rows, **kw), out, figures=figures)


def test_degraded_rows_change_no_other_section(tmp_path):
    """Clean rows plus degraded ones give every existing section, claim, ratio and curve of the clean rows alone."""
    both = condition_rows({"white:10": {"egemaps": 0.2, "whisper": 0.05}, "telephone": {"egemaps": 0.1, "whisper": 0.1}})
    clean = both[both["test_condition"] == "clean"].drop(columns=["test_condition", "train_condition"])  # schema 3
    made, alone = report(both, tmp_path / "a"), report(clean, tmp_path / "b")
    assert [s.id for s in made.sections if s.id != "robustness"] == [s.id for s in alone.sections]
    assert made.section("robustness") is not None and alone.section("robustness") is None
    for section in alone.sections:
        blocks, own = made.section(section.id).blocks, section.blocks
        if section.id == "statistics":  # the same tests over folds; then the tests over the test conditions as blocks
            cut = next(i for i, b in enumerate(own) if getattr(b, "text", "").startswith("Across independent blocks"))
            blocks, own = blocks[:cut + 1], own[:cut + 1]
        assert blocks[:len(own)] == own, section.id
        assert section.id == "claims" or len(blocks) == len(own), section.id  # claims: robustness after
    assert [c.as_dict() for c in made.claims] == [c.as_dict() for c in alone.claims]
    assert made.headline == alone.headline and made.efficiency == alone.efficiency and made.plans == alone.plans
    pd.testing.assert_frame_equal(analysed(both).agg, analysed(clean).agg)


def _hand_drops(rows: pd.DataFrame, family: str, condition: str) -> np.ndarray:
    """Per fold: mean over seeds of (clean - degraded) at the largest budget, by hand."""
    at = rows[(rows["family"] == family) & (rows["budget"] == rows["budget"].iloc[-1])]
    drops = []
    for fold in sorted(at["fold"].unique()):
        per_seed = [at[(at.fold == fold) & (at.seed == seed) & (at.test_condition == "clean")]["ua"].iloc[0]
                    - at[(at.fold == fold) & (at.seed == seed) & (at.test_condition == condition)]["ua"].iloc[0]
                    for seed in range(SEEDS)]
        drops.append(np.mean(per_seed))
    return np.array(drops)


def _t(values: np.ndarray) -> tuple[float, float]:
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return values.mean() - half, values.mean() + half


def test_drop_and_its_interval_equal_a_hand_computation(tmp_path):
    rows = condition_rows({"white:10": {"egemaps": 0.15, "whisper": 0.05}}, fold_noise=0.02)
    rows["ua"] += np.random.default_rng(3).normal(0, 0.01, len(rows))  # every row its own: the pairing matters
    a = analysed(rows)
    drops = {d.family: d for d in a.robustness.drops}
    for family in ("egemaps", "whisper"):
        hand = _hand_drops(rows, family, "white:10")
        assert drops[family].mean == pytest.approx(hand.mean(), abs=1e-12)
        assert (drops[family].ci_low, drops[family].ci_high) == pytest.approx(_t(hand), abs=1e-12)
        assert drops[family].n_folds == FOLDS and drops[family].budget == "all"
    (claim,) = a.robustness.comparisons
    difference = _hand_drops(rows, "whisper", "white:10") - _hand_drops(rows, "egemaps", "white:10")
    assert claim.difference == pytest.approx(difference.mean(), abs=1e-12)
    assert (claim.ci_low, claim.ci_high) == pytest.approx(_t(difference), abs=1e-12)
    text = render_markdown(build_report(a, tmp_path, figures=False))
    low, high = _t(_hand_drops(rows, "egemaps", "white:10"))
    assert f"95% CI {low * 100:.1f} to {high * 100:.1f}" in text.split("## Robustness", 1)[1]
    table = robustness_table(a)
    assert set(table.columns) >= {"corpus", "classes", "n_folds", "seeds", "metric", "budget", "train_condition",
                                  "test_condition", "drop", "ci_low", "ci_high"}


@pytest.mark.parametrize("drops, word", [
    ({"egemaps": 0.20, "whisper": 0.05}, "supported"),  # whisper loses 15 points less, in every fold
    ({"egemaps": 0.10, "whisper": 0.10}, "not significant"),  # the same drop, fold noise around it
    ({"egemaps": 0.05, "whisper": 0.20}, "larger drop"),
])
def test_robustness_claim_verdicts(tmp_path, drops, word):
    rows = condition_rows({"white:10": drops}, fold_noise=0.01)
    made = report(rows, tmp_path)
    (claim,) = made.robustness_claims
    assert claim.verdict == word
    assert claim.sentence.startswith("Under white:10 (trained clean, budget all, 3 folds): Whisper encoder")
    assert claim.sentence.endswith(f": {word}")
    claims = made.section("claims")
    assert any(getattr(b, "id", "") == "robustness-claims" for b in claims.blocks)
    saved = json.loads(render_json(made))
    assert saved["robustness_claims"][0]["verdict"] == word and saved["robustness_claims"][0]["test_condition"] == "white:10"


def test_one_fold_gives_no_interval_and_no_verdict(tmp_path):
    made = report(condition_rows({"white:10": {"egemaps": 0.2, "whisper": 0.05}}, folds=1), tmp_path)
    (claim,) = made.robustness_claims
    assert claim.verdict == "one fold: no test" and "one fold: no interval" in claim.sentence


def test_efficiency_is_recomputed_under_each_condition(tmp_path):
    """The ratio under a condition reads that condition's rows: a baseline hurt most at the full budget gives whisper
    a larger ratio there than on clean speech."""
    rows = condition_rows({"white:10": {"egemaps": 0.2, "whisper": 0.05}})
    a = analysed(rows)
    ((test, pair),) = a.robustness.ratios
    clean = next(p for p in a.ratios if p.family == pair.family)
    assert test == "white:10" and pair.eff.target == pytest.approx(clean.eff.target - 0.2, abs=0.01)
    section = build_report(a, tmp_path, figures=False).section("robustness")
    table = next(b for b in section.blocks if getattr(b, "id", "") == "robustness-efficiency")
    assert [r[2].text for r in table.rows] == ["clean", "white:10"]


def test_matched_and_multi_condition_training_are_set_side_by_side(tmp_path):
    clean = condition_rows({"white:10": {"egemaps": 0.2, "whisper": 0.05}})
    matched = condition_rows({"white:10": {"egemaps": 0.05, "whisper": 0.02}}, train="white:10")
    matched = matched.assign(ua=matched["ua"] - 0.03)  # trained on noise: a little lower on clean speech
    multi = condition_rows({"white:10": {"egemaps": 0.08, "whisper": 0.03}}, train="multi:white:10,white:20")
    a = analysed(pd.concat([clean, matched, multi], ignore_index=True))
    section = build_report(a, tmp_path, figures=False).section("robustness")
    table = next(b for b in section.blocks if getattr(b, "id", "") == "robustness-matched")
    assert table.columns[2:] == ["trained clean (mismatched)", "trained under the test condition (matched)",
                                 "trained multi:white:10,white:20 (multi-condition)"]
    row = next(r for r in table.rows if r[0].text.startswith("egemaps"))
    assert row[1].text == "white:10" and all(c.text for c in row[2:])
    assert float(row[2].text.split()[0]) == pytest.approx(62.3 - 20, abs=1.5)  # mismatched: loses 20 points
    assert float(row[3].text.split()[0]) == pytest.approx(62.3 - 3 - 5, abs=1.5)
    claims = {(c.entry.family, c.entry.test) for c in a.robustness.comparisons}
    assert claims == {("whisper", "white:10")}  # the claims compare entries trained clean only
    assert [p.family for p in a.ratios] == ["whisper"] and a.honest == ["whisper"]  # no ratio across conditions
    assert set(a.apart) == {f for f in a.entries if "trained on" in f or "multi-condition" in f} and len(a.apart) == 4


def test_figure_csv_and_command_line(tmp_path, monkeypatch):
    import featbench.report.analysis as analysis
    from featbench.cli import app

    rows = condition_rows({"white:20": {"egemaps": 0.1, "whisper": 0.03}, "white:10": {"egemaps": 0.2, "whisper": 0.05},
                           "lowpass:4000": {"egemaps": 0.05, "whisper": 0.05}, "telephone": {"egemaps": 0.1, "whisper": 0.1}})
    rows["family"] = labels(rows)
    monkeypatch.setattr(analysis, "read_one_protocol", lambda paths: (rows.copy(), []))
    result = CliRunner().invoke(app, ["compare", "r.csv", "--baseline", "egemaps", "--out", str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("Under white:10 (trained clean, budget all, 3 folds): ") and line.endswith(": supported")
               for line in lines)
    assert any(line.startswith("Under telephone: Whisper encoder") for line in lines)
    out = tmp_path / "rep"
    assert (out / "robustness.png").stat().st_size > 10_000 and (out / "robustness.svg").is_file()
    assert len(pd.read_csv(out / "robustness.csv")) == 8  # 2 entries x 4 conditions
    markdown = (out / "report.md").read_text()
    assert "![Score against recording condition](robustness.png)" in markdown.split("## Robustness", 1)[1]
    assert "robustness.png" not in markdown.split("## Figures", 1)[1]
    svg = (out / "robustness.svg").read_text()
    for tick in ("clean", "20", "10", "4000", "telephone", "SNR (dB)", "cut-off (Hz)"):
        assert f"<!-- {tick} -->" in svg, tick


def test_a_blank_condition_cell_is_one_error_line_and_an_empty_one_is_clean():
    """An empty cell is a row without a condition (clean); a blank that is not empty would have been read as clean
    and averaged into the clean rows: refused, naming the file, the line and the column."""
    from featbench.errors import FeatbenchError
    from featbench.report.rows import check_rows

    rows = condition_rows({"white:10": {"egemaps": 0.2, "whisper": 0.05}})
    assert len(analysed(rows.assign(test_condition=rows["test_condition"].replace("clean", ""))).rows) == 60
    rows.loc[61, "test_condition"] = " "
    with pytest.raises(FeatbenchError, match=r"^r\.csv: line 63: test_condition is ' ', blank: not a recording"):
        check_rows("r.csv", rows)
    with pytest.raises(FeatbenchError, match="test_condition is ' ', blank"):
        analysed(rows)


def test_a_matched_entry_tested_only_under_its_own_condition_fills_the_matched_column(tmp_path):
    clean = condition_rows({"white:10": {"egemaps": 0.2, "whisper": 0.05}})
    matched = condition_rows({"white:10": {"egemaps": 0.05, "whisper": 0.02}}, train="white:10")
    matched = matched[matched["test_condition"] == "white:10"]  # as `--test-condition white:10` alone writes it
    a = analysed(pd.concat([clean, matched], ignore_index=True))
    table = next(b for b in build_report(a, tmp_path, figures=False).section("robustness").blocks
                 if getattr(b, "id", "") == "robustness-matched")
    row = next(r for r in table.rows if r[0].text.startswith("egemaps") and r[1].text == "white:10")
    assert row[2].text and row[3].text  # mismatched and matched both filled
