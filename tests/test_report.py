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
    assert "less labelled data" in eff.sentence()


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
    covered = 0
    for draw in range(10):  # a 95% interval should cover the truth in most noisy draws
        plan = plan_budget(X, _units(power_law(X, *truth), noise=0.005, seed=draw), 0.7, n_boot=100)
        assert plan.needed == pytest.approx(needed, rel=0.3)
        assert not plan.extrapolated
        covered += plan.ci_low <= needed <= plan.ci_high
    assert covered >= 7
    far = plan_budget(X, _units(power_law(X, *truth), noise=0.005), 0.74, n_boot=50)
    assert far.extrapolated and "EXTRAPOLATED" in far.sentence()
    assert "not reachable" in plan_budget(X, _units(power_law(X, *truth), noise=0.005), 0.9, n_boot=20).sentence()
    slow = plan_budget(X, _units(power_law(X, 0.75, 0.8, 0.1), noise=0.002), 0.74, n_boot=20)
    assert slow.needed > 100 * X.max() and "too far to extrapolate" in slow.sentence()


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
    assert set(summary.family) == {"egemaps-func", "egemaps-lld"} and summary.best.sum() == 2
    assert "demo: 4 classes" in (rep / "summary.md").read_text()


def test_compare_refuses_mixed_protocols(tmp_path, demo_store):
    from featbench.train.runner import Experiment, run_training

    for n, folds in [("a", 2), ("b", 4)]:
        run_training(Experiment(demo_store, ["egemaps-func"], ["logreg"], [2], [0], n_folds=folds), tmp_path / f"{n}.csv", progress=False)
    result = CliRunner().invoke(app, ["compare", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "mix 2 protocols" in result.output
