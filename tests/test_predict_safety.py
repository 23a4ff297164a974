"""predict on hostile or careless input: a training store's corpus table is never changed, --out never overwrites
a file that is not its own, a bad --out or a model manifest of wrong types is refused in one line before any clip,
and the temporary stores of killed runs are removed."""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import dead_and_live_folders
from typer.testing import CliRunner

from featbench.cli import app
from featbench.model import FitSpec, fit_model
from tests.test_faults import _assert_one_line_error

runner = CliRunner()


def _invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def model(demo_store, tmp_path_factory) -> Path:
    """A logreg on egemaps-func of the demo store, fitted on the whole store and saved."""
    folder = tmp_path_factory.mktemp("models") / "egemaps"
    fit_model(FitSpec.of(demo_store, "egemaps-func", "logreg")).model.save(folder)
    return folder


@pytest.fixture
def training_store(demo_store, tmp_path) -> Path:
    copy = tmp_path / "training-store"
    shutil.copytree(demo_store, copy)
    return copy


# ------------------------------------------------------------------------------------- item 4: --store

def test_plain_clips_are_refused_in_a_training_store(model, training_store, demo_corpus_master, tmp_path):
    """Unlabelled clips would enter the training store's corpus.csv (and `train` then fails on class '')."""
    before = (training_store / "corpus.csv").read_bytes()
    result = _invoke("predict", model, demo_corpus_master / "f1", "--store", training_store, "--out", tmp_path / "p.csv")
    _assert_one_line_error(result.exit_code, result.output, str(training_store), "labelled", "--store")
    assert (training_store / "corpus.csv").read_bytes() == before and not (tmp_path / "p.csv").exists()
    trained = _invoke("train", training_store, "--features", "egemaps-func", "--classifiers", "logreg", "--budgets", "all",
                      "--seeds", "0", "--out", tmp_path / "r.csv", "--no-progress")
    assert trained.exit_code == 0, trained.output


def test_a_layout_that_would_relabel_a_training_store_is_refused(demo_store, training_store, demo_corpus_master,
                                                                  tmp_path):
    """A model fitted with --merge gives merged labels: written into the store they would change its benchmark."""
    fit_model(FitSpec.of(demo_store, "egemaps-func", "logreg", merge={"sad": "neutral"})).model.save(tmp_path / "merged")
    before = (training_store / "corpus.csv").read_bytes()
    result = _invoke("predict", tmp_path / "merged", demo_corpus_master, "--layout", "demo", "--store", training_store,
                     "--out", tmp_path / "p.csv")
    _assert_one_line_error(result.exit_code, result.output, "corpus.csv", "'sad'", "'neutral'")
    assert (training_store / "corpus.csv").read_bytes() == before


def test_the_training_clips_of_a_training_store_are_reused_and_its_table_kept(model, training_store,
                                                                            demo_corpus_master, tmp_path):
    before = (training_store / "corpus.csv").read_bytes()
    result = _invoke("predict", model, demo_corpus_master, "--layout", "demo", "--store", training_store,
                     "--out", tmp_path / "p.csv", "--no-progress")
    assert result.exit_code == 0 and "32 clips already stored, 0 extracted" in result.output, result.output
    assert (training_store / "corpus.csv").read_bytes() == before


def test_a_store_of_its_own_takes_plain_and_labelled_clips(model, demo_corpus_master, tmp_path):
    store = tmp_path / "predict-store"
    for args in ([demo_corpus_master / "f1"], [demo_corpus_master / "m1"], [demo_corpus_master, "--layout", "demo"]):
        result = _invoke("predict", model, *args, "--store", store, "--out", tmp_path / "p.csv", "--no-progress")
        assert result.exit_code == 0, result.output


# ------------------------------------------------------------------------------------- items 5, 6: --out

