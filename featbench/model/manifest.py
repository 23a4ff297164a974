"""A model folder's ``manifest.json`` as one typed object, read once at the file edge: `read_manifest` (the file) and
`Manifest.of` (the document) check every field featbench reads, its type (`featbench.schema`) and its value, and
refuse a manifest that does not fit in one line naming the file and the field: an unknown ``format_version``, a
label given twice (its probability column would be lost), a file entry that points outside the folder, a family
record whose ``rows`` or ``dtype`` featbench does not know, a non-finite number.

>>> Manifest.of({"format": "featbench-model", "format_version": 9}, "m.json")
Traceback (most recent call last):
featbench.errors.FeatbenchError: m.json: format_version 9 is not one this featbench reads (2); fit the model again with this version
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from featbench.errors import FeatbenchError
from featbench.schema import Closed, ListOf, MapOf, Maybe, check
from featbench.train.views import WEIGHTED, View

MANIFEST = "manifest.json"
CLASSIFIER = "classifier.pickle"
WEIGHTING = "layer_weighting.npz"
FORMAT = "featbench-model"
FORMAT_VERSION = 2  # 2: the classifier a pickle read with an allow-list (model.safe_pickle); 1: joblib
FORMAT_VERSIONS = (2,)  # the format versions this featbench reads

_VIEW = Closed({"name": str, "family": str, "layer": Maybe(int), "mode": str, "layers": int,
                "widths": ListOf(int)})  # widths: an ensemble's (never saved: fit refuses one), empty
_VIEW.fields["parts"] = ListOf(_VIEW)  # a combined view's single views
_FILE = {"path": str, "sha256": str}
MANIFEST_SCHEMA = {
    "format": str, "format_version": int, "featbench_version": str,
    "labels": ListOf(str),
    "view": _VIEW,
    "families": ListOf({"family": str, "config": dict, "config_hash": str, "versions": dict,
                        "audio": Maybe(Closed({"sample_rate?": int, "min_duration?": float, "silence_peak?": float})),
                        "rows?": str, "layers?": int, "dtype?": str, "pooled?": bool, "sample_rate?": int,
                        "frame_rate?": float, "dim?": int, "description?": str}),
    "choice": {"entry": str, "classifier": str, "hparams": dict, "layer": Maybe(int), "layer_weights": ListOf(float),
               "val_ua": Maybe(float), "selection": str},
    "training": {"store": str, "corpus": str, "classes": ListOf(str), "merge": MapOf(str), "utterances": int,
                 "speakers": int, "groups": int, "training_groups": ListOf(str), "budget": str, "seed": int,
                 "normalisation": str, "speakers_confounded_ok?": bool, "condition?": str,
                 "holdout": Maybe({"fold": int, "n_folds": int, "test_groups": ListOf(str), "test_utterances": int,
                                   "ua": float, "condition?": str})},
    "files": {"classifier": _FILE, "layer_weighting?": {**_FILE, "n_layers": int, "l2": float, "max_iter": int}},
}
"""The fields of manifest.json that fit writes and fit's summary, load_model and predict read, with their types
(`featbench.schema`): a manifest edited by hand or damaged is refused in one line naming the field."""


@dataclass(frozen=True)
class Holdout:
    """The fold `featbench fit --holdout-fold` held out: its test groups and the model's UA on them."""

    fold: int
    n_folds: int
    test_groups: tuple[str, ...]
    test_utterances: int
    ua: float
    condition: str = "clean"  # the recording condition its test clips were heard under (older manifests: clean)


@dataclass(frozen=True)
class Training:
    """What the model was trained on (the fields predict and fit's summary read)."""

    store: str
    corpus: str
    classes: tuple[str, ...]
    merge: dict
    utterances: int
    speakers: int
    training_groups: tuple[str, ...]
    budget: str
    seed: int
    normalisation: str
    speakers_confounded_ok: bool
    holdout: Holdout | None
    condition: str = "clean"  # the recording condition it was trained under (featbench.protocol.multi; older: clean)


