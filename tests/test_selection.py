"""Choices made on validation speakers (`@auto`, `selected`), learned layer weights (`@weighted`), per-speaker
and per-gender UA, and the honest headline of `compare`."""
import json
import shutil

import numpy as np
import pandas as pd

from featbench.results import labels
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.errors import FeatbenchError
from featbench.train.runner import Experiment, run_training

from tests.conftest import LAYERS


def _exp(store, **kw):
    base = dict(store=store, families=["toy@auto", "toy@weighted", "egemaps-func"], classifiers=["selected(logreg+svm)"],
                budgets=[2, "all"], seeds=[0, 1], n_folds=4, corpus="demo")
    return Experiment(**{**base, **kw})


CHOICE_COLUMNS = ["view", "classifier", "fold", "seed", "budget", "choice", "val_ua", "hparams", "hp_selection"]


@pytest.mark.parametrize("normalisation", ["training", "per-speaker"])
def test_permuting_test_labels_changes_no_choice(layered, tmp_path, normalisation, fold_0_only):
    """Selection never reads the test speakers: shuffling their labels changes scores, never a choice (also when
    each speaker is standardised on their own clips, test speakers included). Fold 0's rows are compared."""
    run_training(_exp(layered, normalisation=normalisation), tmp_path / "a.csv", progress=False)
    permuted = tmp_path / "permuted"
    shutil.copytree(layered, permuted)
    corpus = pd.read_csv(permuted / "corpus.csv", dtype=str, keep_default_na=False)
    a = pd.read_csv(tmp_path / "a.csv", dtype=str, keep_default_na=False)
    test_speakers = set(a.loc[a.fold == "0", "test_groups"].iloc[0].split())
    rng = np.random.default_rng(1)
    for speaker in test_speakers:  # shuffle within each test speaker: same class counts, same folds
        mask = corpus.speaker == speaker
        corpus.loc[mask, "label"] = rng.permutation(corpus.loc[mask, "label"].to_numpy())
    corpus.to_csv(permuted / "corpus.csv", index=False)
    run_training(_exp(permuted, normalisation=normalisation), tmp_path / "b.csv", progress=False)
    b = pd.read_csv(tmp_path / "b.csv", dtype=str, keep_default_na=False)
    key = ["view", "classifier", "fold", "seed", "budget"]
    a, b = (t[t.fold == "0"].sort_values(key).reset_index(drop=True) for t in (a, b))
    assert len(a) == 3 * 2 * 2 and (a.test_groups == b.test_groups).all()
    pd.testing.assert_frame_equal(a[CHOICE_COLUMNS], b[CHOICE_COLUMNS])
    assert (a.ua != b.ua).any()  # the permutation did reach the test scores
    made = [json.loads(c) for c in a.choice]
    assert all("layer" in m and "classifier" in m for m, f in zip(made, a.view) if f == "toy@auto")
    assert all(len(m["layer_weights"]) == LAYERS for m, f in zip(made, a.view) if f == "toy@weighted")
    assert set(labels(a)) == {f"{view}{'' if normalisation == 'training' else ' [per-speaker normalisation]'}"
                             for view in ("toy@auto", "toy@weighted", "egemaps-func")}


def test_selected_entry_is_the_chosen_plain_classifier(layered, tmp_path):
    """A `selected` row equals the row of the classifier it chose: the same grid, the same refit."""
    exp = _exp(layered, families=["egemaps-func", "toy@L2"], classifiers=["logreg", "svm", "selected"], seeds=[0])
    run_training(exp, tmp_path / "r.csv", progress=False)
    rows = pd.read_csv(tmp_path / "r.csv")
    assert set(rows.classifier) == {"logreg", "svm", "selected(logreg+svm)"}
    plain = rows[rows.classifier != "selected(logreg+svm)"].set_index(["view", "classifier", "fold", "budget"])
    chosen = rows[rows.classifier == "selected(logreg+svm)"]
    for r in chosen.itertuples():
        clf = json.loads(r.choice)["classifier"]
        twin = plain.loc[(r.view, clf, r.fold, r.budget)]
        assert (r.ua, r.hparams, r.val_ua) == (twin.ua, twin.hparams, twin.val_ua)
        others = [plain.loc[(r.view, c, r.fold, r.budget)].val_ua for c in ("logreg", "svm")]
        assert r.val_ua == max(others)


def test_auto_prefers_the_informative_layer_and_weights_follow_it(layered, tmp_path):
    run_training(_exp(layered, seeds=[0], budgets=["all"]), tmp_path / "r.csv", progress=False)
    rows = pd.read_csv(tmp_path / "r.csv")
    layers = [json.loads(c)["layer"] for c in rows[rows.view == "toy@auto"].choice]
    assert 0 not in layers  # layer 0 is pure noise
    weights = np.array([json.loads(c)["layer_weights"] for c in rows[rows.view == "toy@weighted"].choice])
    assert np.allclose(weights.sum(1), 1, atol=1e-3) and (weights[:, 0] < weights[:, 1:].max(1)).all()


