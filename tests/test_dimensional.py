"""Dimensional targets (`train --target`): CCC, regressors and `selected` among them, budgets in utterances
stratified by quantile bins, the corpus columns that carry a target, and `compare` in CCC."""
import json
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.errors import FeatbenchError
from featbench.train.metrics import ccc, ccc_by
from featbench.train.protocol import budget_subset, default_budgets, make_folds
from featbench.train.runner import Experiment, run_training
from featbench.train.target import VALUE, target_table

FEATURE = "loudness_sma3_amean"  # the stored egemaps-func column an exact linear target is made of
CHOICE_COLUMNS = ["view", "classifier", "fold", "seed", "budget", "choice", "val_ua", "hparams", "hp_selection"]


@pytest.fixture(scope="module")
def dim_store(demo_store, layered, tmp_path_factory):
    """A copy of the layered demo store whose corpus.csv carries targets: `lin` (2 x FEATURE + 1), `noise`,
    `partial` (lin with two values blanked), `word` (text)."""
    from featbench.store import read_family

    store = tmp_path_factory.mktemp("dimensional") / "store"
    shutil.copytree(layered, store)
    corpus = pd.read_csv(store / "corpus.csv", dtype=str, keep_default_na=False)
    fs = read_family(store, "egemaps-func")
    column = list(fs.meta.columns).index(FEATURE)
    corpus["lin"] = [2 * float(fs.get(u)[0][column]) + 1 for u in corpus.id]
    corpus["noise"] = np.random.default_rng(0).normal(size=len(corpus))
    corpus["partial"] = corpus["lin"].astype(str)
    corpus.loc[[3, 17], "partial"] = ""
    corpus["word"] = "high"
    corpus.to_csv(store / "corpus.csv", index=False)
    return store


def _exp(store, **kw):
    base = dict(store=store, families=["egemaps-func"], classifiers=["ridge"], budgets=["all"], seeds=[0], target="lin")
    return Experiment(**{**base, **kw})


def test_ccc_by_hand():
    y, p = [1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 3.0, 5.0]
    # means 2.5 and 3; variances 1.25 and 1.5; covariance 1.25: 2 * 1.25 / (1.25 + 1.5 + 0.5 ** 2) = 5/6
    assert ccc(y, p) == pytest.approx(5 / 6)
    assert ccc(y, np.array(y) * 2) < np.corrcoef(y, np.array(y) * 2)[0, 1] == pytest.approx(1.0)  # scale is punished
    assert ccc_by(["a", "a", "b", "b", "c"], [1, 2, 1, 2, 7], [1, 2, 2, 1, 7]) == {"a": 1.0, "b": -1.0}


def test_linear_target_is_learned_and_noise_is_not(dim_store, tmp_path):
    run_training(_exp(dim_store), tmp_path / "lin.csv", progress=False)
    rows = pd.read_csv(tmp_path / "lin.csv", dtype=str, keep_default_na=False)
    assert rows["ua"].astype(float).mean() > 0.95
    assert set(rows.metric) == {"CCC (concordance correlation coefficient)"} and set(rows.classes) == {"lin"}
    assert set(rows.n_classes) == {"4"} and (rows[["wa", "macro_f1", "confusion", "labels"]] == "").all().all()
    assert (rows.examples_per_class.astype(float) == rows.n_train.astype(float)).all()  # utterances, not per class
    assert rows.val_ua.astype(float).between(-1, 1).all() and rows.hp_selection.str.contains("val CCC").all()
    for r in rows.itertuples():
        assert set(json.loads(r.ua_by_speaker)) == set(r.test_groups.split())
    run_training(_exp(dim_store, classifiers=["ridge", "svr"], seeds=[0, 1], target="noise"), tmp_path / "noise.csv",
                 progress=False)
    assert abs(pd.read_csv(tmp_path / "noise.csv").ua.mean()) < 0.3


def test_budgets_count_utterances_nested_and_stratified():
    rng = np.random.default_rng(3)
    raw = pd.DataFrame({"id": [f"g{g}_{k}" for g in range(8) for k in range(20)], "label": "x",
                        "group": [f"g{g}" for g in range(8) for _ in range(20)], "gender": ""})
    raw["arousal"] = rng.normal(size=len(raw)).round(3).astype(str)
    table, notes = target_table(raw, "arousal")
    assert not notes and table["label"].value_counts().tolist() == [40] * 4
    folds = make_folds(table, 4)
    assert default_budgets(table, folds) == [4, 8, 16, 32, 64, 'all']  # up to the 120 training utterances of a fold
    for fold in folds:
        pool = table[~fold.test_mask(table)].set_index("id")
        share = pool["label"].value_counts(normalize=True)
        previous: set = set()
        for budget in (8, 16, 33, 64):
            ids = budget_subset(table, fold, budget, seed=1)
            assert len(ids) == len(set(ids)) == budget and previous <= set(ids)  # nested
            counts = pool.loc[ids, "label"].value_counts().reindex(share.index, fill_value=0)
            assert (abs(counts - share * budget) <= 1).all()  # stratified by bin
            previous = set(ids)
        shuffled = table.sample(frac=1, random_state=0)
        assert budget_subset(shuffled, fold, 16, seed=1) == budget_subset(table, fold, 16, seed=1)  # row order is moot
        assert set(budget_subset(table, fold, 16, seed=2)) != set(budget_subset(table, fold, 16, seed=1))
        assert len(budget_subset(table, fold, 0.25, seed=1)) == round(0.25 * len(pool))
    with pytest.raises(FeatbenchError, match="budget 500 utterances is larger than the training groups of fold 0"):
        budget_subset(table, folds[0], 500, seed=0)


