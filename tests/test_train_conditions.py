"""Training under recording conditions (`train --train-condition C --test-condition C1,C2`): clean runs as before,
mismatched, matched and multi-condition rows, one fit per (view, classifier, fold, seed, budget) whatever the test
conditions, per-corpus normalisation per condition, the refusals (store, babble folds, leaking talkers), results
schema 4's upgrade, and fit's manifest."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conditions_store import add_condition
from featbench.cli import app
from featbench.errors import FeatbenchError
from featbench.results import (KEY, RESULT_COLUMNS, ResultsFile, labels, read_results, read_results_file, upgrade_file)
from featbench.results.columns import SCHEMA3_COLUMNS
from featbench.train import runner as train_runner
from featbench.train.runner import Experiment, run_training

SCORES = ["ua", "wa", "macro_f1", "confusion", "val_ua", "hparams", "choice", "ua_by_speaker", "ua_by_gender",
          "n_train", "n_test", "examples_per_class", "family_config_hash", "test_classes"]
ORDER = ["classifier", "fold", "seed", "budget"]


@pytest.fixture(scope="module")
def cstore(demo_store, tmp_path_factory):
    """demo_store with egemaps-func under white:20 (noisy rows), white:10 (noisier) and gain:-6 (an affine copy)."""
    store = tmp_path_factory.mktemp("conditions") / "store"
    shutil.copytree(demo_store, store)
    add_condition(store, "white:20", noise=0.5, seed=1)
    add_condition(store, "white:10", noise=3.0, seed=2)
    add_condition(store, "gain:-6", affine=(0.5, 3.0))
    return store


def _exp(store, **kw):
    return Experiment(store, ["egemaps-func"], kw.pop("classifiers", ["logreg"]), kw.pop("budgets", [2, "all"]),
                      kw.pop("seeds", [0]), n_folds=2, **kw)


def _rows(store, out, **kw) -> pd.DataFrame:
    run_training(_exp(store, **kw), out, progress=False)
    return pd.read_csv(out, dtype=str, keep_default_na=False)


def _sorted(frame):
    return frame.sort_values(ORDER).reset_index(drop=True)


def test_a_clean_run_scores_as_before_and_clean_test_rows_do_not_depend_on_other_test_conditions(cstore, tmp_path):
    plain = _rows(cstore, tmp_path / "a.csv", seeds=[0, 1])
    assert list(plain.columns) == RESULT_COLUMNS
    assert set(plain.train_condition) == set(plain.test_condition) == {"clean"}
    several = _rows(cstore, tmp_path / "b.csv", seeds=[0, 1], test_conditions="clean,white:20,white:10")
    assert len(several) == 3 * len(plain)
    clean = several[several.test_condition == "clean"]
    pd.testing.assert_frame_equal(_sorted(plain)[SCORES], _sorted(clean)[SCORES])
    assert set(labels(read_results(tmp_path / "b.csv").rows)) == {"egemaps-func"}  # the test condition: no entry of its own


def test_one_fit_per_fold_seed_and_budget_whatever_the_test_conditions(cstore, tmp_path, monkeypatch):
    from featbench.train import entry

    fits = []
    real = entry.fit_entry  # what every grid task's fit runs (train.fit_task)
    monkeypatch.setattr(entry, "fit_entry", lambda *a, **k: fits.append(1) or real(*a, **k))
    one = _rows(cstore, tmp_path / "a.csv", test_conditions="white:20")
    n_one = len(fits)
    three = _rows(cstore, tmp_path / "b.csv", test_conditions="clean,white:20,white:10")
    assert n_one == 2 * 2 and len(fits) - n_one == n_one  # 2 folds x 2 budgets, once each
    assert len(three) == 3 * len(one)
    shared = ["hparams", "val_ua", "choice", "n_train", "fit_seconds"]  # one model: one choice, one fit time
    assert (three.groupby(ORDER)[shared].nunique() == 1).all().all()


def test_mismatched_matched_and_multi_condition_rows(cstore, tmp_path):
    out = tmp_path / "r.csv"
    mismatched = _rows(cstore, out, test_conditions="clean,white:10")
    matched = _rows(cstore, out, train_condition="white:10", test_conditions="clean,white:10").iloc[len(mismatched):]
    multi = _rows(cstore, out, train_condition="multi:clean,white:10", test_conditions="clean,white:10")
    multi = multi.iloc[len(mismatched) + len(matched):]
    assert set(matched.train_condition) == {"white:10"} and set(multi.train_condition) == {"multi:clean,white:10"}
    assert set(multi.test_condition) == {"clean", "white:10"}
    names = set(labels(read_results(out).rows))
    assert names == {"egemaps-func", "egemaps-func [trained on white:10]", "egemaps-func [multi-condition: clean, white:10]"}
    # validation choices are made under the training condition: the clean model's val_ua is that of a clean run,
    # a matched model's is read on degraded validation clips
    clean_val = mismatched.groupby(ORDER).val_ua.first()
    assert not clean_val.equals(matched.groupby(ORDER).val_ua.first())
    assert (mismatched[mismatched.test_condition == "white:10"].ua.astype(float).mean()
            < mismatched[mismatched.test_condition == "clean"].ua.astype(float).mean())


def test_multi_condition_training_mixes_each_clip_by_seed_and_id():
    from featbench.protocol.multi import parse_training_condition
    from featbench.train.conditions import mixed_matrix

    multi = parse_training_condition("multi:clean,white:10,white:20")
    ids = [f"u{i}" for i in range(300)]
    pick = multi.pick(ids, seed=3)
    assert set(pick) == {0, 1, 2} and pick.tolist() == multi.pick(list(reversed(ids)), 3)[::-1].tolist()
    assert pick.tolist() != multi.pick(ids, seed=4).tolist()
    matrices = {c.text: np.full((300, 2), k, np.float32) for k, c in enumerate(multi.conditions)}
    assert mixed_matrix(matrices, multi, ids, 3)[:, 0].tolist() == pick.tolist()


def test_per_corpus_normalisation_standardises_each_condition_on_its_own(cstore, tmp_path):
    """gain:-6 is an affine copy of the clean features: standardised on its own statistics it is the clean
    features again, so it scores as clean; standardised by the clean training rows' scaler it does not."""
    own = _rows(cstore, tmp_path / "a.csv", test_conditions="clean,gain:-6", normalisation="per-corpus")
    a, b = (_sorted(own[own.test_condition == t]) for t in ("clean", "gain:-6"))
    assert a.ua.tolist() == b.ua.tolist() and a.confusion.tolist() == b.confusion.tolist()
    assert set(own.normalisation) == {"per-corpus"}
    plain = _rows(cstore, tmp_path / "b.csv", test_conditions="clean,gain:-6")
    a, b = (_sorted(plain[plain.test_condition == t]) for t in ("clean", "gain:-6"))
    assert a.confusion.tolist() != b.confusion.tolist()


