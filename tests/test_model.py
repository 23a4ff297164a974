"""Fit and predict (featbench.model): a saved model predicts as the fitted one, --holdout-fold reproduces the
benchmark's rows, bad clips are listed, and bad model folders are refused in one line before any clip."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score
from typer.testing import CliRunner

from featbench.cli import EXIT_PARTIAL, app
from featbench.errors import FeatbenchError
from featbench.model import FitSpec, fit_model, load_model
from featbench.model.features import view_matrix
from featbench.results import Setup, labels
from featbench.train.runner import Experiment, prepare_grid, run_training
from tests.conftest import LAYERS, SHARED
from tests.test_faults import _assert_one_line_error

runner = CliRunner()
HUBERT = SHARED / "models" / "fairseq-reference" / "hubert_base_tiny_cfg.pt"


def _invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def _row(results: Path, family: str, classifier: str, fold: int, seed: int, budget) -> pd.Series:
    rows = pd.read_csv(results, dtype=str, keep_default_na=False)
    row = rows[(labels(rows) == family) & (rows.classifier == classifier) & (rows.fold == str(fold))
               & (rows.seed == str(seed)) & (rows.budget == str(budget))]
    assert len(row) == 1, rows[["view", "normalisation", "classifier", "fold", "seed", "budget"]]
    return row.iloc[0]


@pytest.fixture(scope="module")
def egemaps_model(demo_store, tmp_path_factory) -> Path:
    """A logreg on egemaps-func of the demo store, fitted on the whole store and saved."""
    folder = tmp_path_factory.mktemp("models") / "egemaps"
    fit_model(FitSpec.of(demo_store, "egemaps-func", "logreg")).model.save(folder)
    return folder


@pytest.fixture(scope="module")
def hubert(tmp_path_factory):
    """(checkpoint, corpus, store): a copy of the tiny fairseq HuBERT checkpoint (every layer extracted) and a
    16-clip demo corpus (4 speakers x 4 classes) extracted with it."""
    from featbench.corpus import load_corpus, synthetic
    from featbench.extract import run_extraction

    if not HUBERT.is_file():
        pytest.skip(f"fairseq reference checkpoint not found at {HUBERT}")
    base = tmp_path_factory.mktemp("hubert")
    checkpoint = Path(shutil.copy(HUBERT, base / "hubert.pt"))
    synthetic.generate(base / "corpus", per_class=1, speakers=4)
    report = run_extraction(load_corpus("demo", base / "corpus"), [("fairseq", {"checkpoint": str(checkpoint), "layer": "all"})],
                            base / "store", progress=False)
    assert report.extracted == 16, report.summary()
    return checkpoint, base / "corpus", base / "store"


def test_saved_model_predicts_in_a_fresh_process_as_in_memory(hubert, tmp_path):
    """fairseq@weighted with a selected classifier: fitted, saved, then `python -m featbench predict` in a new
    process (reading the same features from a copy of the store) gives the in-memory model's probabilities."""
    _, corpus, store = hubert
    result = fit_model(FitSpec.of(store, "fairseq@weighted", "selected(logreg+svm)", seed=1))
    model = result.model
    model.save(tmp_path / "model")
    data, *_ = prepare_grid(Experiment(store, ["fairseq@weighted"], ["logreg"], ["all"], [0]))
    pred, proba = model.predict(data.views[Setup("fairseq@weighted")].X)
    assert proba.shape == (16, 4) and np.allclose(proba.sum(axis=1), 1.0)
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text())
    assert manifest["files"]["layer_weighting"]["n_layers"] == 3 and len(manifest["choice"]["layer_weights"]) == 3
    assert manifest["families"][0]["config"]["checkpoint"] == str(hubert[0])

    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    done = subprocess.run([sys.executable, "-m", "featbench", "predict", tmp_path / "model", corpus, "--layout", "demo",
                           "--store", copy, "--out", tmp_path / "p.csv", "--no-progress"],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "16 clips already stored, 0 extracted" in done.stdout, done.stdout  # the very features the model was fitted on
    out = pd.read_csv(tmp_path / "p.csv").set_index("id").loc[data.table["id"]]
    np.testing.assert_array_equal(out[[f"p_{c}" for c in model.labels]].to_numpy(), proba)
    assert out["predicted"].tolist() == [model.labels[i] for i in pred]
    assert f"UA {balanced_accuracy_score(out['label'], out['predicted']):.1%} over 16 clips" in done.stdout


@pytest.mark.parametrize("features, classifier, fold, seed, budget, normalise", [
    ("egemaps-func", "logreg", 1, 1, 2, "training"),
    ("egemaps-lld+egemaps-func", "selected(logreg+svm)", 2, 0, "all", "training"),
    ("egemaps-func", "selected(logreg+svm)", 0, 1, "all", "per-speaker"),  # predict: each speaker on their own clips
])
def test_holdout_fold_reproduces_the_benchmark_row(demo_store, demo_corpus_master, tmp_path, features, classifier, fold,
                                                   seed, budget, normalise):
    """fit --holdout-fold K, then predict the held-out speakers' audio (extracted afresh): the benchmark row's UA."""
    grid = ["--features", features, "--classifiers", classifier, "--budgets", "2,all", "--seeds", "0,1", "--folds", 4,
            "--normalise", normalise]
    trained = _invoke("train", demo_store, *grid, "--out", tmp_path / "r.csv", "--no-progress")
    assert trained.exit_code == 0, trained.output
    family = features if normalise == "training" else f"{features} [{normalise} normalisation]"
    row = _row(tmp_path / "r.csv", family, classifier, fold, seed, budget)
    fitted = _invoke("fit", demo_store, "--features", features, "--classifier", classifier, "--holdout-fold", fold,
                     "--folds", 4, "--seed", seed, "--budget", budget, "--out", tmp_path / "model", "--normalise", normalise)
    assert fitted.exit_code == 0, fitted.output
    assert f"fold {fold} of 4 ({row['test_groups']}): UA {float(row['ua']):.1%}" in fitted.output
    predicted = _invoke("predict", tmp_path / "model", demo_corpus_master, "--layout", "demo", "--holdout-only",
                        "--out", tmp_path / "p.csv", "--no-progress")
    assert predicted.exit_code == 0, predicted.output
    out = pd.read_csv(tmp_path / "p.csv")
    assert len(out) == int(row["n_test"]) and f"0 clips already stored, {len(out)} extracted" in predicted.output
    assert "trained on" not in predicted.output  # held-out speakers only: a held-out score
    assert balanced_accuracy_score(out["label"], out["predicted"]) == float(row["ua"])
    assert not (tmp_path / "p_errors.csv").exists()
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text())
    assert json.dumps(manifest["choice"]["hparams"], sort_keys=True) == row["hparams"]
    assert manifest["choice"]["selection"] == row["hp_selection"]
    assert round(manifest["choice"]["val_ua"], 6) == float(row["val_ua"])  # the same validation speakers
    assert manifest["training"]["utterances"] == int(row["n_train"])
    assert round(manifest["training"]["holdout"]["ua"], 6) == float(row["ua"])  # exact; the summary says it in %