def test_same_subsets_for_every_family(dim_store, tmp_path):
    exp = _exp(dim_store, families=["egemaps-func", "toy@L2"], budgets=[4, 8, "all"], seeds=[0, 1])
    run_training(exp, tmp_path / "r.csv", progress=False)
    rows = pd.read_csv(tmp_path / "r.csv")
    key = ["fold", "seed", "budget"]
    a, b = (rows[rows.view == f].sort_values(key).reset_index(drop=True) for f in exp.families)
    pd.testing.assert_frame_equal(a[key + ["test_groups", "n_train", "examples_per_class", "n_test"]],
                                  b[key + ["test_groups", "n_train", "examples_per_class", "n_test"]])
    assert set(rows[rows.budget == "8"].n_train) == {8}


def test_selected_regressor_never_reads_test_speakers(dim_store, tmp_path, fold_0_only):  # fold 0's rows compared
    exp = _exp(dim_store, families=["egemaps-func", "toy@auto"], classifiers=["selected(ridge+svr)"],
               budgets=[8, "all"])
    run_training(exp, tmp_path / "a.csv", progress=False)
    a = pd.read_csv(tmp_path / "a.csv", dtype=str, keep_default_na=False)
    permuted = tmp_path / "permuted"
    shutil.copytree(dim_store, permuted)
    corpus = pd.read_csv(permuted / "corpus.csv", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(1)
    for speaker in a.loc[a.fold == "0", "test_groups"].iloc[0].split():  # same values per speaker: same bins, folds
        mask = corpus.speaker == speaker
        corpus.loc[mask, "lin"] = rng.permutation(corpus.loc[mask, "lin"].to_numpy())
    corpus.to_csv(permuted / "corpus.csv", index=False)
    run_training(_exp(permuted, families=exp.families, classifiers=exp.classifiers, budgets=exp.budgets),
                 tmp_path / "b.csv", progress=False)
    b = pd.read_csv(tmp_path / "b.csv", dtype=str, keep_default_na=False)
    key = ["view", "classifier", "fold", "seed", "budget"]
    a, b = (t[t.fold == "0"].sort_values(key).reset_index(drop=True) for t in (a, b))
    assert len(a) == 2 * 2 and (a.test_groups == b.test_groups).all()
    pd.testing.assert_frame_equal(a[CHOICE_COLUMNS], b[CHOICE_COLUMNS])
    assert (a.ua != b.ua).any()  # the permutation did reach the test scores
    made = [json.loads(c) for c in a.choice]
    assert all(m["classifier"] in ("ridge", "svr") for m in made)
    assert all("layer" in m for m, f in zip(made, a.view) if f == "toy@auto")


def test_sequence_model_regresses(dim_store, tmp_path):
    run_training(_exp(dim_store, families=["egemaps-lld"], classifiers=["seq"], seq_epochs=2), tmp_path / "s.csv",
                 progress=False)
    rows = pd.read_csv(tmp_path / "s.csv")
    assert set(rows.level) == {"sequence"} and rows.ua.between(-1, 1).all() and rows.val_ua.notna().all()


def test_compare_speaks_ccc_and_refuses_mixed_metrics(dim_store, tmp_path):
    from featbench.report import compare

    exp = _exp(dim_store, families=["egemaps-func", "toy@L2"], classifiers=["selected(ridge+svr)"],
               budgets=[4, 8, "all"])
    run_training(exp, tmp_path / "r.csv", progress=False)
    made = compare([tmp_path / "r.csv"], tmp_path / "report", baseline="egemaps-func", n_boot=50)
    out = tmp_path / "report"
    assert made.headline and all("CCC" in h and "training utterances" in h for h in made.headline)
    summary = (out / "summary.md").read_text()
    assert summary.startswith("CCC by training utterances") and "UA" not in summary
    assert "metric CCC (concordance correlation coefficient)" in made.markdown and "UA" not in made.markdown
    assert list(pd.read_csv(out / "summary.csv").columns[4:]) == ["CCC@4", "CCC@8", "CCC@all"]
    assert "val CCC" in (out / "report.html").read_text() and not (out / "confusion_matrices.png").exists()
    run_training(Experiment(dim_store, ["egemaps-func"], ["logreg"], ["all"], [0]), tmp_path / "ua.csv", progress=False)
    with pytest.raises(FeatbenchError, match="results mix 2 protocols"):
        compare([tmp_path / "r.csv", tmp_path / "ua.csv"], tmp_path / "mixed")


@pytest.mark.parametrize("args, message", [
    (["--target", "nope"], "--target nope: the corpus table has no column 'nope'"),
    (["--target", "word"], "--target word: utterance f1_angry_00 has 'high', not a number"),
    (["--target", "lin", "--classifiers", "logreg"], "'logreg' is a classifier and cannot regress --target lin"),
    (["--target", "lin", "--classifiers", "fusion"], "the fusion model classifies; it has no regression head"),
    (["--target", "lin", "--features", "toy@weighted", "--classifiers", "ridge"], "learned for classes, not for"),
    (["--target", "lin", "--budgets", "99"], "budget 99 utterances is larger than the training groups of fold 0"),
])
def test_target_errors_are_one_line(dim_store, tmp_path, args, message):
    result = CliRunner().invoke(app, ["train", str(dim_store), "--out", str(tmp_path / "r.csv"), "--no-progress",
                                      "--features", "egemaps-func", *args])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and message in result.output, result.output
    assert not (tmp_path / "r.csv").exists()


def test_empty_values_are_left_out_with_a_note(dim_store, tmp_path):
    result = CliRunner().invoke(app, ["train", str(dim_store), "--out", str(tmp_path / "r.csv"), "--no-progress",
                                      "--features", "egemaps-func", "--target", "partial", "--budgets", "all",
                                      "--seeds", "0", "--classifiers", "ridge"])
    assert result.exit_code == 0, result.output
    assert "--target partial: 2 utterance(s) without a value were left out" in result.output
    assert pd.read_csv(tmp_path / "r.csv").n_test.sum() == 32 - 2


def test_extra_manifest_columns_reach_the_store(demo_corpus, tmp_path):
    from featbench.corpus import load_corpus
    from featbench.extract import run_extraction
    from featbench.store import read_corpus

    manifest = pd.read_csv(demo_corpus / "manifest.csv", dtype=str, keep_default_na=False)
    manifest["arousal"] = [f"{v:.2f}" for v in np.linspace(1, 5, len(manifest))]
    manifest.loc[manifest.index[manifest.label == "sad"][0], "arousal"] = ""  # stays empty, never 'nan'
    manifest.to_csv(demo_corpus / "manifest.csv", index=False)
    table = load_corpus("demo", demo_corpus, classes=["sad"])
    run_extraction(table, [("egemaps-func", {})], tmp_path / "store", progress=False)
    stored = read_corpus(tmp_path / "store").set_index("id")["arousal"]
    assert stored.to_dict() == manifest.set_index("id").loc[table.id, "arousal"].to_dict() and "" in set(stored)


def test_iemocap_dimensions_are_columns(tmp_path):
    from featbench.corpus import load_corpus
    from tests.test_corpus import _iemocap_tree

    _iemocap_tree(tmp_path)
    table = load_corpus("iemocap", tmp_path, probe=False)
    dimensions = table[["valence", "arousal", "dominance"]].astype(float)
    assert dimensions.drop_duplicates().values.tolist() == [[2.5, 3.0, 3.5]]


def test_a_constant_target_is_refused_before_any_work(dim_store, tmp_path):  # issue 19 item 15
    """A regressor predicts a constant exactly, and CCC's formula is then 0/0: it scored 1.0 in every fold."""
    store = tmp_path / "store"
    shutil.copytree(dim_store, store)
    corpus = pd.read_csv(store / "corpus.csv", dtype=str, keep_default_na=False)
    corpus["flat"] = "3.5"
    corpus.loc[[3], "flat"] = ""  # an utterance without a value does not make the rest vary
    corpus.to_csv(store / "corpus.csv", index=False)
    result = CliRunner().invoke(app, ["train", str(store), "--out", str(tmp_path / "r.csv"), "--no-progress",
                                      "--features", "egemaps-func", "--target", "flat"])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert "--target flat: every utterance has the value 3.5" in lines[0], result.output
    assert not (tmp_path / "r.csv").exists()


def test_ccc_without_variance_in_the_true_values_is_undefined_never_1():  # issue 19 item 15
    assert np.isnan(ccc([2.0, 2.0, 2.0], [2.0, 2.0, 2.0]))  # was 1.0: 0/0
    assert np.isnan(ccc([2.0, 2.0, 2.0], [1.0, 2.0, 3.0]))  # was 0.0: nothing to agree with
    assert ccc([1.0, 2.0, 3.0], [2.0, 2.0, 2.0]) == 0.0  # a constant prediction of a varying target: no agreement


def test_a_fold_part_without_variance_is_refused_before_any_work():  # issue 19 item 15
    from featbench.train.folds import Fold, check_folds

    table = pd.DataFrame({"id": list("abcdefgh"), "group": list("aabbccdd"), "label": ["v Q1", "v Q2"] * 4,
                          VALUE: [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0]})
    folds = [Fold(0, ("a", "b"), "k-group-folds"), Fold(1, ("c", "d"), "k-group-folds")]
    with pytest.raises(FeatbenchError, match="the test part of fold 0 .* has one value, 1, of the target; CCC is undefined"):
        check_folds(table, folds)
    with pytest.raises(FeatbenchError, match="the training part of fold 1 .* has one value, 1, of the target; CCC is undefined"):
        check_folds(table, folds[1:])
