import pandas as pd
import pytest
from typer.testing import CliRunner

from featbench.executors import Local
from featbench.cli import app
from featbench.errors import FeatbenchError
from featbench.results import RESULT_COLUMNS
from featbench.train.runner import Experiment, run_training

runner = CliRunner()


def _exp(store, **kw):
    base = dict(store=store, families=["egemaps-func", "egemaps-lld"], classifiers=["logreg", "svm"],
                budgets=[2, 4, "all"], seeds=[0, 1], n_folds=4, corpus="demo")
    return Experiment(**{**base, **kw})


def test_grid_rows_protocol_and_rerun(demo_store, tmp_path):
    out = tmp_path / "r.csv"
    report = run_training(_exp(demo_store), out, progress=False)
    rows = pd.read_csv(out)
    assert list(rows.columns) == RESULT_COLUMNS
    assert len(rows) == report.rows_added == 2 * 2 * 3 * 4 * 2
    assert set(rows.n_folds) == {4} and set(rows.fold_scheme) == {"leave-one-group-out"}  # 4 speakers
    assert set(rows.classes) == {"angry,happy,neutral,sad"} and set(rows.metric) == {"UA (balanced accuracy)"}
    assert ((rows.ua >= 0) & (rows.ua <= 1)).all()
    assert (rows[rows.budget == "2"].n_train == 8).all()
    again = run_training(_exp(demo_store), out, progress=False)
    assert again.rows_added == 0 and again.rows_before == len(rows)
    assert len(pd.read_csv(out)) == len(rows)


def test_same_seed_same_numbers_and_parallel(demo_store, tmp_path):
    # budgets 2 and all: a budget-4 subset is drawn as the budget-2 one is, and added a third of the time
    exp = _exp(demo_store, classifiers=["logreg", "lgbm", "mlp"], budgets=[2, "all"], seeds=[3])
    run_training(exp, tmp_path / "a.csv", progress=False)
    run_training(exp, tmp_path / "b.csv", executor=Local(2), progress=False)
    key = ["family", "classifier", "budget", "fold", "seed"]
    a = pd.read_csv(tmp_path / "a.csv").sort_values(key).reset_index(drop=True)
    b = pd.read_csv(tmp_path / "b.csv").sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[key + ["ua", "wa", "macro_f1", "confusion", "hparams"]],
                                  b[key + ["ua", "wa", "macro_f1", "confusion", "hparams"]])


def test_sequence_model_rows(demo_store, tmp_path):
    exp = _exp(demo_store, families=["egemaps-lld"], classifiers=["seq"], budgets=[4], seeds=[0], seq_epochs=3)
    run_training(exp, tmp_path / "s.csv", progress=False)
    rows = pd.read_csv(tmp_path / "s.csv")
    assert len(rows) == 4 and set(rows.level) == {"sequence"}
    with pytest.raises(FeatbenchError, match="one row per utterance"):
        run_training(_exp(demo_store, families=["egemaps-func"], classifiers=["seq"]), tmp_path / "t.csv", progress=False)


@pytest.mark.parametrize("args, message", [
    (["--budgets", "50"], "budget 50 per class is larger than class"),
    (["--folds", "9"], "9 folds: must be between 2 and the number of groups"),
    (["--classes", "happy,bored"], "class 'bored' has no utterance"),
    (["--classifiers", "knn"], "unknown classifier 'knn'"),
    (["--features", "fbank"], "no 'fbank' features in this store"),
    (["--seeds", "a"], "seed 'a' is not a non-negative integer"),
])
def test_bad_arguments_are_one_line_errors(demo_store, tmp_path, args, message):
    result = runner.invoke(app, ["train", str(demo_store), "--out", str(tmp_path / "r.csv"), "--no-progress", *args])
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and message in result.output


def test_empty_store_and_missing_class_in_fold(tmp_path, demo_store):
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["train", str(tmp_path / "empty"), "--out", str(tmp_path / "r.csv")])
    assert result.exit_code == 1 and "empty store" in result.output
    import shutil

    store = tmp_path / "store"
    shutil.copytree(demo_store, store)
    corpus = pd.read_csv(store / "corpus.csv")
    corpus = corpus[~((corpus.speaker == "demo_f1") & (corpus.label == "sad"))]
    corpus.to_csv(store / "corpus.csv", index=False)
    result = runner.invoke(app, ["train", str(store), "--out", str(tmp_path / "r.csv"), "--budgets", "2", "--folds", "4"])
    assert result.exit_code == 1 and "class 'sad' is missing from the test part of fold" in result.output
    # with the default folds, the speaker without 'sad' shares a test part with one who has it (issue 9)
    result = runner.invoke(app, ["train", str(store), "--out", str(tmp_path / "r.csv"), "--classifiers", "logreg",
                                 "--no-progress"])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(tmp_path / "r.csv")
    assert set(rows.n_folds) == {3} and set(rows.budget) == {"4", "all"}  # 3 folds; budgets up to what folds serve
