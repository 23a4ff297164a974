"""Ensembles (`ensemble(a,b,...)`, train.ensemble): weights chosen on validation speakers only, one member equals
that member, probabilities that sum to 1, resume, and hostile spellings refused in one line."""
import json
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.errors import FeatbenchError
from featbench.train.runner import Experiment, run_training

ENS = "ensemble(toy@L1,toy@L2,egemaps-func)"


def _exp(store, **kw):
    base = dict(store=store, families=[ENS], classifiers=["selected(logreg+svm)"], budgets=[2, "all"], seeds=[0],
                n_folds=4, corpus="demo")
    return Experiment(**{**base, **kw})


def test_permuting_test_labels_changes_no_weight(layered, tmp_path, fold_0_only):
    """The weights (and each member's choice) never read the test speakers: shuffling their labels within each test
    speaker changes fold 0's scores, not one chosen weight."""
    run_training(_exp(layered), tmp_path / "a.csv", progress=False)
    permuted = tmp_path / "permuted"
    shutil.copytree(layered, permuted)
    corpus = pd.read_csv(permuted / "corpus.csv", dtype=str, keep_default_na=False)
    a = pd.read_csv(tmp_path / "a.csv", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(1)
    for speaker in a.loc[a.fold == "0", "test_groups"].iloc[0].split():
        mask = corpus.speaker == speaker
        corpus.loc[mask, "label"] = rng.permutation(corpus.loc[mask, "label"].to_numpy())
    corpus.to_csv(permuted / "corpus.csv", index=False)
    run_training(_exp(permuted), tmp_path / "b.csv", progress=False)
    b = pd.read_csv(tmp_path / "b.csv", dtype=str, keep_default_na=False)
    a, b = (t[t.fold == "0"].sort_values("budget").reset_index(drop=True) for t in (a, b))
    assert len(a) == 2 and set(a.view) == {ENS}
    columns = ["choice", "val_ua", "hparams", "hp_selection"]
    pd.testing.assert_frame_equal(a[columns], b[columns])
    assert (a.ua != b.ua).any()  # the permutation did reach the test scores
    for made in map(json.loads, a.choice):
        weights = made["ensemble_weights"]
        assert list(weights) == ["egemaps-func", "toy@L1", "toy@L2"] and sum(weights.values()) == pytest.approx(1)
        assert set(made["members"]["toy@L2"]) >= {"classifier", "val_ua"}


@pytest.mark.parametrize("classifier, member", [("logreg", "toy@auto"), ("selected(logreg+svm)", "toy@auto"),
                                                ("logreg", "toy@weighted")])
def test_an_ensemble_of_one_member_is_that_member(layered, tmp_path, classifier, member):
    exp = _exp(layered, families=[member, f"ensemble({member})"], classifiers=[classifier])
    run_training(exp, tmp_path / "r.csv", progress=False)
    rows = pd.read_csv(tmp_path / "r.csv").set_index(["view", "fold", "budget"])
    alone, ensemble = rows.loc[member], rows.loc[f"ensemble({member})"]
    assert len(alone) == 8
    pd.testing.assert_series_equal(alone.ua, ensemble.ua)
    pd.testing.assert_series_equal(alone.confusion, ensemble.confusion)
    for single, made in zip(alone.choice, ensemble.choice):
        chosen, one = json.loads(single), json.loads(made)
        assert one["ensemble_weights"] == {member: 1.0}
        assert all(one["members"][member][key] == chosen[key] for key in chosen)  # layer, classifier, layer weights


def test_probabilities_sum_to_one_and_weights_favour_the_informative_member(layered):
    from featbench.train.grid import make_context
    from featbench.train.prepare import prepare_grid
    from featbench.train.fit_task import fit_task

    data, folds, _, _ = prepare_grid(_exp(layered, families=["ensemble(toy@L0,toy@L2)"], classifiers=["svm"]))
    (setup, view), = data.views.items()
    assert view.view.widths == (8, 8)
    fitted = fit_task(make_context(data).data, view, "svm", folds[0], "all", 0).fitted
    P = fitted.predict_proba(view.X)
    assert P.shape == (len(view.X), len(data.labels)) and np.allclose(P.sum(1), 1) and (P >= 0).all()
    assert (fitted.predict(view.X) == fitted.classes[P.argmax(1)]).all()
    assert fitted.choice.weights["toy@L2"] > fitted.choice.weights["toy@L0"]  # layer 0 is noise


def test_a_family_read_by_several_members_costs_once(layered):
    from featbench.train.prepare import prepare_grid

    data, _, _, _ = prepare_grid(_exp(layered, families=["toy@L2", "ensemble(toy@L1,toy@L2)"], classifiers=["logreg"]))
    single, ensemble = (v.cost for v in data.views.values())
    assert single["store_mb_per_audio_hour"] > 0 and ensemble == single


def test_resume_trains_nothing_twice(layered, tmp_path):
    out = tmp_path / "r.csv"
    run_training(_exp(layered, budgets=[2]), out, progress=False)
    first = out.read_bytes()
    run_training(_exp(layered, budgets=[2]), out, progress=False)
    assert out.read_bytes() == first  # nothing retrained, nothing appended
    run_training(_exp(layered, budgets=[2, "all"]), out, progress=False)
    rows = pd.read_csv(out)
    assert sorted(rows.budget.astype(str).value_counts().to_dict().items()) == [("2", 4), ("all", 4)]
    assert out.read_bytes().startswith(first)


@pytest.mark.parametrize("features, classifiers, message", [
    ("ensemble(toy@L1,nosuch)", "logreg", "no 'nosuch' features in this store"),
    ("ensemble(toy@L1,ensemble(toy@L2))", "logreg", "holds views, not ensembles"),
    ("ensemble()", "logreg", "an empty ensemble"),
    ("ensemble(toy@L1,,toy@L2)", "logreg", "an empty member"),
    ("ensemble(toy@L1,toy@L2", "logreg", "close the list of members"),
    (f"ensemble({','.join(['toy@L1'] * 7)})", "logreg", "7 members; an ensemble takes at most 6"),
    (f"ensemble({','.join(['toy@L1'] * 100_000)})", "logreg", "100000 members"),
    ("ensemble(toy@L1,toy@L1)", "logreg", "member 'toy@L1' is named twice"),
    ("ensemble(toy@all)", "logreg", "names 3 views"),
    ("ensemble(toy@L1+egemaps-func)", "logreg", "no combination a+b in an ensemble"),
    ("ensemble(toy@L1,toy@L9)", "logreg", "choose a layer of toy"),
    ("ensemble(toy@L1,toy@L2)", "seq", "not 'seq'"),
    ("ensemble(toy@L1,toy@L2)", "fusion", "not 'fusion'"),
])
def test_hostile_ensembles_are_refused_in_one_line(layered, tmp_path, features, classifiers, message):
    result = CliRunner().invoke(app, ["train", str(layered), "--features", features, "--classifiers", classifiers,
                                      "--out", str(tmp_path / "r.csv"), "--no-progress"])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and message in result.output, result.output[:300]
    assert not (tmp_path / "r.csv").exists()


def test_fit_refuses_an_ensemble_in_one_line(layered, tmp_path):
    from featbench.model.fit import FitSpec, _check_spec

    spec = FitSpec(Experiment(layered, ["ensemble(toy@L1,toy@L2)"], ["logreg"], ["all"], [0]))
    with pytest.raises(FeatbenchError, match="fit saves one entry's model, not an ensemble"):
        _check_spec(spec)


def test_reports_name_the_ensemble(layered, tmp_path):
    from featbench.report import compare

    run_training(_exp(layered, families=["toy@L2", ENS], classifiers=["logreg"], budgets=[2, "all"]), tmp_path / "r.csv",
                 progress=False)
    compare([tmp_path / "r.csv"], tmp_path / "report", baseline="toy@L2", n_boot=100)
    words = "ensemble of toy layer 1, toy layer 2, eGeMAPS functionals (weights chosen on validation speakers)"
    assert words in (tmp_path / "report" / "summary.md").read_text()
    assert ENS in (tmp_path / "report" / "report.md").read_text()  # the legend gives its code