@dataclass(frozen=True)
class Chosen:
    """What the entry chose on validation speakers (`train.selection.Choice` and how it was chosen)."""

    entry: str
    classifier: str
    hparams: dict
    layer: int | None
    layer_weights: tuple[float, ...]
    val_ua: float | None
    selection: str


@dataclass(frozen=True)
class Weighting:
    """The layer weighting's file and settings (an @weighted view)."""

    path: str
    sha256: str
    n_layers: int
    l2: float
    max_iter: int


@dataclass(frozen=True)
class Manifest:
    """manifest.json, typed: `labels` (the class order of the p_ columns), the `view`, each family's record as the
    store keeps it (`families`, dicts handed to the store's checks), the `choice`, the `training` protocol, the
    classifier's file and sha256 and the layer weighting's (None but for @weighted views); `document` is the JSON
    as written (every field, also those featbench only records)."""

    format_version: int
    featbench_version: str
    labels: tuple[str, ...]
    view: View
    families: tuple[dict, ...]
    choice: Chosen
    training: Training
    classifier: tuple[str, str]  # (file name, sha256)
    weighting: Weighting | None
    document: dict

    @classmethod
    def of(cls, document, source) -> Manifest:
        """The Manifest of a parsed manifest.json (`source` names it in errors); one line for the first field that
        does not fit."""
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise FeatbenchError(f"{source}: not a featbench model manifest (no \"format\": \"{FORMAT}\")")
        version = document.get("format_version")
        if isinstance(version, bool) or version not in FORMAT_VERSIONS:
            raise FeatbenchError(f"{source}: format_version {json.dumps(version)} is not one this featbench reads "
                                 f"({', '.join(map(str, FORMAT_VERSIONS))}); fit the model again with this version")
        check(document, MANIFEST_SCHEMA, source)
        _check_values(document, source)
        made, training, files = document["choice"], document["training"], document["files"]
        holdout = training["holdout"]
        weighting = files.get("layer_weighting")
        return cls(
            version, document["featbench_version"], tuple(document["labels"]), view_of(document["view"]),
            tuple(document["families"]),
            Chosen(made["entry"], made["classifier"], made["hparams"], made["layer"], tuple(made["layer_weights"]),
                   made["val_ua"], made["selection"]),
            Training(training["store"], training["corpus"], tuple(training["classes"]), dict(training["merge"]),
                     training["utterances"], training["speakers"], tuple(training["training_groups"]),
                     training["budget"], training["seed"], training["normalisation"],
                     bool(training.get("speakers_confounded_ok", False)),
                     None if holdout is None else Holdout(holdout["fold"], holdout["n_folds"],
                                                          tuple(holdout["test_groups"]), holdout["test_utterances"],
                                                          holdout["ua"], _condition(holdout, "training.holdout", source)),
                     _condition(training, "training", source)),
            (files["classifier"]["path"], files["classifier"]["sha256"]),
            None if weighting is None else Weighting(weighting["path"], weighting["sha256"], weighting["n_layers"],
                                                     weighting["l2"], weighting["max_iter"]),
            document)


def _condition(record: dict, where: str, source) -> str:
    """The canonical text of `record`'s condition (the training condition of `training`, multi-condition
    included; the test condition of `training.holdout`), 'clean' where the manifest predates conditions; one line
    for a condition featbench cannot read or does not write that way."""
    from featbench.protocol.conditions import parse_condition
    from featbench.protocol.multi import parse_training_condition

    text = record.get("condition", "clean")
    try:
        canonical = (parse_training_condition if where == "training" else parse_condition)(text).text
    except FeatbenchError as err:
        raise FeatbenchError(f"{source}: field '{where}.condition' {err}") from None
    if canonical != text:
        raise FeatbenchError(f"{source}: field '{where}.condition' '{text}' is not written as featbench writes it "
                             f"('{canonical}')")
    return text


