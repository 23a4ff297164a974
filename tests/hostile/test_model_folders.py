"""Surface: model folders handed to `featbench predict` (made by `fit` elsewhere, copied, edited, damaged, or crafted).

The contract of `load_model` (what predict does first) and of the loaded model's `predict`: the model the folder
describes, or one line naming the folder's file (and the manifest's field). Never a traceback, a hang, a label's
probability column lost, or code run: a crafted classifier file whose sha256 the attacker also wrote into the
manifest is refused naming the global it asks for, and the command it carries never runs.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import random
import shutil
from pathlib import Path

import numpy as np

from hostile.contract import (
    Case,
    Surface,
    assert_one_line_error,
    campaign,
    cases_budget,
    hostile_value,
    mutate,
    run_cli,
)

ENTRIES = ("logreg", "svm", "lgbm", "mlp")
_BASES: dict[Path, dict] = {}


def base_models(workdir: Path) -> dict[str, Path]:
    """One model folder per classifier entry, fitted once per work folder on egemaps-func of a small synthetic
    corpus (about 5 s)."""
    if workdir not in _BASES:
        from featbench.corpus import load_corpus, synthetic
        from featbench.extract import run_extraction
        from featbench.model import FitSpec, fit_model

        root = workdir / "base"
        synthetic.generate(root / "corpus", per_class=2, speakers=4)
        run_extraction(load_corpus("demo", root / "corpus"), [("egemaps-func", {})], root / "store", progress=False)
        _BASES[workdir] = {
            entry: fit_model(FitSpec.of(root / "store", "egemaps-func", entry)).model.save(root / entry)
            for entry in ENTRIES
        }
    return _BASES[workdir]


class _Command:
    """What a crafted pickle asks to run: `os.system` touching a marker file."""

    def __init__(self, marker: Path, how: int):
        self.marker, self.how = marker, how

    def __reduce__(self):
        import builtins
        import os
        import subprocess

        if self.how == 0:
            return (os.system, (f"touch {self.marker}",))
        if self.how == 1:
            return (builtins.eval, (f"open({str(self.marker)!r}, 'w')",))
        return (subprocess.call, (["touch", str(self.marker)],))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rehash(folder: Path) -> None:
    """Write the classifier's sha256 into the manifest, as an attacker who edits both would."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["classifier"]["sha256"] = _sha256(folder / manifest["files"]["classifier"]["path"])
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _nodes(value, path=()):
    """Every (path, value) in a JSON document."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _nodes(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nodes(v, (*path, i))


def _set(document, path, value):
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def _load_and_predict(folder: Path):
    from featbench.model import load_model

    model = load_model(folder)
    X = np.random.default_rng(0).normal(size=(5, model.classifier.steps[0][1].n_features_in_)).astype(np.float32)
    return model, *model.predict(X)


def _described(folder: Path):
    """The check of an accepted folder: the labels its manifest names (each once), a label index per clip and a
    finite probability per label."""

    def check(result):
        model, pred, proba = result
        labels = json.loads((folder / "manifest.json").read_text())["labels"]
        return (
            model.labels == labels
            and len(set(labels)) == len(labels)
            and proba.shape == (5, len(labels))
            and bool(np.isfinite(proba).all())
            and all(0 <= p < len(labels) for p in pred)
        )

    return check


def model_cases(rng: random.Random, workdir: Path):
    bases = base_models(workdir)
    i = 0
    while True:
        i += 1
        folder = workdir / f"m{i}"
        shutil.copytree(bases[rng.choice(ENTRIES)], folder)
        manifest_path = folder / "manifest.json"
        document = json.loads(manifest_path.read_text())
        classifier = folder / document["files"]["classifier"]["path"]
        kind, names, check = rng.randrange(7), [str(folder)], _described(folder)
        if kind == 0:  # damaged manifest bytes
            manifest_path.write_bytes(mutate(manifest_path.read_bytes(), rng))
        elif kind == 1:  # one field of the wrong type or value
            path, _ = rng.choice([n for n in _nodes(document) if n[0]])
            value = hostile_value(rng)
            _set(document, path, value.decode("latin-1") if isinstance(value, bytes) else value)
            manifest_path.write_text(json.dumps(document, allow_nan=True))
        elif kind == 2:  # a label twice: one probability column would be lost
            labels = document["labels"]
            labels[rng.randrange(1, len(labels))] = labels[0]
            manifest_path.write_text(json.dumps(document))
            check = lambda result: False  # noqa: E731
        elif kind == 3:  # files missing or extra
            choice = rng.randrange(4)
            if choice == 0:
                classifier.unlink()
            elif choice == 1:
                manifest_path.unlink()
            else:
                (folder / ("classifier.joblib" if choice == 2 else "notes.txt")).write_bytes(b"\x80\x04junk")
        elif kind == 4:  # a damaged classifier whose sha256 the manifest agrees with
            classifier.write_bytes(mutate(classifier.read_bytes(), rng))
            _rehash(folder)
        elif kind == 5:  # a crafted classifier that runs a command when unpickled
            marker = workdir / f"ran{i}"
            classifier.write_bytes(pickle.dumps(_Command(marker, rng.randrange(3))))
            _rehash(folder)
            names = [str(classifier)]
            yield Case(f"{folder.name} crafted pickle", lambda f=folder: _load_and_predict(f), lambda r: False, names)
            assert not marker.exists(), f"{marker}: the crafted model ran a command"
            continue
        else:  # the classifier file swapped for another model's (sha256 no longer matches)
            other = bases[rng.choice(ENTRIES)] / classifier.name
            if other.read_bytes() != classifier.read_bytes():
                shutil.copy(other, classifier)
                check = lambda result: False  # noqa: E731
        yield Case(f"{folder.name} kind {kind}", lambda f=folder: _load_and_predict(f), check, names)


SURFACE = Surface("model folders", model_cases)


def test_generated_model_folders_load_as_described_or_are_refused_in_one_line(tmp_path):
    campaign(SURFACE, cases_budget(40), tmp_path).assert_clean(at_least=40)


def test_predict_refuses_a_crafted_model_folder_and_runs_nothing(tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(base_models(tmp_path)["logreg"], folder)
    marker = tmp_path / "pwned"
    classifier = folder / json.loads((folder / "manifest.json").read_text())["files"]["classifier"]["path"]
    classifier.write_bytes(pickle.dumps(_Command(marker, 0)))
    _rehash(folder)
    result = run_cli(
        ["predict", str(folder), str(tmp_path / "base" / "corpus"), "--out", str(tmp_path / "p.csv")], seconds=120
    )
    assert not marker.exists(), "the crafted model folder ran a command"
    line = assert_one_line_error(
        result, f"{classifier}: names posix.system, which a featbench model never holds; not loaded"
    )
    assert "fit the model again" in line and not (tmp_path / "p.csv").exists()
