import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.report.curvefit import fit_power_law, plan_budget, power_law, required_examples
from featbench.report.efficiency import efficiency_ratio

X = np.array([4.0, 8, 16, 32, 64, 128, 256, 512])


def _units(curve, n_units=18, noise=0.01, seed=0):
    rng = np.random.default_rng(seed)
    return curve[None, :] + rng.normal(0, noise, (n_units, curve.size))


def test_efficiency_ratio_recovers_a_known_factor():
    baseline = power_law(X, 0.7, 0.6, 0.4)
    better = power_law(X * 8, 0.7, 0.6, 0.4)  # reaches at n what the baseline reaches at 8n
    eff = efficiency_ratio(X, _units(better), X, _units(baseline, seed=1), reference=-2, n_boot=500)
    assert eff.ratio == pytest.approx(8.0, rel=0.25)
    assert eff.ci_low <= 8.0 <= eff.ci_high
    assert "× fewer labels" in eff.sentence()


def test_efficiency_ratio_not_reached():
    baseline = power_law(X, 0.8, 0.6, 0.4)
    worse = baseline - 0.2
    eff = efficiency_ratio(X, _units(worse), X, _units(baseline, seed=1), n_boot=200)
    assert eff.ratio is None and "not reached" in eff.sentence()


def test_curve_fit_recovers_parameters_and_budget():
    truth = (0.75, 0.8, 0.5)
    fit = fit_power_law(X, power_law(X, *truth))
    assert fit == pytest.approx(truth, abs=1e-3)
    needed = required_examples(truth, 0.7)
    assert needed == pytest.approx((0.8 / 0.05) ** 2)
    measured = plan_budget(X, _units(power_law(X, *truth), noise=0.005), 0.7, n_boot=20)
    assert measured.measured_x == pytest.approx(needed, rel=0.2) and "measured" in measured.sentence()
    covered = 0
    for draw in range(10):  # a 95% interval should cover the truth in most noisy draws
        plan = plan_budget(X[:6], _units(power_law(X[:6], *truth), noise=0.003, seed=draw), 0.7, n_boot=100)
        assert plan.needed == pytest.approx(needed, rel=0.3)
        assert plan.extrapolated and "EXTRAPOLATED" in plan.sentence()  # 256 lies beyond the measured 128
        covered += plan.ci_low <= needed <= plan.ci_high
    assert covered >= 7
    assert "not reachable" in plan_budget(X, _units(power_law(X, *truth), noise=0.005), 0.9, n_boot=20).sentence()
    slow = plan_budget(X, _units(power_law(X, 0.75, 0.8, 0.1), noise=0.002), 0.74, n_boot=20)
    assert slow.needed > 100 * X.max() and "too far to extrapolate" in slow.sentence()


def test_no_fit_with_fewer_than_three_budgets_and_no_warning(recwarn):
    plan = plan_budget(X[:2], _units(power_law(X[:2], 0.75, 0.8, 0.5)), 0.74, n_boot=10)
    assert plan.params is None and "no curve fit with 2 budget(s)" in plan.sentence()
    fit_power_law(X[:3], np.array([0.3, 0.5, 0.55]))  # an ill-conditioned fit warns in scipy; not here
    assert not [w for w in recwarn if "scipy" in str(w.filename) or "Covariance" in str(w.message)]


def test_a_fit_pinned_at_a_bound_gives_no_extrapolation():
    # a curve still rising steeply at its last budget: the least-squares asymptote runs into its bound a = 1
    x = np.array([4.0, 8, 16, 32, 64])
    units = _units(np.array([0.30, 0.42, 0.55, 0.68, 0.80]), noise=0.002)
    plan = plan_budget(x, units, 0.95, n_boot=10)
    assert plan.at_bound and plan.needed is None
    assert "sits at a bound" in plan.sentence() and "examples per class for" not in plan.sentence()


def test_censored_ratios_are_said_as_bounds():
    baseline = power_law(X, 0.7, 0.6, 0.4)
    much_better = baseline + 0.3  # already above the baseline's best at the smallest budget
    eff = efficiency_ratio(X, _units(much_better), X, _units(baseline, seed=1), n_boot=200)
    assert eff.at_smallest and eff.bound == ">="
    assert f"≥ {X[-1] / X[0]:.1f}× fewer labels (reached at the smallest budget tried" in eff.sentence()
    worse = efficiency_ratio(X, _units(baseline - 0.2), X, _units(baseline, seed=1), n_boot=200)
    assert worse.bound == "<" and "< 1.0× fewer labels (not reached; 95% CI" in worse.sentence()