def view_of(spec: dict) -> View:
    """A View from its manifest dict (parts too).

    >>> view_of({"name": "whisper@L4", "family": "whisper", "layer": 4})
    View(name='whisper@L4', family='whisper', layer=4, mode='', layers=0, parts=(), widths=())
    """
    return View(**{**spec, "parts": tuple(view_of(p) for p in spec.get("parts", ())),
                   "widths": tuple(spec.get("widths", ()))})


def _finite(value) -> bool:
    return value is None or math.isfinite(value)


def _check_values(m: dict, source) -> None:
    """The values the types alone do not check (see the module's doc); one line for the first that is wrong."""
    from featbench.dtypes import Dtype
    from featbench.row_kinds import RowKind

    labels = m["labels"]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    problems = [
        (bool(repeated), "labels", f"names '{repeated[0] if repeated else ''}' twice; each class once"),
        (m["files"]["classifier"]["path"] != CLASSIFIER, "files.classifier.path", f"must be {CLASSIFIER}"),
        (not all(map(_finite, [m["choice"]["val_ua"], *m["choice"]["layer_weights"]])), "choice",
         "holds a number that is not finite"),
        (not _finite((m["training"]["holdout"] or {}).get("ua")), "training.holdout.ua", "is not finite"),
        ((m["view"]["mode"] == WEIGHTED) != ("layer_weighting" in m["files"]), "files.layer_weighting",
         "must be given for an @weighted view, and only for one"),
    ]
    weighting = m["files"].get("layer_weighting")
    if weighting is not None:
        problems += [(weighting["path"] != WEIGHTING, "files.layer_weighting.path", f"must be {WEIGHTING}"),
                     (not 0 < weighting["n_layers"] <= 10_000, "files.layer_weighting.n_layers", "must be 1 to 10000"),
                     (not (math.isfinite(weighting["l2"]) and weighting["l2"] >= 0), "files.layer_weighting.l2",
                      "must be a finite number >= 0"),
                     (not 0 < weighting["max_iter"] <= 10 ** 7, "files.layer_weighting.max_iter", "must be 1 to 10^7")]
    for i, family in enumerate(m["families"]):
        problems += [("rows" in family and family["rows"] not in [k.value for k in RowKind], f"families.{i}.rows",
                      f"'{family.get('rows')}' is not a row kind ({', '.join(k.value for k in RowKind)})"),
                     ("dtype" in family and family["dtype"] not in [d.value for d in Dtype], f"families.{i}.dtype",
                      f"'{family.get('dtype')}' is not a stored dtype ({', '.join(d.value for d in Dtype)})")]
    for wrong, where, why in problems:
        if wrong:
            raise FeatbenchError(f"{source}: field '{where}' {why}")


def read_manifest(folder: Path) -> tuple[Manifest, bytes]:
    """(the Manifest of `folder`/manifest.json, the file's bytes); one line naming the file for a missing, garbled,
    or unfitting manifest, or one of another featbench version."""
    import featbench

    path = folder / MANIFEST
    if not folder.is_dir():
        raise FeatbenchError(f"{folder}: no such model folder (make one with featbench fit)")
    if not path.is_file():
        raise FeatbenchError(f"{path}: missing; {folder} is not a model folder made by featbench fit")
    try:
        text = path.read_bytes()
        document = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise FeatbenchError(f"{path}: garbled manifest ({str(err).splitlines()[0]})") from None
    except OSError as err:
        raise FeatbenchError(f"{path}: unreadable manifest ({err.strerror or err})") from None
    if isinstance(document, dict) and document.get("format") == FORMAT:
        made_by = document.get("featbench_version")
        if made_by != featbench.__version__:
            raise FeatbenchError(f"{path}: made by featbench {made_by}, this is featbench {featbench.__version__}; fit "
                                 "the model again with this version")
    return Manifest.of(document, path), text


def is_model_folder(folder: Path) -> bool:
    """True when `folder` holds a featbench model manifest (whatever its state)."""
    try:
        return json.loads((Path(folder) / MANIFEST).read_bytes()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError, RecursionError):
        return False