def test_a_clip_missing_under_a_condition_is_left_out_of_every_condition_with_a_note(demo_store, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(demo_store, store)
    gone = pd.read_csv(store / "corpus.csv").id.iloc[0]
    add_condition(store, "white:20", skip=(gone,))
    report = run_training(_exp(store, test_conditions="clean,white:20", budgets=["all"]), tmp_path / "r.csv",
                          progress=False)
    rows = pd.read_csv(tmp_path / "r.csv")
    assert report.dropped_ids == 1 and "1 clip(s) have no features under condition 'white:20'" in report.summary()
    assert rows.groupby("test_condition").n_test.sum().nunique() == 1


@pytest.mark.parametrize(("settings", "message"), [
    ({"test_conditions": "white:5"}, r"no features under condition 'white:5' \(the store holds: clean, gain:-6, white:10, white:20\)"),
    ({"train_condition": "multi:white:20"}, "multi-condition training takes two or more different conditions"),
    ({"train_condition": "multi:white:20,white:20"}, "'white:20' is named twice"),
    ({"test_conditions": "white:abc"}, "condition 'white:abc'"),
    ({"test_conditions": "white:20", "classifiers": ["seq"]}, "the seq model reads clean frames only"),
    ({"test_conditions": "white:20", "normalisation": "per-speaker"}, "per-speaker normalisation is not run"),
    ({"normalisation": "per-corpus"}, "per-corpus normalisation needs a second corpus .* or a recording condition"),
])
def test_refusals_before_any_training(cstore, tmp_path, settings, message, monkeypatch):
    monkeypatch.setattr(train_runner, "_missing_tasks", lambda *a: pytest.fail("trained before refusing"))
    with pytest.raises(FeatbenchError, match=message):
        run_training(_exp(cstore, **settings), tmp_path / "r.csv", progress=False)


def test_a_family_missing_under_a_condition_is_refused(cstore, tmp_path):
    exp = Experiment(cstore, ["egemaps-func", "egemaps-lld"], ["logreg"], ["all"], [0], n_folds=2,
                     test_conditions="white:20")
    with pytest.raises(FeatbenchError, match=r"no 'egemaps-lld' features under condition 'white:20' \(families under "
                                             r"it: egemaps-func~white_20\)"):
        run_training(exp, tmp_path / "r.csv", progress=False)


def _folds_of(store):
    from featbench.train.prepare import prepare_grid

    _, folds, _, _ = prepare_grid(_exp(store))
    return folds


def test_babble_folds_and_leaking_talkers_are_refused(demo_store, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(demo_store, store)
    folds = _folds_of(store)
    table = pd.read_csv(store / "corpus.csv")
    test0 = table[table.group.isin(folds[0].test_groups)]
    # honest babble: each clip's talkers are other clips of its own fold's test groups (other speakers)
    honest = {}
    for fold in folds:
        own = table[table.group.isin(fold.test_groups)]
        for uid, group in zip(own.id, own.group):
            honest[uid] = tuple(own[own.group != group].id[:2])
    recorded = [list(f.test_groups) for f in folds]
    add_condition(store, "white:5", folds=recorded, sources=honest)
    run_training(_exp(store, test_conditions="clean,white:5", budgets=["all"]), tmp_path / "ok.csv", progress=False)
    # a talker of fold 0's training groups in a test clip of fold 0
    leak = dict(honest)
    uid = test0.id.iloc[0]
    leak[uid] = (table[~table.group.isin(folds[0].test_groups)].id.iloc[0],)
    add_condition(store, "white:5", folds=recorded, sources=leak)
    with pytest.raises(FeatbenchError, match=rf"condition 'white:5' leaks speakers: test clip '{uid}' of fold 0"):
        run_training(_exp(store, test_conditions="white:5"), tmp_path / "r.csv", progress=False)
    # folds other than the recorded ones
    add_condition(store, "white:5", folds=[list(folds[0].test_groups)], sources=honest)
    with pytest.raises(FeatbenchError, match="condition 'white:5' drew its babble talkers from 1 folds of other test "
                                             "groups than this run's 2"):
        run_training(_exp(store, test_conditions="white:5"), tmp_path / "r.csv", progress=False)


def test_a_schema_3_file_reads_clean_is_refused_for_appending_and_upgrades(cstore, tmp_path):
    out = tmp_path / "r.csv"
    rows = _rows(cstore, out)
    rows[SCHEMA3_COLUMNS].to_csv(out, index=False)  # as featbench 0.4 to this issue wrote it
    table = read_results_file(out)
    assert table.schema == 3 and set(table.rows.train_condition) == set(table.rows.test_condition) == {"clean"}
    with pytest.raises(FeatbenchError, match=r"results schema 3 .*`featbench results upgrade .*r\.csv`"):
        ResultsFile(out).__enter__()
    upgrade_file(out)
    again = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(again.columns) == RESULT_COLUMNS and again[KEY].equals(rows[KEY])
    report = run_training(_exp(cstore), out, progress=False)
    assert report.rows_added == 0 and report.rows_before == len(rows)  # the upgraded keys are the clean run's
    report = run_training(_exp(cstore, test_conditions="clean,white:20"), out, progress=False)
    assert report.rows_added == len(rows)  # only white:20's rows were missing


def test_fit_records_the_training_condition_and_old_manifests_read_clean(cstore, tmp_path):
    from featbench.model import load_model

    runner = CliRunner()
    made = runner.invoke(app, ["fit", str(cstore), "--features", "egemaps-func", "--classifier", "logreg",
                               "--train-condition", "multi:clean,white:20", "--out", str(tmp_path / "m")])
    assert made.exit_code == 0, made.output
    assert "recording condition: multi:clean,white:20" in made.output
    assert load_model(tmp_path / "m").training_condition == "multi:clean,white:20"
    manifest = tmp_path / "m" / "manifest.json"
    document = json.loads(manifest.read_text())
    del document["training"]["condition"]  # a model fitted before conditions
    manifest.write_text(json.dumps(document))
    assert load_model(tmp_path / "m").training_condition == "clean"
    document["training"]["condition"] = "white:abc"
    manifest.write_text(json.dumps(document))
    with pytest.raises(FeatbenchError, match="field 'training.condition' .*'white:abc'"):
        load_model(tmp_path / "m")


def test_the_cli_takes_both_options_and_names_the_store_in_a_refusal(cstore, tmp_path):
    runner = CliRunner()
    args = ["train", str(cstore), "--features", "egemaps-func", "--classifiers", "logreg", "--budgets", "all",
            "--folds", "2", "--seeds", "0", "--no-progress", "--out", str(tmp_path / "r.csv")]
    done = runner.invoke(app, args + ["--train-condition", "white:20", "--test-condition", "clean,white:20"])
    assert done.exit_code == 0, done.output
    rows = pd.read_csv(tmp_path / "r.csv")
    assert set(zip(rows.train_condition, rows.test_condition)) == {("white:20", "clean"), ("white:20", "white:20")}
    refused = runner.invoke(app, args + ["--test-condition", "white:1"])
    assert refused.exit_code == 1 and f"{cstore}: no features under condition 'white:1'" in refused.output
    assert "Traceback" not in refused.output


def test_babble_as_extract_records_it_trains_and_a_leaking_talker_is_refused(demo_corpus_master, tmp_path):
    """With extraction under conditions (featbench.extract_conditions): babble's recorded folds and talkers pass the
    guard as extracted, and fail it when a test clip's talkers are made to hold a training speaker."""
    pytest.importorskip("featbench.extract_conditions", reason="extraction under conditions not on this branch")
    from featbench.corpus import load_corpus
    from featbench.extract import run_extraction
    from featbench.store.conditions import CONDITIONS_FILE

    store = tmp_path / "store"
    run_extraction(load_corpus("demo", demo_corpus_master), [("egemaps-func", {})], store, progress=False,
                   conditions="clean,babble:10", n_folds=2)
    rows = _rows(store, tmp_path / "r.csv", budgets=["all"], test_conditions="clean,babble:10")
    assert set(rows.test_condition) == {"clean", "babble:10"}
    with pytest.raises(FeatbenchError, match="drew its babble talkers from 2 folds of other test groups than this run's 4"):
        run_training(Experiment(store, ["egemaps-func"], ["logreg"], ["all"], [0], n_folds=4,
                                test_conditions="babble:10"), tmp_path / "r4.csv", progress=False)
    document = json.loads((store / CONDITIONS_FILE).read_text())
    (record,) = [r for r in document["conditions"] if r["text"] == "babble:10"]
    table = pd.read_csv(store / "corpus.csv")
    folds = record["folds"]
    clip = table[table.group.isin(folds[0])].id.iloc[0]
    record["sources"][clip] = [table[table.group.isin(folds[1])].id.iloc[0]]  # a speaker who trains fold 0's model
    (store / CONDITIONS_FILE).write_text(json.dumps(document))
    with pytest.raises(FeatbenchError, match=f"leaks speakers: test clip '{clip}' of fold 0"):
        _rows(store, tmp_path / "r2.csv", test_conditions="babble:10")


def test_a_store_without_clean_features_trains_under_a_condition_but_fit_asks_for_them(cstore, tmp_path):
    from featbench.model import FitSpec, fit_model

    store = tmp_path / "store"
    shutil.copytree(cstore, store)
    (store / "egemaps-func.h5").unlink()
    rows = _rows(store, tmp_path / "r.csv", train_condition="white:20", budgets=["all"])
    assert set(rows.test_condition) == {"white:20"} and set(rows.view) == {"egemaps-func"}
    with pytest.raises(FeatbenchError, match="no 'egemaps-func' features under condition 'clean'"):
        _rows(store, tmp_path / "r2.csv", train_condition="white:20", test_conditions="clean")
    with pytest.raises(FeatbenchError, match=r"records how predict extracts 'egemaps-func' .*extract them \(clean\) too"):
        fit_model(FitSpec.of(store, "egemaps-func", "logreg", train_condition="white:20"))