@pytest.mark.parametrize("view", ["toy@weighted", "toy@auto"])
def test_holdout_fold_reproduces_selected_auto_and_weighted_rows(layered, tmp_path, view):
    """A saved and loaded selected entry on an all-layer view (layer chosen, or layers weighted) scores the
    held-out fold's features as its benchmark row did, with the same choice."""
    run_training(Experiment(layered, [view], ["selected(logreg+svm)"], [2, "all"], [0, 1], n_folds=4), tmp_path / "r.csv",
                 progress=False)
    for fold, seed, budget in ((0, 1, "all"), (3, 0, 2)):
        row = _row(tmp_path / "r.csv", view, "selected(logreg+svm)", fold, seed, budget)
        result = fit_model(FitSpec.of(layered, view, "selected(logreg+svm)", seed=seed, budget=budget, holdout_fold=fold, n_folds=4))
        model = load_model(result.model.save(tmp_path / f"m{fold}"))
        table = pd.read_csv(layered / "corpus.csv", dtype=str, keep_default_na=False)
        test = table[table.group.isin(row["test_groups"].split())].sort_values("id")
        pred, _ = model.predict(view_matrix(model, layered, list(test["id"])))
        truth = test["label"].map({label: i for i, label in enumerate(model.labels)})
        assert balanced_accuracy_score(truth, pred) == float(row["ua"]) == result.holdout_ua
        made = json.loads(row["choice"])
        assert round(model.manifest["choice"]["val_ua"], 6) == float(row["val_ua"])
        assert model.manifest["choice"]["selection"] == row["hp_selection"]
        assert made["classifier"] == model.manifest["choice"]["classifier"]
        if view.endswith("@auto"):
            assert made["layer"] == model.layer
        else:
            np.testing.assert_allclose(model.weighting.weights_, made["layer_weights"], atol=6e-5)


