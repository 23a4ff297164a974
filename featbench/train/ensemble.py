"""Ensembles: late fusion of several entries' class probabilities. `ensemble(whisper@L3,whisper@L4,egemaps-func)`
names one view whose members are views of the store (a family, one layer, `name@auto` or `name@weighted`; not
`@all`, a combination `a+b` or another ensemble; at most `train.views.MAX_MEMBERS`). With the run's classifier entry (say
`selected(logreg+svm)`), within each fold, seed and budget:

1. each member is fitted as that entry alone would be (`train.entry.fit_entry`: its layer, classifier and
   hyper-parameters chosen on the validation speakers, each candidate fitted on the fit speakers);
2. each member's chosen configuration is fitted on the fit speakers and gives class probabilities for the
   validation speakers (`predict_proba`, or a softmax of the decision function of a classifier without one:
   the linear SVM);
3. the weights are the point of a simplex grid (steps of 1/STEP) whose weighted mean of those probabilities has
   the best validation UA; ties go to the weights nearest equal ones, then to the first;
4. the members refitted on the whole training subset (step 1's refit) predict the test rows: the class of the
   largest weighted mean probability.

The test speakers are never read. Without validation speakers the weights are equal. Rows carry the ensemble's
name as their view, the members' hyper-parameters as `hparams`, and the weights and each member's choice as
`choice` (JSON). Classes only: a dimensional target (`--target`), the sequence models and `featbench fit`
refuse an ensemble.

>>> simplex(2, 4).tolist()
[[0.0, 1.0], [0.25, 0.75], [0.5, 0.5], [0.75, 0.25], [1.0, 0.0]]
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, replace

import numpy as np

from featbench.device import CPU, Device
from featbench.errors import FeatbenchError
from featbench.train.views import ENSEMBLE, View

STEP = 10
SEQUENCE_MODELS = ("seq", "fusion")  # train.grid.SEQUENCE_MODELS (not imported: grid imports the entries)


def with_widths(view: View, read_as: View, side, *pooling) -> View:
    """`view` knowing how many columns of its utterance matrix each member holds (`train.pooling.pooled_matrix`
    puts the members' matrices side by side); any other view as it is. `read_as`: the view as its features are
    read (`train.conditions.view_under`), `side`: the store's `train.prepare.Side`; `pooling`: what
    `pooled_matrix` pools frames with, where the run says (its default otherwise)."""
    from featbench.train.pooling import pooled_matrix

    if view.mode != ENSEMBLE:
        return view
    ids = side.ids[:1]
    return replace(view, widths=tuple(pooled_matrix(p, side.sets, ids, side.cache, *pooling).shape[1]
                                      for p in read_as.parts))


def check_ensemble_for(view: View, classifiers: list[str], target: str = "") -> None:
    """One line for an ensemble that a classifier entry or a dimensional target cannot take."""
    if view.mode != ENSEMBLE:
        return
    if target:
        raise FeatbenchError(f"'{view.name}': an ensemble averages class probabilities, not --target {target} values; "
                             "train its members one by one")
    sequence = [c for c in classifiers if c in SEQUENCE_MODELS]
    if sequence:
        raise FeatbenchError(f"'{view.name}': an ensemble fuses the utterance-level classifiers (logreg, svm, lgbm, "
                             f"mlp, selected), not '{sequence[0]}'")


def split(view: View, X: np.ndarray) -> list[np.ndarray]:
    """Each member's columns of an ensemble's utterance matrix (views, not copies).

    >>> [b.shape[1] for b in split(View("e", "e", widths=(2, 3)), np.zeros((1, 5)))]
    [2, 3]
    """
    if sum(view.widths) != X.shape[1]:
        raise RuntimeError(f"'{view.name}': {X.shape[1]} columns, members of {view.widths}")  # never: a bug
    edges = np.cumsum((0,) + tuple(view.widths))
    return [X[:, a:b] for a, b in zip(edges[:-1], edges[1:])]


def probabilities(classifier, Z: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Class probabilities of a fitted pipeline for rows `Z`, one column per class of `classes` (0 for a class it
    never saw): `predict_proba`, else a softmax of its decision function.

    >>> from featbench.train.classifiers import build
    >>> Z, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 2, 2])
    >>> P = probabilities(build("svm", {"C": 1.0}, 0).fit(Z, y), Z, np.array([0, 1, 2]))
    >>> P.shape, np.allclose(P.sum(1), 1), P[:, 1].tolist()
    ((4, 3), True, [0.0, 0.0, 0.0, 0.0])
    """
    from scipy.special import softmax

    if hasattr(classifier, "predict_proba"):
        P = classifier.predict_proba(Z)
    else:
        scores = classifier.decision_function(Z)
        P = softmax(np.column_stack([-scores, scores]) / 2 if scores.ndim == 1 else scores, axis=1)
    out = np.zeros((len(Z), len(classes)))
    out[:, np.searchsorted(classes, classifier.classes_)] = P
    return out


def simplex(members: int, step: int = STEP) -> np.ndarray:
    """Every weight vector of `members` non-negative weights in steps of 1/`step` that sum to 1."""
    if members == 1:
        return np.ones((1, 1))
    points = [(b - a - 1 for a, b in zip((-1,) + cut, cut + (step + members - 1,)))
              for cut in itertools.combinations(range(step + members - 1), members - 1)]
    return np.array([list(p) for p in points], dtype=float) / step


def choose_weights(probs: list[np.ndarray], y_val: np.ndarray, step: int = STEP) -> tuple[np.ndarray, float]:
    """(the weights of the simplex grid whose weighted mean of `probs` (one (validation rows, classes) matrix per
    member) has the best UA on `y_val` (class positions), nearest equal weights on ties; that UA).

    >>> good, bad = np.eye(2)[[0, 1, 0, 1]], np.eye(2)[[1, 0, 1, 0]]
    >>> w, ua = choose_weights([bad, good], np.array([0, 1, 0, 1]), step=2)
    >>> w.tolist(), ua
    ([0.0, 1.0], 1.0)
    """
    grid = simplex(len(probs), step)
    predicted = np.einsum("gm,mnk->gnk", grid, np.stack(probs)).argmax(2)
    recalls = [(predicted[:, y_val == c] == c).mean(1) for c in np.unique(y_val)]
    ua = np.mean(recalls, axis=0)
    spread = ((grid - 1 / len(probs)) ** 2).sum(1)
    best = np.lexsort((spread, -np.round(ua, 12)))[0]
    return grid[best], float(ua[best])


@dataclass
class EnsembleChoice:
    """What an ensemble chose for one fold, seed and budget: each member's choice (`train.selection.Choice`), the
    weights, and the weighted mean's validation UA (None without validation speakers)."""

    members: dict  # {member view name: Choice}
    weights: dict  # {member view name: weight}
    val_ua: float | None = None

    @property
    def hparams(self) -> dict:
        """Each member's hyper-parameters (the rows' `hparams`)."""
        return {name: choice.hparams for name, choice in self.members.items()}

    def recorded(self, entry: str) -> str:
        """The `choice` column: the weights, and each member's classifier, layer, layer weights and validation UA."""
        members = {}
        for name, c in self.members.items():
            made = {"classifier": c.classifier, **({} if c.layer is None else {"layer": c.layer})}
            if len(c.layer_weights):
                made["layer_weights"] = [round(float(w), 4) for w in c.layer_weights]
            if c.val_ua is not None:
                made["val_ua"] = round(float(c.val_ua), 6)
            members[name] = made
        return json.dumps({"ensemble_weights": {n: round(float(w), 4) for n, w in self.weights.items()},
                           "members": members}, sort_keys=True)


@dataclass
class FittedEnsemble:
    """An ensemble fitted for one training subset: its members (`train.entry.FittedEntry`, refitted on the whole
    subset), their weights, the training classes, what was chosen (`choice`) and how (`selection`)."""

    view: View
    members: list
    weights: np.ndarray
    classes: np.ndarray
    choice: EnsembleChoice
    selection: str

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """The weighted mean of the members' class probabilities for rows `X` of the ensemble's utterance matrix
        (one column per class of `classes`; each row sums to 1)."""
        blocks = split(self.view, X)
        return sum(w * probabilities(m.classifier, m.inputs(B), self.classes)
                   for w, m, B in zip(self.weights, self.members, blocks))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The class of the largest weighted mean probability."""
        return self.classes[np.argmax(self.predict_proba(X), axis=1)]


def _validation_probabilities(fitted, X: np.ndarray, y: np.ndarray, fit_rows: list[int], val_rows: list[int],
                              seed: int, classes: np.ndarray, device: Device) -> np.ndarray:
    """A member's chosen configuration fitted on `fit_rows`: its class probabilities for `val_rows`."""
    from featbench.train.classifiers import build
    from featbench.train.entry import layer_inputs

    choice = fitted.choice
    key = fitted.weighting_name if fitted.weighting_name is not None else choice.layer  # @weighted: its chosen candidate
    inputs, _ = layer_inputs(fitted.view, X, y, fit_rows, device, names=(key,) if fitted.weighting_name else None)
    Z = inputs[key]
    classifier = build(choice.classifier, choice.hparams, seed).fit(Z[fit_rows], y[fit_rows])
    return probabilities(classifier, Z[val_rows], classes)


def fit_ensemble(entry: str, view: View, X: np.ndarray, y: np.ndarray, train_rows: list[int], fit_rows: list[int],
                 val_rows: list[int], seed: int, held_out: str = "held-out speakers",
                 device: Device = CPU) -> FittedEnsemble:
    """Fit an ensemble view with the classifier entry `entry` (see the module's steps); `X`: its utterance matrix,
    the members' columns side by side (`view.widths`). No row outside train_rows is read."""
    from featbench.train.entry import NO_VALIDATION, fit_entry

    blocks = split(view, X)
    classes = np.unique(y[train_rows])
    members = [fit_entry(entry, part, B, y, train_rows, fit_rows, val_rows, seed, held_out=held_out, device=device)
               for part, B in zip(view.parts, blocks)]
    if val_rows and len(set(y[fit_rows])) >= 2:
        probs = [_validation_probabilities(m, B, y, fit_rows, val_rows, seed, classes, device)
                 for m, B in zip(members, blocks)]
        weights, val_ua = choose_weights(probs, np.searchsorted(classes, y[val_rows]))
        selection = (f"members' grids and weights on {held_out} ({len(fit_rows)} fit / {len(val_rows)} val), "
                     f"val UA {val_ua:.1%}")
    else:
        weights, val_ua, selection = np.full(len(members), 1 / len(members)), None, NO_VALIDATION
    names = [part.name for part in view.parts]
    choice = EnsembleChoice({n: m.choice for n, m in zip(names, members)}, dict(zip(names, weights)), val_ua)
    return FittedEnsemble(view, members, weights, classes, choice, selection)