@pytest.mark.parametrize("target, needle", [
    (lambda m, t: m / "manifest.json", "inside the model folder"),
    (lambda m, t: m / "new.csv", "inside the model folder"),
    (lambda m, t: t / "notes.csv", "not a predictions file"),
    (lambda m, t: t / "folder", "is a folder"),
    (lambda m, t: t / "afile" / "p.csv", "not a folder"),
])
def test_out_is_checked_before_any_clip(model, demo_corpus_master, tmp_path, target, needle):
    folder = tmp_path / "model"
    shutil.copytree(model, folder)
    (tmp_path / "notes.csv").write_text("id,path,mine\n1,2,3\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "afile").write_text("mine")
    files = {p: p.read_bytes() for p in [*folder.iterdir(), tmp_path / "notes.csv", tmp_path / "afile"]}
    out = target(folder, tmp_path)
    result = _invoke("predict", folder, demo_corpus_master / "f1", "--store", tmp_path / "store", "--out", out)
    _assert_one_line_error(result.exit_code, result.output, needle)
    assert not (tmp_path / "store").exists()  # no clip extracted
    assert {p: p.read_bytes() for p in files} == files and sorted(folder.iterdir()) == sorted(p for p in files
                                                                                            if p.parent == folder)


def test_out_of_the_same_model_is_replaced_and_of_another_refused(model, demo_store, demo_corpus_master, tmp_path):
    out = tmp_path / "p.csv"
    for _ in range(2):
        result = _invoke("predict", model, demo_corpus_master / "f1", "--out", out, "--no-progress")
        assert result.exit_code == 0, result.output
    assert len(pd.read_csv(out)) == 8
    other = tmp_path / "other"
    fit_model(FitSpec.of(demo_store, "egemaps-func", "logreg", seed=1, budget=1)).model.save(other)
    before = out.read_bytes()
    result = _invoke("predict", other, demo_corpus_master / "f1", "--out", out)
    _assert_one_line_error(result.exit_code, result.output, str(out), "another model")
    assert out.read_bytes() == before


def test_an_errors_file_that_is_not_ours_is_not_removed(model, demo_corpus_master, tmp_path):
    """predict removes an earlier run's <stem>_errors.csv; a file of the user's with that name stays."""
    (tmp_path / "p_errors.csv").write_text("mine\n")
    result = _invoke("predict", model, demo_corpus_master / "f1", "--out", tmp_path / "p.csv", "--store",
                     tmp_path / "store")
    _assert_one_line_error(result.exit_code, result.output, "p_errors.csv", "not a predictions file")
    assert (tmp_path / "p_errors.csv").read_text() == "mine\n" and not (tmp_path / "store").exists()


# ------------------------------------------------------------------------------------- item 7: manifest types

def _set(path: str, value):
    def edit(manifest):
        *parents, last = path.split(".")
        node = manifest
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value
    return edit


@pytest.mark.parametrize("edit, needle", [
    (_set("training", KeyError), "field 'training' is missing"),
    (_set("families.0.audio", KeyError), "field 'families.0.audio' is missing"),
    (_set("labels", 3), "field 'labels' must be a list of strings (got int)"),
    (_set("labels", ["a", 2]), "field 'labels.1' must be a string (got int)"),
    (_set("choice", "logreg"), "field 'choice' must be an object (got str)"),
    (_set("training.merge", []), "field 'training.merge' must be an object"),
    (_set("training.holdout", {"fold": 0}), "field 'training.holdout.n_folds' is missing"),
    (_set("training.holdout", {"fold": 0, "n_folds": 4, "test_groups": "f1", "test_utterances": 8, "ua": 0.5}),
     "field 'training.holdout.test_groups' must be a list of strings (got str)"),
    (_set("families", {}), "field 'families' must be a list"),
    (_set("families.0.config", None), "field 'families.0.config' must be an object (got null)"),
    (_set("files.classifier", "classifier.joblib"), "field 'files.classifier' must be an object (got str)"),
    (_set("view.layer", "4"), "field 'view.layer' must be an integer or null (got str)"),
    (_set("families.0.audio", {"sample_rate": 16000, "bogus": 1}), "field 'families.0.audio.bogus' is not known"),
    (_set("labels", ["angry"]), "the classifier's classes ([0, 1, 2, 3]) are not indices into the manifest's 1 labels"),
    # issue 26: values the types alone did not check
    (lambda m: m["labels"].__setitem__(1, m["labels"][0]), "field 'labels' names 'angry' twice; each class once"),
    (_set("format_version", 1), "format_version 1 is not one this featbench reads (2); fit the model again"),
    (_set("format_version", "2"), "format_version \"2\" is not one this featbench reads (2)"),
    (_set("files.classifier.path", "../model/classifier.pickle"), "field 'files.classifier.path' must be classifier.pickle"),
    (_set("families.0.rows", "rows"), "field 'families.0.rows' 'rows' is not a row kind (frames, utterance, waveform, tokens)"),
    (_set("families.0.dtype", "float64"), "field 'families.0.dtype' 'float64' is not a stored dtype (float32, float16)"),
    (_set("choice.val_ua", float("inf")), "field 'choice' holds a number that is not finite"),
])
def test_manifest_of_wrong_types_is_one_line_naming_the_field(model, demo_corpus_master, tmp_path, edit, needle):
    folder = tmp_path / "model"
    shutil.copytree(model, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    edit(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    result = _invoke("predict", folder, demo_corpus_master / "f1", "--out", tmp_path / "p.csv")
    _assert_one_line_error(result.exit_code, result.output, f"{folder / 'manifest.json'}: {needle}")
    assert not (tmp_path / "p.csv").exists()


# ------------------------------------------------------------------------------------- item 13: temp stores

def test_temporary_stores_of_killed_predict_runs_are_removed(model, demo_corpus_master, tmp_path, monkeypatch):
    stale, live = dead_and_live_folders(tmp_path, "featbench-predict-", "corpus.csv")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = _invoke("predict", model, demo_corpus_master / "f1", "--out", tmp_path / "p.csv", "--no-progress")
    assert result.exit_code == 0, result.output
    assert not stale.exists() and live.exists()
    assert sorted(p.name for p in tmp_path.glob("featbench-predict-*")) == [live.name]  # its own went too
