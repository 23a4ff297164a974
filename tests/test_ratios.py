"""Numbers that stay true (issue 19): the efficiency ratios, intervals and checks `compare` prints, on synthetic
results rows whose truth is known (a baseline that plateaus, one at chance, one fold, two corpora, damaged rows)."""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.report import compare
from featbench.report.efficiency import efficiency_ratio
from featbench.report.scale import CCC_METRIC, UA_METRIC, scale_of
from featbench.results import CROSS, RESULT_COLUMNS, Setup

LABELS = ["angry", "happy", "neutral", "sad"]
BUDGETS = ["4", "8", "16", "32", "all"]
X = [4.0, 8.0, 16.0, 32.0, 64.0]
CI = r"95% CI (?:< |≥ )?\d+\.\d× to (?:< |≥ )?\d+\.\d×"  # both ends of an interval, each possibly a bound


def _confusion(ua: float, n: int = 10) -> list[list[int]]:
    """A 4-class confusion matrix of n clips per class whose recall is about `ua` for every class."""
    right = int(round(min(max(ua, 0.0), 1.0) * n))
    rows = []
    for i in range(len(LABELS)):
        row = [0] * len(LABELS)
        row[i] = right
        row[(i + 1) % len(LABELS)] = n - right
        rows.append(row)
    return rows


def rows_of(curves: dict[str, list[float]], folds: int = 6, spread: float = 0.03, x=None, seed: int = 0,
            corpus: str = "syn", metric: str = UA_METRIC) -> pd.DataFrame:
    """Results rows: per family its mean curve over BUDGETS, each fold shifted by a centred offset (sd `spread`), so
    the fold mean is the curve exactly; x: per family its examples per class (default X)."""
    rng = np.random.default_rng(seed)
    out = []
    for family, means in curves.items():
        offsets = rng.normal(0, spread, folds) if folds > 1 else np.zeros(1)
        offsets -= offsets.mean()
        for fold in range(folds):
            for budget, xb, mean in zip(BUDGETS, (x or {}).get(family, X), means):
                ua = float(mean + offsets[fold])
                row = dict.fromkeys(RESULT_COLUMNS, "")
                row.update(corpus=corpus, classes=",".join(LABELS), n_classes=4, fold_scheme="k-group-folds",
                           n_folds=folds, fold=fold, test_groups=f"s{fold}", seed=0, budget=budget,
                           examples_per_class=xb, n_train=int(xb * 4), n_test=40, family=family, family_config_hash="h",
                           level="utterance", classifier="logreg", hparams="{}", hp_selection="defaults", metric=metric,
                           ua=ua, wa=ua, macro_f1=ua, fit_seconds=0.1, predict_seconds=0.01, featbench_version="0.3",
                           val_ua="", choice="{}", ua_by_speaker=json.dumps({f"s{fold}": ua}),
                           ua_by_gender=json.dumps({"F": ua, "M": ua}))
                row.update(Setup(family).columns())
                if metric == UA_METRIC:
                    row.update(confusion=json.dumps(_confusion(ua)), labels=json.dumps(LABELS))
                out.append(row)
    return pd.DataFrame(out, columns=RESULT_COLUMNS)


def _write(rows: pd.DataFrame, path) -> str:
    rows.to_csv(path, index=False)
    return str(path)


FLAT = [0.40, 0.55, 0.62, 0.621, 0.623]  # reaches its full-data score (62.3%) already at 16 per class
STEEP = [0.50, 0.60, 0.64, 0.66, 0.70]  # matches 62.3% between 8 and 16 per class


def test_a_flat_baseline_prints_both_ratios_with_both_interval_ends(tmp_path):
    path = _write(rows_of({"egemaps": FLAT, "whisper": STEEP}), tmp_path / "r.csv")
    made = compare([path], tmp_path / "rep", baseline="egemaps", n_boot=300)
    line = made.headline[0]
    study = re.search(r"with (\d+) per class: (\d+\.\d)× fewer labels", line)
    assert study and 5.0 < float(study.group(2)) < 7.0  # against the full budget: 64 / ~11
    assert "where the baseline stops improving" in line and "16 per class" in line and "flat" in line
    plateau = re.search(r"stops improving[^:]*: (\d+\.\d)×", line)
    assert plateau and 1.2 < float(plateau.group(1)) < 1.8  # against 16 per class: 16 / ~11
    assert len(re.findall(CI, line)) == 2, line  # each ratio with both ends of its interval
    table = pd.read_csv(tmp_path / "rep" / "efficiency.csv")
    assert {"plateau_x", "plateau_ratio", "flat"} <= set(table.columns) and bool(table.flat.iloc[0])


def test_a_baseline_that_keeps_improving_is_not_flagged_flat(tmp_path):
    rising = [0.35, 0.45, 0.52, 0.58, 0.64]
    path = _write(rows_of({"egemaps": rising, "whisper": [0.5, 0.6, 0.64, 0.66, 0.7]}, spread=0.005), tmp_path / "r.csv")
    line = compare([path], tmp_path / "rep", baseline="egemaps", n_boot=200).headline[0]
    assert "where the baseline stops improving" in line and "flat" not in line


def test_a_baseline_at_chance_gives_no_ratio(tmp_path):
    chance_like = [0.22, 0.24, 0.25, 0.25, 0.255]  # 4 classes: chance 25%, inside the 95% interval at "all"
    path = _write(rows_of({"egemaps": chance_like, "whisper": STEEP}, spread=0.04), tmp_path / "r.csv")
    made = compare([path], tmp_path / "rep", baseline="egemaps", n_boot=100)
    assert made.headline and all("baseline at chance: no ratio" in h for h in made.headline)
    assert not any("fewer labels" in s for s in made.efficiency)


