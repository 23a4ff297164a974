"""A fitted model and its folder: ``manifest.json`` (what was fitted, on what, how), ``classifier.pickle``
(the scikit-learn pipeline: StandardScaler, then the classifier) and, for a ``name@weighted`` view,
``layer_weighting.npz`` (plain arrays, read without pickle).

The classifier is a pickle read with an allow-list (`featbench.model.safe_pickle`): a model folder from a stranger
cannot name code to run at load, and one that tries is refused in one line naming the global. The manifest
records each file's sha256, checked before anything is unpickled (this catches a damaged or swapped file,
not a deliberate forgery: whoever can write the folder can write the manifest too).

A `Model` turns a view's utterance matrix (`featbench.model.features.view_matrix`) into predictions the
way a grid task does (`train.entry.FittedEntry.inputs`): the chosen layer's columns of an ``@auto`` view, the
layer weighting of an ``@weighted`` view, then the classifier.

The manifest is read once, typed and checked (`featbench.model.manifest.Manifest`); a Model made by `fit` has
its document, typed on first use (`Model.record`).

>>> view_dict(View("whisper@L4", "whisper", 4))["layer"]
4
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from featbench.errors import FeatbenchError
from featbench.model import safe_pickle
from featbench.model.manifest import (CLASSIFIER, FORMAT, FORMAT_VERSION, MANIFEST, MANIFEST_SCHEMA, WEIGHTING, Manifest,
                                      read_manifest, view_of)
from featbench.train.entry import FittedEntry
from featbench.train.selection import Choice
from featbench.train.views import WEIGHTED, View

__all__ = ["CLASSIFIER", "FORMAT", "FORMAT_VERSION", "MANIFEST", "MANIFEST_SCHEMA", "WEIGHTING", "Manifest", "Model",
           "check_writable", "load_model", "view_dict", "view_of"]

_WEIGHTING_ARRAYS = ("mean_", "scale_", "weights_")


@dataclass
class Model:
    """What `featbench fit` made: the entry fitted once (`train.entry.FittedEntry`: the view it reads, the chosen
    layer of an @auto view or the layer weighting of an @weighted view, the classifier), the class order and
    the manifest describing all of it."""

    entry: FittedEntry
    labels: list[str]
    manifest: dict = field(default_factory=dict)  # the document manifest.json holds
    fingerprint: str = ""  # of the saved manifest (which holds every file's sha256): which model labelled a clip
    _record: Manifest | None = field(default=None, repr=False)

    @property
    def record(self) -> Manifest:
        """The manifest, typed (read once: `load_model` sets it; a fitted model's document is checked here)."""
        if self._record is None or self._record.document is not self.manifest:
            self._record = Manifest.of(self.manifest, MANIFEST)
        return self._record

    @property
    def view(self) -> View:
        return self.entry.view

    @property
    def training_condition(self) -> str:
        """The recording condition the model was trained under (canonical text, featbench.protocol.multi; 'clean'
        for a model fitted before conditions existed)."""
        return self.record.training.condition

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
        so a folder whose writing was interrupted has none and is refused by `load_model`. The manifest is read
        back through `Manifest.of` before it is written (a fitted model never writes one `load_model` refuses), and
        `record` is then the typed manifest of the bytes written."""
        folder = check_writable(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in (MANIFEST, CLASSIFIER, "classifier.joblib", WEIGHTING):  # and format 1's classifier
            (folder / name).unlink(missing_ok=True)
        safe_pickle.dump(self.classifier, folder / CLASSIFIER)
        files = {"classifier": {"path": CLASSIFIER, "sha256": _sha256(folder / CLASSIFIER)}}
        if self.weighting is not None:
            np.savez(folder / WEIGHTING, **{k.rstrip("_"): getattr(self.weighting, k) for k in _WEIGHTING_ARRAYS})
            files["layer_weighting"] = {"path": WEIGHTING, "sha256": _sha256(folder / WEIGHTING),
                                        "n_layers": self.weighting.n_layers, "l2": self.weighting.l2,
                                        "max_iter": self.weighting.max_iter}
        self.manifest = {**self.manifest, "files": files}
        tmp = folder / f"{MANIFEST}.tmp{os.getpid()}"
        text = (json.dumps(self.manifest, indent=2, sort_keys=False) + "\n").encode()
        record = Manifest.of(json.loads(text), folder / MANIFEST)  # read as load_model reads it, before it is written
        tmp.write_bytes(text)
        os.replace(tmp, folder / MANIFEST)
        self.manifest, self._record = record.document, record  # the saved document, typed once
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
    """The model in `folder`, every file checked first: a one-line FeatbenchError for a missing, garbled or unfitting
    manifest (`featbench.model.manifest.read_manifest`), a manifest of another featbench version, a missing or
    damaged classifier or weighting file."""
    folder = Path(folder)
    record, text = read_manifest(folder)
    path = folder / MANIFEST
    classifier = _load_classifier(folder, record.classifier)
    classes = np.asarray(classifier.classes_)
    if classes.dtype.kind not in "iu" or len(classes) and not 0 <= classes.min() <= classes.max() < len(record.labels):
        raise FeatbenchError(f"{path}: the classifier's classes ({classes.tolist()}) are not indices into the "
                             f"manifest's {len(record.labels)} labels")
    weighting = None
    if record.view.mode == WEIGHTED:
        weighting = _load_weighting(folder, record.weighting, path)
    made = record.choice
    choice = Choice(made.classifier, made.hparams, made.layer, made.val_ua, list(made.layer_weights))
    return Model(FittedEntry(record.view, classifier, choice, made.selection, weighting), list(record.labels),
                 record.document, hashlib.sha256(text).hexdigest()[:12], record)


def view_dict(view: View) -> dict:
    """A View as the manifest keeps it (the inverse of `featbench.model.manifest.view_of`).

    >>> view_of(view_dict(View("a+b", "a+b", parts=(View("a", "a"), View("b", "b"))))).parts[1].name
    'b'
    """
    return asdict(view)


def _checked_file(folder: Path, name: str, sha256: str, what: str) -> Path:
    path = folder / name
    if not path.is_file():
        raise FeatbenchError(f"{path}: the {what} file is missing from the model folder")
    if _sha256(path) != sha256:
        raise FeatbenchError(f"{path}: damaged or replaced (its sha256 differs from the manifest's); fit the model again")
    return path


def _load_classifier(folder: Path, entry: tuple[str, str]):
    """The classifier pipeline, its sha256 checked, unpickled with an allow-list (`model.safe_pickle`)."""
    from sklearn.pipeline import Pipeline

    path = _checked_file(folder, *entry, "classifier")
    classifier = safe_pickle.load(path)
    if not isinstance(classifier, Pipeline) or not all(hasattr(classifier, a) for a in ("predict", "classes_")):
        raise FeatbenchError(f"{path}: holds a {type(classifier).__name__}, not a fitted classifier pipeline")
    _check_runs(classifier, path)
    return classifier


def _arrays(value, depth: int = 0):
    """The numpy arrays an estimator holds (its attributes, in lists and tuples, and its steps' attributes)."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (list, tuple)) and depth < 4:
        for item in value:
            yield from _arrays(item, depth + 1)
    elif hasattr(value, "get_params") and depth < 4:  # an estimator: its fitted attributes
        for item in vars(value).values():
            yield from _arrays(item, depth + 1)


def _check_runs(classifier, path: Path) -> None:
    """One line unless every number the pipeline holds is finite, its scaler divides by positive numbers, and it
    labels a row of zeros with finite scores, without a warning (what a damaged file that still unpickles breaks)."""
    import warnings

    if not all(np.isfinite(a).all() for a in _arrays(classifier) if a.dtype.kind == "f"):
        raise FeatbenchError(f"{path}: damaged classifier (it holds a number that is not finite)")
    scale = getattr(classifier.steps[0][1], "scale_", None)
    if scale is not None and not (np.asarray(scale) > 0).all():
        raise FeatbenchError(f"{path}: damaged classifier (its standardisation divides by 0 or less)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            row = np.zeros((1, int(classifier.n_features_in_)), np.float32)
            scores = (classifier.predict_proba(row) if hasattr(classifier, "predict_proba")
                      else classifier.decision_function(row))
            classifier.predict(row)
    except Exception as err:  # a damaged estimator fails in its own ways; the file is named, the cause kept
        raise FeatbenchError(f"{path}: damaged classifier (it does not run: {type(err).__name__}: "
                             f"{str(err)[:200]})".replace("\n", " ")) from None
    if not np.isfinite(np.asarray(scores, float)).all():
        raise FeatbenchError(f"{path}: damaged classifier (its scores are not finite)")


def _load_weighting(folder: Path, entry, manifest: Path):
    from featbench.train.layer_weights import LayerWeighting

    if entry is None:
        raise FeatbenchError(f"{manifest}: garbled manifest (an @weighted view without 'files.layer_weighting')")
    path = _checked_file(folder, entry.path, entry.sha256, "layer weighting")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            values = {k: arrays[k.rstrip("_")] for k in _WEIGHTING_ARRAYS}
        weighting = LayerWeighting(entry.n_layers, entry.l2, entry.max_iter)
    except (OSError, ValueError, KeyError, EOFError) as err:
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
