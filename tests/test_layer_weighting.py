"""`@weighted` against `@auto` (issue 28): a layer that separates the training rows without telling new speakers
apart (each speaker's clips of one class share an offset, as clips recorded in one session do) must not win the
weighting over the layer that carries the emotion. Layer weights fitted on the training rows alone chose it (on
nEMO: 0.7 on L2 and 0.2 on L1 in every fold, 8 points below the layer validation picked)."""
import numpy as np

from featbench.train.entry import fit_entry
from featbench.train.layer_weights import LayerWeighting
from featbench.train.metrics import headline
from featbench.train.views import AUTO, WEIGHTED, View

SPEAKERS, CLASSES, CLIPS, WIDTH = 10, 3, 8, 40


def _session_and_signal(seed: int = 0):
    """(X, y, speaker of each row): layer 0 holds a large offset per (speaker, class), layer 1 a weak class
    direction shared by every speaker, layer 2 noise."""
    rng = np.random.default_rng(seed)
    speaker = np.repeat(np.arange(SPEAKERS), CLASSES * CLIPS)
    y = np.tile(np.repeat(np.arange(CLASSES), CLIPS), SPEAKERS)
    session = rng.normal(size=(SPEAKERS, CLASSES, WIDTH))[speaker, y] * 3 + rng.normal(size=(len(y), WIDTH)) * 0.3
    means = rng.normal(size=(CLASSES, WIDTH))
    signal = means[y] * 0.45 + rng.normal(size=(len(y), WIDTH))
    return np.hstack([session, signal, rng.normal(size=(len(y), WIDTH))]).astype(np.float32), y, speaker


def _rows(speaker, ids):
    return [int(i) for i in np.flatnonzero(np.isin(speaker, ids))]


def test_weighting_does_not_lose_to_the_layer_validation_chooses():
    X, y, speaker = _session_and_signal()
    train, fit, val, test = (_rows(speaker, ids) for ids in (range(8), range(6), [6, 7], [8, 9]))
    assert np.argmax(LayerWeighting(3).fit(X[train], y[train]).weights_) == 0  # the training rows' own favourite
    scores = {}
    for mode in (AUTO, WEIGHTED):
        fitted = fit_entry("logreg", View(f"toy@{mode}", "toy", mode=mode, layers=3), X, y, train, fit, val, seed=0)
        scores[mode] = headline(y[test], fitted.predict(X[test]))
        if mode == WEIGHTED:
            assert np.argmax(fitted.choice.layer_weights) == 1 and "held-out speakers" in fitted.selection
    assert scores[AUTO] > 0.8 and scores[WEIGHTED] >= scores[AUTO] - 0.02


def test_weighting_choice_never_reads_the_test_rows():
    """Every weighting candidate is fitted on the fit rows and chosen on the validation rows: the test rows'
    features can be anything."""
    X, y, speaker = _session_and_signal(1)
    train, fit, val, test = (_rows(speaker, ids) for ids in (range(8), range(6), [6, 7], [8, 9]))
    view = View("toy@weighted", "toy", mode=WEIGHTED, layers=3)
    spoiled = X.copy()
    spoiled[test] = np.random.default_rng(5).normal(size=(len(test), X.shape[1])) * 100
    a, b = (fit_entry("logreg", view, M, y, train, fit, val, seed=0) for M in (X, spoiled))
    assert a.choice.layer_weights == b.choice.layer_weights and a.choice.val_ua == b.choice.val_ua
    assert a.selection == b.selection
