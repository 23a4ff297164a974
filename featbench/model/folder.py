"""A fitted model and its folder: ``manifest.json`` (what was fitted, on what, how), ``classifier.joblib``
(the scikit-learn pipeline: StandardScaler, then the classifier) and, for a ``name@weighted`` view,
``layer_weighting.npz`` (plain arrays, read without pickle).

joblib files are pickles: loading one runs code, so load only model folders you trust. The manifest
records each file's sha256, checked before anything is unpickled (this catches a damaged or swapped file,
not a deliberate forgery: whoever can write the folder can write the manifest too).

A `Model` turns a view's utterance matrix (`featbench.model.features.view_matrix`) into predictions the
way a grid task does (`train.entry.FittedEntry.inputs`): the chosen layer's columns of an ``@auto`` view, the
layer weighting of an ``@weighted`` view, then the classifier.

>>> _view_of({"name": "whisper@L4", "family": "whisper", "layer": 4})
View(name='whisper@L4', family='whisper', layer=4, mode='', layers=0, parts=())
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from featbench.errors import FeatbenchError
from featbench.schema import Closed, ListOf, MapOf, Maybe, check
from featbench.train.entry import FittedEntry
from featbench.train.selection import Choice
from featbench.train.views import WEIGHTED, View

MANIFEST = "manifest.json"
CLASSIFIER = "classifier.joblib"
WEIGHTING = "layer_weighting.npz"
FORMAT = "featbench-model"
FORMAT_VERSION = 1
_WEIGHTING_ARRAYS = ("mean_", "scale_", "weights_")

_VIEW = Closed({"name": str, "family": str, "layer": Maybe(int), "mode": str, "layers": int})
_VIEW.fields["parts"] = ListOf(_VIEW)  # a combined view's single views
_FILE = {"path": str, "sha256": str}
MANIFEST_SCHEMA = {
    "labels": ListOf(str),
    "view": _VIEW,
    "families": ListOf({"family": str, "config": dict, "config_hash": str, "versions": dict,
                        "audio": Maybe(Closed({"sample_rate?": int, "min_duration?": float, "silence_peak?": float}))}),
    "choice": {"entry": str, "classifier": str, "hparams": dict, "layer": Maybe(int), "layer_weights": ListOf(float),
               "val_ua": Maybe(float), "selection": str},
    "training": {"store": str, "corpus": str, "classes": ListOf(str), "merge": MapOf(str), "utterances": int,
                 "speakers": int, "groups": int, "training_groups": ListOf(str), "budget": str, "seed": int,
                 "normalisation": str, "speakers_confounded_ok?": bool,
                 "holdout": Maybe({"fold": int, "n_folds": int, "test_groups": ListOf(str), "test_utterances": int,
                                   "ua": float})},
    "files": {"classifier": _FILE, "layer_weighting?": {**_FILE, "n_layers": int, "l2": float, "max_iter": int}},
}
"""The fields of manifest.json that fit writes and fit's summary, load_model and predict read, with their types
(`featbench.schema`): a manifest edited by hand or damaged is refused in one line naming the field."""


@dataclass
class Model:
    """What `featbench fit` made: the entry fitted once (`train.entry.FittedEntry`: the view it reads, the chosen
    layer of an @auto view or the layer weighting of an @weighted view, the classifier), the class order and
    the manifest describing all of it."""

    entry: FittedEntry
    labels: list[str]
    manifest: dict = field(default_factory=dict)
    fingerprint: str = ""  # of the saved manifest (which holds every file's sha256): which model labelled a clip

    @property
    def view(self) -> View:
        return self.entry.view

    @property
    def classifier(self):
        return self.entry.classifier

    @property
    def layer(self) -> int | None:
        return self.entry.layer

    @property
    def weighting(self):
        return self.entry.weighting

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(class indices into `labels` (n,), probabilities (n, len(labels))) for the view's utterance matrix.

        The label is the classifier's own `predict` (what the benchmark scored). Classifiers without
        `predict_proba` (the linear SVM) give the softmax of their decision function: scores that sum to 1,
        not calibrated probabilities (`manifest['probabilities']` says which).
        """
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):  # as in a grid task: the same arithmetic, so the same labels
            Xi = self.entry.inputs(np.asarray(X, np.float32))
            pred = np.asarray(self.classifier.predict(Xi), dtype=np.int64)
            if hasattr(self.classifier, "predict_proba"):
                scores = self.classifier.predict_proba(Xi)
            else:
                decision = np.asarray(self.classifier.decision_function(Xi), np.float64)
                decision = np.column_stack([np.zeros_like(decision), decision]) if decision.ndim == 1 else decision
                scores = np.exp(decision - decision.max(axis=1, keepdims=True))
                scores /= scores.sum(axis=1, keepdims=True)
        proba = np.zeros((len(Xi), len(self.labels)))
        proba[:, np.asarray(self.classifier.classes_, dtype=np.int64)] = scores  # a class unseen in training: 0
        return pred, proba

    def save(self, folder: str | Path) -> Path:
        """Write the folder (new, empty, or an earlier model folder, which is replaced); the manifest goes last,
        so a folder whose writing was interrupted has none and is refused by `load_model`."""
        import joblib

        folder = check_writable(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in (MANIFEST, CLASSIFIER, WEIGHTING):
            (folder / name).unlink(missing_ok=True)
        joblib.dump(self.classifier, folder / CLASSIFIER)
        files = {"classifier": {"path": CLASSIFIER, "sha256": _sha256(folder / CLASSIFIER)}}
        if self.weighting is not None:
            np.savez(folder / WEIGHTING, **{k.rstrip("_"): getattr(self.weighting, k) for k in _WEIGHTING_ARRAYS})
            files["layer_weighting"] = {"path": WEIGHTING, "sha256": _sha256(folder / WEIGHTING),
                                        "n_layers": self.weighting.n_layers, "l2": self.weighting.l2,
                                        "max_iter": self.weighting.max_iter}
        self.manifest = {**self.manifest, "files": files}
        tmp = folder / f"{MANIFEST}.tmp{os.getpid()}"
        text = (json.dumps(self.manifest, indent=2, sort_keys=False) + "\n").encode()
        tmp.write_bytes(text)
        os.replace(tmp, folder / MANIFEST)
        self.fingerprint = hashlib.sha256(text).hexdigest()[:12]
        return folder


def check_writable(folder: str | Path) -> Path:
    """`folder` if a model may be written there (new, empty, or an earlier model folder); else a one-line error."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FeatbenchError(f"{folder}: exists and is not a folder; choose a new folder for the model")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MANIFEST).is_file():
        raise FeatbenchError(f"{folder}: a folder that is not a featbench model folder; choose a new or empty one")
    return folder


def load_model(folder: str | Path) -> Model:
    """The model in `folder`, every file checked first: a one-line FeatbenchError for a missing or garbled
    manifest, a manifest of another featbench version, a missing or damaged classifier or weighting file."""
    import featbench

    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise FeatbenchError(f"{folder}: no such model folder (make one with featbench fit)")
    if not path.is_file():
        raise FeatbenchError(f"{path}: missing; {folder} is not a model folder made by featbench fit")
    try:
        text = path.read_bytes()
        manifest = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise FeatbenchError(f"{path}: garbled manifest ({str(err).splitlines()[0]})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise FeatbenchError(f"{path}: not a featbench model manifest (no \"format\": \"{FORMAT}\")")
    made_by = manifest.get("featbench_version")
    if made_by != featbench.__version__:
        raise FeatbenchError(f"{path}: made by featbench {made_by}, this is featbench {featbench.__version__}; fit the "
                             "model again with this version")
    check(manifest, MANIFEST_SCHEMA, path)
    view = _view_of(manifest["view"])
    classifier = _load_classifier(folder, manifest["files"]["classifier"])
    classes = np.asarray(classifier.classes_)
    if classes.dtype.kind not in "iu" or len(classes) and not 0 <= classes.min() <= classes.max() < len(manifest["labels"]):
        raise FeatbenchError(f"{path}: the classifier's classes ({classes.tolist()}) are not indices into the "
                             f"manifest's {len(manifest['labels'])} labels")
    weighting = None
    if view.mode == WEIGHTED:
        weighting = _load_weighting(folder, manifest["files"].get("layer_weighting"), path)
    made = manifest["choice"]
    choice = Choice(made["classifier"], made["hparams"], made["layer"], made["val_ua"], made["layer_weights"])
    return Model(FittedEntry(view, classifier, choice, made["selection"], weighting), list(manifest["labels"]), manifest,
                 hashlib.sha256(text).hexdigest()[:12])


def _view_of(spec: dict) -> View:
    """A View from its manifest dict (parts too)."""
    return View(**{**spec, "parts": tuple(_view_of(p) for p in spec.get("parts", ()))})


def view_dict(view: View) -> dict:
    """A View as the manifest keeps it (the inverse of `_view_of`).

    >>> _view_of(view_dict(View("a+b", "a+b", parts=(View("a", "a"), View("b", "b"))))).parts[1].name
    'b'
    """
    return asdict(view)


def _checked_file(folder: Path, entry: dict, what: str) -> Path:
    path = folder / str(entry.get("path", ""))
    if not entry.get("path") or not path.is_file():
        raise FeatbenchError(f"{path}: the {what} file is missing from the model folder")
    if _sha256(path) != entry.get("sha256"):
        raise FeatbenchError(f"{path}: damaged or replaced (its sha256 differs from the manifest's); fit the model again")
    return path


def _load_classifier(folder: Path, entry: dict):
    import joblib

    path = _checked_file(folder, entry, "classifier")
    try:
        classifier = joblib.load(path)
    except Exception as err:  # unpickling can fail in any way; the file is named, the cause kept
        raise FeatbenchError(f"{path}: unreadable classifier ({type(err).__name__}: {err})") from err
    if not all(hasattr(classifier, a) for a in ("predict", "classes_")):
        raise FeatbenchError(f"{path}: holds a {type(classifier).__name__}, not a fitted classifier")
    return classifier


def _load_weighting(folder: Path, entry: dict | None, manifest: Path):
    from featbench.train.layer_weights import LayerWeighting

    if entry is None:
        raise FeatbenchError(f"{manifest}: garbled manifest (an @weighted view without 'files.layer_weighting')")
    path = _checked_file(folder, entry, "layer weighting")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            values = {k: arrays[k.rstrip("_")] for k in _WEIGHTING_ARRAYS}
        weighting = LayerWeighting(int(entry["n_layers"]), float(entry["l2"]), int(entry["max_iter"]))
    except (OSError, ValueError, KeyError) as err:
        raise FeatbenchError(f"{path}: unreadable layer weighting ({type(err).__name__}: {err})") from None
    for name, value in values.items():
        setattr(weighting, name, value)
    return weighting


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