def test_corrupt_clip_is_listed_and_the_others_labelled(egemaps_model, demo_corpus, tmp_path):
    victim = sorted((demo_corpus / "f1").glob("*.wav"))[0]
    victim.write_bytes(b"RIFF\x00\x00not audio at all")
    result = _invoke("predict", egemaps_model, demo_corpus, "--out", tmp_path / "p.csv", "--no-progress")
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert f"failed: {victim}: egemaps-func: " in result.output
    out, errors = pd.read_csv(tmp_path / "p.csv"), pd.read_csv(tmp_path / "p_errors.csv")
    assert len(out) == 31 and str(victim) not in set(out["path"]) and "label" not in out
    assert errors["path"].tolist() == [str(victim)]
    assert set(out["predicted"]) <= {"angry", "happy", "neutral", "sad"}


def test_saved_model_is_read_once_as_load_model_reads_it(demo_store, tmp_path):
    """After save, the fitted model's typed manifest (what `fit`'s summary reads) is the one load_model reads from
    the bytes written, holdout and its condition included."""
    result = fit_model(FitSpec.of(demo_store, "egemaps-func", "logreg", budget=2, holdout_fold=1))
    result.model.save(tmp_path / "m")
    saved, loaded = result.model.record, load_model(tmp_path / "m").record
    assert saved == loaded and saved.training.holdout.condition == "clean"
    assert saved.training.holdout.ua == result.holdout_ua
    assert f"UA {result.holdout_ua:.1%} on {saved.training.holdout.test_utterances} utterances" in result.summary("m")


@pytest.mark.parametrize("condition, needle", [
    ("white:abc", "field 'training.holdout.condition'"), ("white:20.0", "is not written as featbench writes it")])
def test_holdout_condition_is_checked_when_the_manifest_is_read(egemaps_model, condition, needle):
    from featbench.model.manifest import Manifest

    document = json.loads((egemaps_model / "manifest.json").read_text())
    document["training"]["holdout"] = {"fold": 0, "n_folds": 2, "test_groups": ["g"], "test_utterances": 4, "ua": 0.5,
                                       "condition": condition}
    with pytest.raises(FeatbenchError, match=needle):
        Manifest.of(document, "manifest.json")


@pytest.fixture(scope="module")
def per_speaker_model(demo_store, tmp_path_factory) -> Path:
    """A logreg on egemaps-func of the demo store, fitted with per-speaker normalisation."""
    folder = tmp_path_factory.mktemp("models") / "per-speaker"
    fit_model(FitSpec.of(demo_store, "egemaps-func", "logreg", normalisation="per-speaker")).model.save(folder)
    return folder