def test_a_ccc_baseline_at_no_agreement_gives_no_ratio():
    units_b = np.array([[0.0, 0.02, 0.05], [0.01, -0.03, -0.04], [-0.02, 0.03, 0.01]])
    units_a = units_b + 0.4
    eff = efficiency_ratio(np.array(X[:3]), units_a, np.array(X[:3]), units_b, "a", "b", n_boot=50,
                           scale=scale_of({"metric": CCC_METRIC}))
    assert "baseline at chance: no ratio" in eff.sentence(scale_of({"metric": CCC_METRIC})) and eff.ratio is None


def test_a_censored_lower_end_keeps_the_upper_end():
    rng = np.random.default_rng(0)
    x = np.array(X)
    base = np.array([0.40, 0.50, 0.60, 0.65, 0.70])
    units_b = base + rng.normal(0, 0.01, (8, 5))
    units_a = np.array([0.45, 0.55, 0.62, 0.66, 0.705]) + rng.normal(0, 0.03, (8, 5))  # reaches 70% only just
    eff = efficiency_ratio(x, units_a, x, units_b, n_boot=500)
    assert 0.025 < 1 - eff.reached_fraction < 0.975, eff.reached_fraction
    sentence = eff.sentence()
    assert re.search(r"95% CI < 1\.0× to \d+\.\d×", sentence), sentence
    assert "not reached in" not in sentence


def test_one_fold_has_no_interval(tmp_path):
    path = _write(rows_of({"egemaps": [0.40, 0.50, 0.55, 0.60, 0.62], "whisper": STEEP}, folds=1), tmp_path / "r.csv")
    made = compare([path], tmp_path / "rep", baseline="egemaps", n_boot=50)
    summary = (tmp_path / "rep" / "summary.md").read_text()
    assert "± 0.0" not in summary and "one fold: no interval" in summary
    assert "1.0x to 1.0x" not in made.markdown and "one fold: no interval" in made.headline[0]


def test_ua_intervals_stay_between_0_and_100(tmp_path):
    from featbench.report.aggregate import aggregate
    from featbench.report.breakdown import by_gender, spread_sentences

    rows = rows_of({"egemaps": [0.5, 0.6, 0.8, 0.95, 0.97], "whisper": STEEP}, folds=3, spread=0.08)
    agg = aggregate(rows)
    assert (agg.ci_high <= 1.0).all() and (agg.ci_low >= 0.0).all()
    rows["ua_by_gender"] = [json.dumps({"F": 0.2 + 0.6 * (r.fold % 2), "M": 0.5}) for r in rows.itertuples()]
    genders = by_gender(rows, [("egemaps", "logreg")])
    assert (genders.ci_low >= 0).all() and (genders.ci_high <= 1).all()
    text = " ".join(spread_sentences(pd.DataFrame({"entry": ["egemaps (logreg)"], "speaker": ["s0"], "ua": [0.5],
                                                   "budget": ["all"]}), genders.assign(entry="egemaps (logreg)"),
                                     scale_of({"metric": UA_METRIC, "n_classes": 4})))
    assert not re.search(r"-\d|1[0-9][0-9]\.\d%", text.replace("100.0%", "")), text


def test_two_corpora_compare_like_with_like(tmp_path):
    within = rows_of({"egemaps": FLAT, "whisper": STEEP}, x={"egemaps": X[:4] + [67.0], "whisper": X[:4] + [67.0]})
    cross = rows_of({"whisper": [0.30, 0.35, 0.40, 0.42, 0.45]}, x={"whisper": X[:4] + [176.0]}, seed=3)
    cross = cross.assign(**Setup("whisper", CROSS, "other").columns())  # shown as 'whisper [from other]'
    path = _write(pd.concat([within, cross]), tmp_path / "r.csv")
    made = compare([path], tmp_path / "rep", baseline="egemaps", n_boot=100)
    summary = (tmp_path / "rep" / "summary.md").read_text()
    assert "all (67/class)" in summary and "176" in summary  # the target's count in the header, the other's said
    assert not any("trained on other only" in s and "fewer labels" in s for s in made.efficiency + made.headline)
    cross_lines = made.cross_corpus  # 'whisper [from other]', in plain words
    assert len(cross_lines) == 1 and cross_lines[0].startswith("Whisper encoder, trained on other only")
    assert "above chance" in cross_lines[0] and "recall" in cross_lines[0] and "angry" in cross_lines[0]
    assert "## Cross-corpus" in made.markdown and "Cross-corpus" in (tmp_path / "rep" / "report.html").read_text()


@pytest.mark.parametrize("column, value, said", [
    ("examples_per_class", 0, "examples_per_class"),
    ("confusion", "[[1, 2], [3", "confusion"),
    ("budget", "", "budget"),
    ("budget", "eight", "budget"),
    ("ua", "inf", "ua"),
])
def test_damaged_rows_are_refused_before_any_file_is_written(tmp_path, column, value, said):
    rows = rows_of({"egemaps": FLAT, "whisper": STEEP}, folds=3)
    rows[column] = rows[column].astype(object)
    rows.loc[7, column] = value
    path = _write(rows, tmp_path / "r.csv")
    result = CliRunner().invoke(app, ["compare", path, "--out", str(tmp_path / "rep")])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert "r.csv" in lines[0] and "line 9" in lines[0] and said in lines[0], lines[0]
    assert not (tmp_path / "rep").exists()