def test_per_speaker_and_gender_scores(layered, tmp_path):
    run_training(_exp(layered, families=["egemaps-func"], classifiers=["logreg"], seeds=[0]), tmp_path / "r.csv", progress=False)
    rows = pd.read_csv(tmp_path / "r.csv")
    corpus = pd.read_csv(layered / "corpus.csv")
    for r in rows.itertuples():  # leave-one-speaker-out: the one test speaker's UA is the fold's UA
        speakers, genders = json.loads(r.ua_by_speaker), json.loads(r.ua_by_gender)
        assert list(speakers) == [r.test_groups] and speakers[r.test_groups] == pytest.approx(r.ua)
        assert list(genders) == list(corpus.loc[corpus.speaker == r.test_groups, "gender"].unique())


def test_weighted_sequence_model_learns_layer_weights(layered, tmp_path):
    exp = _exp(layered, families=["toy@weighted"], classifiers=["seq"], budgets=["all"], seeds=[0], seq_epochs=3)
    run_training(exp, tmp_path / "s.csv", progress=False)
    rows = pd.read_csv(tmp_path / "s.csv")
    weights = np.array([json.loads(c)["layer_weights"] for c in rows.choice])
    assert weights.shape == (4, LAYERS) and np.allclose(weights.sum(1), 1, atol=1e-3)
    assert not np.allclose(weights, 1 / LAYERS, atol=1e-4)  # learned, not left at the start


@pytest.mark.parametrize("features, classifiers, message", [
    ("toy@auto", "seq", "for the sequence model use 'toy@weighted'"),
    ("toy@auto", "selected(logreg+knn)", "choose among utterance-level classifiers"),
    ("toy@auto", "selected,selected(svm)", "both name a selected entry"),
    ("toy@L7", "logreg", "choose a layer of toy from L0 to L2, or @all, @auto"),
    ("egemaps-func@auto", "logreg", "was not extracted with all layers"),
])
def test_selection_configuration_errors(layered, tmp_path, features, classifiers, message):
    result = CliRunner().invoke(app, ["train", str(layered), "--features", features, "--classifiers", classifiers,
                                      "--out", str(tmp_path / "r.csv"), "--no-progress"])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and message in result.output, result.output
    assert not (tmp_path / "r.csv").exists()


def test_compare_headline_uses_honest_entries_only(layered, tmp_path):
    from featbench.report import compare

    exp = _exp(layered, families=["egemaps-func", "toy@L1", "toy@L2", "toy@auto"], classifiers=["logreg", "svm"],
               budgets=[1, 2, "all"], seeds=[0])
    run_training(exp, tmp_path / "r.csv", progress=False)
    made = compare([tmp_path / "r.csv"], tmp_path / "oracle", baseline="egemaps-func", n_boot=100)
    assert made.headline == [] and "No honest headline" in made.markdown
    assert "(oracle)" in (tmp_path / "oracle" / "summary.md").read_text()
    run_training(_exp(layered, families=exp.families, classifiers=["selected"], budgets=[1, 2, "all"], seeds=[0]),
                 tmp_path / "s.csv", progress=False)
    made = compare([tmp_path / "r.csv", tmp_path / "s.csv"], tmp_path / "honest", baseline="egemaps-func", n_boot=100)
    assert [h.split(" against ", 1)[0] for h in made.headline] == ["toy, layer chosen on validation speakers"]  # @auto:
    # sibling layers L1, L2 never headline
    entries = json.loads((tmp_path / "honest" / "protocol.json").read_text())["entries"]
    assert entries["toy@L1"]["classifier"] == "selected" and entries["toy@L1"]["pick"].startswith("chosen per fold")
    for name in ["choices.csv", "by_speaker.csv", "by_gender.csv"]:
        assert len(pd.read_csv(tmp_path / "honest" / name)) > 0, name
    page = (tmp_path / "honest" / "report.html").read_text()
    assert "Who it fails" in page and "Choices made on validation speakers" in page


def test_results_of_older_versions_are_read_not_appended(tmp_path, demo_store):
    from featbench.results import OLDEST_COLUMNS, RESULT_COLUMNS, ResultsFile, read_results

    run_training(Experiment(demo_store, ["egemaps-func"], ["logreg"], [2], [0], n_folds=2), tmp_path / "r.csv", progress=False)
    rows = pd.read_csv(tmp_path / "r.csv", dtype=str, keep_default_na=False)
    rows[OLDEST_COLUMNS].to_csv(tmp_path / "old.csv", index=False)
    old = read_results(tmp_path / "old.csv").rows
    assert list(old.columns) == RESULT_COLUMNS and (old.choice == "").all() and old.val_ua.isna().all()
    before = (tmp_path / "old.csv").read_bytes()
    with pytest.raises(FeatbenchError, match="results schema 1-2 .* `featbench results upgrade"):
        ResultsFile(tmp_path / "old.csv").__enter__()
    assert (tmp_path / "old.csv").read_bytes() == before