def test_intervals_count_folds_not_runs():
    from featbench.report.aggregate import aggregate

    # 3 folds x 2 seeds; by hand: fold means 0.55, 0.65, 0.75 -> mean 0.65, sd 0.1, t(0.975, 2) = 4.3027
    rows = pd.DataFrame({"family": "a", "classifier": "lr", "budget": "8", "examples_per_class": 8.0,
                         "fold": [0, 0, 1, 1, 2, 2], "seed": [0, 1] * 3, "ua": [0.5, 0.6, 0.65, 0.65, 0.7, 0.8]})
    agg = aggregate(rows).iloc[0]
    half = 4.302652729749464 * 0.1 / np.sqrt(3)
    assert agg["n"] == 3 and agg["n_rows"] == 6
    assert agg["mean"] == pytest.approx(0.65) and agg["ci_high"] - agg["mean"] == pytest.approx(half)


def test_compare_end_to_end(demo_store, tmp_path):
    from featbench.train.runner import Experiment, run_training

    exp = Experiment(demo_store, ["egemaps-func", "egemaps-lld"], ["logreg", "svm"], [1, 2, 4, "all"], [0, 1], n_folds=4, corpus="demo")
    run_training(exp, tmp_path / "r.csv", progress=False)
    result = CliRunner().invoke(app, ["compare", str(tmp_path / "r.csv"), "--baseline", "egemaps-func", "--out", str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    rep = tmp_path / "rep"
    for name in ["summary.csv", "summary.md", "efficiency.csv", "planning.csv", "protocol.json", "report.md",
                 "learning_curves.png", "learning_curves.svg", "confusion_matrices.png"]:
        assert (rep / name).stat().st_size > 0, name
    protocol = json.loads((rep / "protocol.json").read_text())
    assert protocol["n_folds"] == 4 and protocol["corpus"] == "demo" and protocol["seeds"] == [0, 1]
    summary = pd.read_csv(rep / "summary.csv")
    assert set(summary.family) == {"egemaps-func", "egemaps-lld"} and summary.entry.sum() == 2
    assert summary.oracle.sum() == 2  # two classifiers each, none selected on validation: picked on test, labelled
    assert "demo: 4 classes" in (rep / "summary.md").read_text()
    again = CliRunner().invoke(app, ["compare", str(tmp_path / "r.csv"), "--baseline", "egemaps-func", "--out", str(tmp_path / "rep2")])
    assert again.exit_code == 0, again.output
    for name in ["report.html", "report.md", "learning_curves.svg", "confusion_matrices.svg", "efficiency.csv"]:
        assert (rep / name).read_bytes() == (tmp_path / "rep2" / name).read_bytes(), f"{name} differs run to run"


def test_compare_refuses_mixed_protocols(tmp_path, demo_store):
    from featbench.train.runner import Experiment, run_training

    for n, folds in [("a", 2), ("b", 4)]:
        run_training(Experiment(demo_store, ["egemaps-func"], ["logreg"], [2], [0], n_folds=folds), tmp_path / f"{n}.csv", progress=False)
    result = CliRunner().invoke(app, ["compare", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "mix 2 protocols" in result.output


def test_compare_refuses_folds_that_test_different_speakers(tmp_path, demo_store):
    # review finding: efficiency ratios paired folds by index even when they held out different speakers
    from featbench.train.runner import Experiment, run_training

    run_training(Experiment(demo_store, ["egemaps-func"], ["logreg"], [2], [0], n_folds=2), tmp_path / "r.csv", progress=False)
    rows = pd.read_csv(tmp_path / "r.csv", dtype=str, keep_default_na=False)
    other = rows.copy()
    other["family"] = other["view"] = "egemaps-lld"
    other["test_groups"] = other["test_groups"].iloc[::-1].to_numpy()
    pd.concat([rows, other]).to_csv(tmp_path / "r.csv", index=False)
    result = CliRunner().invoke(app, ["compare", str(tmp_path / "r.csv"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "tests different speakers" in result.output


def test_compare_without_genders_leaves_the_gender_table_empty(demo_store, tmp_path):
    """A corpus without a gender column gives `{}` in every row's ua_by_gender: the report is still written."""
    from featbench.report import compare
    from featbench.train import Experiment, run_training

    run_training(Experiment(demo_store, ["egemaps-func"], ["logreg"], [2, "all"], [0], n_folds=4), tmp_path / "r.csv",
                 progress=False)
    rows = pd.read_csv(tmp_path / "r.csv", dtype=str, keep_default_na=False)
    rows["ua_by_gender"] = "{}"
    rows.to_csv(tmp_path / "r.csv", index=False)
    result = compare([tmp_path / "r.csv"], tmp_path / "report", n_boot=100)
    assert (tmp_path / "report" / "report.md").is_file() and result.headline is not None
    assert pd.read_csv(tmp_path / "report" / "by_gender.csv").empty