def test_per_speaker_model_standardises_each_named_speaker_on_their_clips(per_speaker_model, demo_corpus, tmp_path):
    """Plain audio of one speaker (--speaker) is standardised on those clips: the same labels as the corpus layout
    gives for that speaker, whatever else is predicted with it; a clip left alone by a failure is listed."""
    by_layout = _invoke("predict", per_speaker_model, demo_corpus, "--layout", "demo", "--out", tmp_path / "all.csv",
                        "--no-progress")
    assert by_layout.exit_code == 0, by_layout.output
    both = pd.read_csv(tmp_path / "all.csv")
    speaker_folder = demo_corpus / "f1"
    one = _invoke("predict", per_speaker_model, speaker_folder, "--speaker", "f1", "--out", tmp_path / "f1.csv",
                  "--no-progress")
    assert one.exit_code == 0, one.output
    alone = pd.read_csv(tmp_path / "f1.csv")
    assert set(alone["speaker"]) == {"f1"} and "fewer than 8 clips" not in one.output  # 8 clips: no note
    expected = both.set_index("path").loc[alone["path"]]
    assert len(alone) == 8 and (alone["predicted"].to_numpy() == expected["predicted"].to_numpy()).all()
    np.testing.assert_allclose(alone["p_sad"].to_numpy(), expected["p_sad"].to_numpy(), rtol=1e-5)

    two = tmp_path / "two"
    two.mkdir()
    for clip in sorted(speaker_folder.glob("*.wav"))[:2]:
        shutil.copy(clip, two / clip.name)
    (two / sorted(two.glob("*.wav"))[0].name).write_bytes(b"RIFF\x00\x00not audio at all")
    result = _invoke("predict", per_speaker_model, two, "--speaker", "f1", "--out", tmp_path / "two.csv", "--no-progress")
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "the only usable clip of speaker 'f1'" in result.output and len(pd.read_csv(tmp_path / "two.csv")) == 0
    three = _invoke("predict", per_speaker_model, *sorted(speaker_folder.glob("*.wav"))[:3], "--speaker", "f1",
                    "--out", tmp_path / "three.csv", "--no-progress")
    assert three.exit_code == 0 and "1 speaker(s) have fewer than 8 clips (f1: 3)" in three.output, three.output


@pytest.mark.parametrize("args, needle", [
    ([], "give --layout (the corpus names the speakers) or --speaker NAME"),
    (["--speaker", "f1", "--layout", "demo"], "with --layout the corpus names them"),
    (["--speaker", " "], "an empty one names nobody"),
])
def test_per_speaker_model_errors_are_one_line_before_any_clip(per_speaker_model, demo_corpus_master, tmp_path, args,
                                                               needle):
    result = _invoke("predict", per_speaker_model, demo_corpus_master, *args, "--out", tmp_path / "p.csv")
    _assert_one_line_error(result.exit_code, result.output, needle)
    clip = sorted((demo_corpus_master / "f1").glob("*.wav"))[0]
    result = _invoke("predict", per_speaker_model, clip, "--speaker", "f1", "--out", tmp_path / "p.csv")
    _assert_one_line_error(result.exit_code, result.output, "speaker 'f1' has one clip among the inputs")
    assert not (tmp_path / "p.csv").exists()


def test_speaker_is_refused_for_a_model_without_per_speaker_normalisation(egemaps_model, demo_corpus_master, tmp_path):
    result = _invoke("predict", egemaps_model, demo_corpus_master / "f1", "--speaker", "f1", "--out", tmp_path / "p.csv")
    _assert_one_line_error(result.exit_code, result.output, "leave --speaker out")


