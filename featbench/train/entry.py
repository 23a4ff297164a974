"""One utterance-level entry of the benchmark, fitted once: the layer (an ``@auto`` view) or the layer weighting (an
``@weighted`` view: learned weights, uniform weights or one layer alone, `layer_weights.candidates`), the
classifier and its hyper-parameters chosen on validation speakers, then everything refitted on the training
subset (`fit_entry`). A grid task scores its test rows with the `FittedEntry` and
`featbench fit` saves it, so a saved model is the very model a benchmark row scored.

>>> import numpy as np
>>> from featbench.train.views import View
>>> y = np.repeat([0, 1], 20)
>>> X = np.random.default_rng(0).normal(size=(40, 3)) + y[:, None]
>>> rows = list(range(40))
>>> fitted = fit_entry("logreg", View("f", "f"), X, y, rows, rows, [], seed=0)
>>> fitted.selection, fitted.choice.hparams, fitted.predict(X[:5]).shape
('default (too few speakers for validation)', {'C': 0.1}, (5,))
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featbench.device import CPU, Device
from featbench.train.selection import Choice
from featbench.train.views import AUTO, WEIGHTED, View

NO_VALIDATION = "default (too few speakers for validation)"


@dataclass
class FittedEntry:
    """An entry fitted for one training subset: the view it reads, the fitted classifier (a scikit-learn
    pipeline), what was chosen (`choice`: classifier, hyper-parameters, layer, layer weights, validation
    score), how it was chosen (`selection`, as the results rows say it) and, for an ``@weighted`` view, the
    fitted `LayerWeighting`."""

    view: View
    classifier: object
    choice: Choice
    selection: str
    weighting: object | None = None  # a fitted featbench.train.layer_weights.LayerWeighting
    weighting_name: str | None = None  # which candidate it is ('learned', 'uniform', 'L3'; layer_weights.candidates)

    @property
    def layer(self) -> int | None:
        """The chosen layer of an ``@auto`` view (None otherwise)."""
        return self.choice.layer

    def inputs(self, X: np.ndarray) -> np.ndarray:
        """The classifier's input for rows `X` of the view's utterance matrix: the layer weighting's mixture, the
        chosen layer's columns, or `X` itself."""
        if self.view.mode == WEIGHTED:
            return self.weighting.transform(X)
        if self.view.mode == AUTO:
            return np.ascontiguousarray(layer_block(self.view, X, self.layer))
        return X

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The classifier's predictions for rows `X` of the view's utterance matrix."""
        return self.classifier.predict(self.inputs(X))


def layer_block(view: View, X: np.ndarray, layer: int) -> np.ndarray:
    """Layer `layer`'s columns of an all-layer view's utterance matrix (a view, not a copy).

    >>> layer_block(View("t@auto", "t", mode=AUTO, layers=2), np.arange(8).reshape(2, 4), 1).tolist()
    [[2, 3], [6, 7]]
    """
    from featbench.layers import layer_blocks

    return layer_blocks(X, view.layers)[:, layer]  # X: one block per layer (train.runner.pooled_matrix)


def layer_inputs(view: View, X: np.ndarray, y: np.ndarray, rows: list[int], device: Device = CPU,
                 names: tuple[str, ...] | None = None):
    """(the candidate utterance matrices of a view as {key: matrix}, the fitted weightings by key for an
    ``@weighted`` view, else {}). Keys: a layer (``@auto``), a weighting's name (``@weighted``: see
    `layer_weights.candidates`; only `names` when given), None (any other view). Weightings are fitted on `rows`
    only (on `device`).

    >>> inputs, weightings = layer_inputs(View("t@auto", "t", mode=AUTO, layers=2), np.zeros((3, 4)), None, [])
    >>> sorted(inputs), weightings
    ([0, 1], {})
    >>> y = np.array([0, 1, 0, 1])
    >>> inputs, weightings = layer_inputs(View("t@weighted", "t", mode=WEIGHTED, layers=2), np.eye(4), y, [0, 1, 2, 3])
    >>> sorted(inputs), weightings["uniform"].weights_.tolist()
    (['L0', 'L1', 'learned', 'uniform'], [0.5, 0.5])
    """
    from featbench.train.layer_weights import candidates

    if view.mode == WEIGHTED:
        weightings = {name: w.fit(X[rows], y[rows]) for name, w in candidates(view.layers, device).items()
                      if names is None or name in names}
        return {name: w.transform(X) for name, w in weightings.items()}, weightings
    if view.mode == AUTO:
        return {k: layer_block(view, X, k) for k in range(view.layers)}, {}
    return {None: X}, {}


def fit_entry(entry: str, view: View, X: np.ndarray, y: np.ndarray, train_rows: list[int], fit_rows: list[int],
              val_rows: list[int], seed: int, regression: bool = False,
              held_out: str = "held-out speakers", device: Device = CPU) -> FittedEntry:
    """Choose (layer or weighting, classifier, hyper-parameters) of `entry` on `val_rows` (each candidate, weightings
    included, fitted on `fit_rows`), then refit on `train_rows`; without validation rows (or with one class among
    the fit rows) the entry's first classifier with its default hyper-parameters (and an ``@auto`` view's last
    layer, an ``@weighted`` view's learned weights). `X` is the view's
    utterance matrix (no row outside these is read); `regression`: a dimensional target, the regressors chosen
    by CCC; `held_out`: whom `val_rows` hold, as the rows say it (`train.transfer.Design.held_out`); `device`:
    where an ``@weighted`` view's layer weights are fitted (the scikit-learn classifiers run on the CPU)."""
    from featbench.train.classifiers import build, registry
    from featbench.train.selection import candidates_of, choose, is_selected

    from featbench.train.layer_weights import LEARNED

    options = candidates_of(entry, regression)
    weighting = LEARNED if view.mode == WEIGHTED else None  # the weighting refitted on train_rows (by name)
    if val_rows and len(set(y[fit_rows])) >= 2:
        candidates, _ = layer_inputs(view, X, y, fit_rows, device)
        choice = choose(candidates, options, y, fit_rows, val_rows, seed, regression)
        if view.mode == WEIGHTED:
            weighting, choice.layer = choice.layer, None
        chosen = ("layer, " if view.mode == AUTO else f"weights ({_said(weighting)}), " if weighting else "") + \
            ("classifier and " if is_selected(entry) else "") + "grid"
        selection = (f"{chosen} on {held_out} ({len(fit_rows)} fit / {len(val_rows)} val), "
                     f"val {f'CCC {choice.val_ua:.3f}' if regression else f'UA {choice.val_ua:.1%}'}")
    else:
        last = view.layers - 1 if view.mode == AUTO else None
        choice = Choice(options[0], registry(regression)[options[0]].default, last)
        selection = NO_VALIDATION
    inputs, weightings = layer_inputs(view, X, y, train_rows, device, names=(weighting,))
    key = choice.layer if weighting is None else weighting
    choice.layer_weights = list(weightings[weighting].weights_) if weighting else []
    classifier = build(choice.classifier, choice.hparams, seed, regression).fit(inputs[key][train_rows], y[train_rows])
    return FittedEntry(view, classifier, choice, selection, weightings.get(weighting), weighting)


def _said(weighting: str) -> str:
    """A weighting's name as the rows' hp_selection says it: 'learned', 'uniform', 'L3 alone'."""
    from featbench.train.layer_weights import LEARNED, UNIFORM

    return weighting if weighting in (LEARNED, UNIFORM) else f"{weighting} alone"