def _folder_copy(model: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "model"
    shutil.copytree(model, copy)
    return copy


def _edit_manifest(folder: Path, edit) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    edit(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("damage, needle", [
    (lambda f: _edit_manifest(f, lambda m: m.update(featbench_version="0.0.1")), "made by featbench 0.0.1"),
    (lambda f: (f / "manifest.json").unlink(), "manifest.json: missing"),
    (lambda f: (f / "manifest.json").write_text('{"format": "featbench-'), "garbled manifest"),
    (lambda f: (f / "classifier.pickle").unlink(), "classifier file is missing"),
    (lambda f: (f / "classifier.pickle").write_bytes(b"\x80\x04junk"), "damaged or replaced"),
    (lambda f: _edit_manifest(f, lambda m: m["families"][0].update(config_hash="0123456789ab")),
     "the model was trained on 0123456789ab"),
])
def test_bad_model_folders_are_one_line_before_any_clip(egemaps_model, demo_corpus_master, tmp_path, damage, needle):
    folder = _folder_copy(egemaps_model, tmp_path)
    damage(folder)
    result = _invoke("predict", folder, demo_corpus_master, "--out", tmp_path / "p.csv")
    _assert_one_line_error(result.exit_code, result.output, needle)
    assert not (tmp_path / "p.csv").exists()


def test_missing_checkpoint_is_one_line(hubert, tmp_path):
    """A model whose family's checkpoint moved away (a whisper model folder, a fairseq .pt) is refused."""
    checkpoint, corpus, store = hubert
    fit_model(FitSpec.of(store, "fairseq@L2", "logreg")).model.save(tmp_path / "model")
    aside = checkpoint.with_name("moved.pt")
    checkpoint.rename(aside)
    try:
        result = _invoke("predict", tmp_path / "model", corpus, "--out", tmp_path / "p.csv")
    finally:
        aside.rename(checkpoint)
    _assert_one_line_error(result.exit_code, result.output, "family 'fairseq' cannot be built", str(checkpoint), "not found")
    assert not (tmp_path / "p.csv").exists()


def test_store_of_another_configuration_is_one_line(egemaps_model, demo_corpus_master, tmp_path):
    from featbench.corpus import load_corpus
    from featbench.extract import run_extraction
    from featbench.store import family_path

    other = tmp_path / "other"
    run_extraction(load_corpus("demo", demo_corpus_master).head(2), [("egemaps-func", {"dtype": "float16"})], other,
                   progress=False)
    before = family_path(other, "egemaps-func").stat().st_mtime_ns
    result = _invoke("predict", egemaps_model, demo_corpus_master, "--store", other, "--out", tmp_path / "p.csv")
    _assert_one_line_error(result.exit_code, result.output, str(family_path(other, "egemaps-func")), "config hash")
    assert family_path(other, "egemaps-func").stat().st_mtime_ns == before and not (tmp_path / "p.csv").exists()


@pytest.mark.parametrize("args, needle", [
    (["--features", "toy@weighted", "--classifier", "seq"], "sequence model"),
    (["--features", "toy@all", "--classifier", "logreg"], "names several views"),
    (["--features", "ensemble(toy@L1,toy@L2)", "--classifier", "logreg"], "not an ensemble"),
    (["--features", "toy@L1", "--classifier", "logreg", "--holdout-fold", "4", "--folds", "4"], "0 to 3"),
    (["--features", "toy@L1", "--classifier", "logreg", "--folds", "4"], "give --holdout-fold too"),
    (["--features", "toy@L1", "--classifier", "logreg", "--normalise", "per-corpus"], "fit reads one store"),
    (["--features", "toy@L1", "--classifier", "logreg", "--budget", "2,4"], "give one budget"),
])
def test_fit_errors_are_one_line(layered, tmp_path, args, needle):
    result = _invoke("fit", layered, *args, "--out", tmp_path / "m")
    _assert_one_line_error(result.exit_code, result.output, needle)
    assert not (tmp_path / "m").exists()


def test_fit_refuses_a_folder_that_is_not_a_model_folder(layered, tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "notes.txt").write_text("mine")
    result = _invoke("fit", layered, "--features", "toy@L1", "--classifier", "logreg", "--out", tmp_path / "m")
    _assert_one_line_error(result.exit_code, result.output, "not a featbench model folder")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["notes.txt"]


def test_predicting_the_training_speakers_says_the_score_is_not_held_out(egemaps_model, demo_corpus_master, tmp_path):
    predicted = _invoke("predict", egemaps_model, demo_corpus_master, "--layout", "demo", "--out", tmp_path / "p.csv",
                        "--no-progress")
    assert predicted.exit_code == 0, predicted.output
    n = len(pd.read_csv(tmp_path / "p.csv"))
    assert f"note: {n} of the {n} scored clips are from speakers the model was trained on" in predicted.output


def test_model_package_uses_only_the_public_train_api():
    """featbench.model imports no private name of featbench.train and reaches into no train module's private
    attribute: fit and predict go through train.entry, train.runner.pooled_matrix and the other public names."""
    import ast

    offences = []
    for path in sorted((Path(__file__).parents[1] / "featbench" / "model").glob("*.py")):
        tree = ast.parse(path.read_text())
        modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("featbench.train"):
                offences += [f"{path.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
                modules |= {a.asname or a.name for a in node.names}
            elif isinstance(node, ast.Import):
                modules |= {a.asname or a.name for a in node.names if a.name.startswith("featbench.train")}
        offences += [f"{path.name}: {ast.unparse(node)}" for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                     and node.attr.startswith("_") and not node.attr.startswith("__") and ast.unparse(node.value) in modules]
    assert offences == []


def test_fit_fits_the_layer_weighting_once_per_choice(layered, monkeypatch):
    """An @weighted view's weightings (learned, uniform, each layer alone) are fitted on the fit rows (to choose) and
    the chosen one once on the training rows (the model), as in a grid task; the saved weighting is the one the
    classifier was trained on, not a second fit."""
    from featbench.train.layer_weights import LayerWeighting

    fitted_on, fit = [], LayerWeighting.fit
    monkeypatch.setattr(LayerWeighting, "fit", lambda self, X, y: fitted_on.append(len(X)) or fit(self, X, y))
    result = fit_model(FitSpec.of(layered, "toy@weighted", "selected(logreg+svm)", seed=1, budget=2, holdout_fold=3,
                                  n_folds=4))
    training = result.model.manifest["training"]
    assert fitted_on == [training["validation"]["fit_utterances"]] * (2 + LAYERS) + [training["utterances"]]
    assert result.model.manifest["choice"]["layer_weights"] == result.model.weighting.weights_.tolist()


def _spy_on_fits(monkeypatch) -> list:
    """Patch train.entry.fit_entry (and a grid's own binding of it, where one exists) to record each fit's inputs:
    (seed, training rows, fit rows, validation rows, the training rows' features)."""
    import featbench.train.entry as entry
    import featbench.train.grid as grid

    calls, fit = [], entry.fit_entry

    def spy(name, view, X, y, train_rows, fit_rows, val_rows, seed, *args, **kwargs):
        calls.append((seed, list(train_rows), list(fit_rows), list(val_rows), np.asarray(X[train_rows]).tolist()))
        return fit(name, view, X, y, train_rows, fit_rows, val_rows, seed, *args, **kwargs)

    monkeypatch.setattr(entry, "fit_entry", spy)
    monkeypatch.setattr(grid, "fit_entry", spy, raising=False)
    return calls


@pytest.mark.parametrize("normalise", ["training", "per-speaker"])
def test_fit_trains_on_the_rows_of_its_grid_task(layered, tmp_path, monkeypatch, normalise):
    """fit --holdout-fold K --seed S --budget B trains and validates on exactly the rows (and features) the grid task
    of (fold K, seed S, budget B) fitted on: both run train.fit_task, which picks them through the run's design."""
    calls = _spy_on_fits(monkeypatch)
    settings = dict(n_folds=4, normalisation=normalise)
    report = run_training(Experiment(layered, ["toy@L2"], ["logreg"], [2], [1], **settings), tmp_path / "r.csv",
                          progress=False)
    assert len(calls) == 4, report  # one fit per fold, in fold order
    grid_calls = list(calls)
    for fold in (0, 3):
        calls.clear()
        fit_model(FitSpec.of(layered, "toy@L2", "logreg", seed=1, budget=2, holdout_fold=fold, **settings))
        (fitted,) = calls
        assert fitted[:4] == grid_calls[fold][:4]  # the same seed, training, fit and validation rows
        assert fitted[1] and fitted[3]  # (not vacuous: rows to train on, speakers to validate on)
        assert fitted[4] == grid_calls[fold][4]  # read the same features


@pytest.mark.parametrize("settings, needle", [
    (dict(families=["toy@L1", "toy@L2"]), "give one view"),
    (dict(seeds=[0, 1]), "give one seed"),
    (dict(budgets=None), "give one budget"),
    (dict(add_store=Path("elsewhere")), "fit reads one store"),
    (dict(target="arousal"), "no --target"),
])
def test_fit_spec_is_an_experiment_of_one_model(layered, settings, needle):
    """A FitSpec holds an Experiment (no field repeated): one naming several models is refused in one line."""
    from dataclasses import fields, replace

    assert [f.name for f in fields(FitSpec)] == ["experiment", "holdout_fold"]
    spec = FitSpec.of(layered, "toy@L1", "logreg")
    with pytest.raises(FeatbenchError, match=needle):
        fit_model(replace(spec, experiment=replace(spec.experiment, **settings)))
