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


def test_the_report_says_where_the_weighting_loses_to_the_chosen_layer_and_why(tmp_path):
    import json

    from featbench.report.analysis import analyse
    from featbench.report.compare import build_report
    from featbench.report.markdown import render_markdown
    from test_ratios import rows_of

    curves = {"e": [0.3, 0.35, 0.4, 0.42, 0.45], "w@auto": [0.4, 0.5, 0.6, 0.65, 0.70],
              "w@weighted": [0.4, 0.5, 0.6, 0.645, 0.64]}
    rows = rows_of(curves, folds=6, spread=0.01, seed=3)
    weighted = rows["view"] == "w@weighted"
    rows["val_ua"] = (rows["ua"] + 0.10 * weighted).astype(str)  # validation ranked the weighting higher
    rows.loc[weighted, "choice"] = json.dumps({"layer_weights": [0.2, 0.8]})
    rows.loc[rows["view"] == "w@auto", "choice"] = json.dumps({"layer": 1})
    path = tmp_path / "r.csv"
    rows.to_csv(path, index=False)
    report = build_report(analyse([path], baseline="e", n_boot=50), tmp_path, figures=False)
    text = render_markdown(report)
    said = text.split("### Layer weights against one chosen layer", 1)[1].split("\n## ", 1)[0]
    budgets = [line for line in said.splitlines() if line.startswith("- ")]
    assert len(budgets) == 1 and "6.0 points below" in budgets[0] and "in 6 of 6 folds the validation" in budgets[0]
    assert "| learned x6 | 6 of 6 |" in said
    from featbench.report.compare import render_json
    from featbench.study.claims import weighting_section

    recorded = json.loads(render_json(report))["layer_weighting"]
    assert [g["budget"] for g in recorded if g["loses"]] == ["all"] and len(recorded) == 5
    study = weighting_section({"r": {"layer_weighting": recorded}})
    said = [item for b in study.blocks for item in getattr(b, "items", [])]
    assert len(said) == 1 and said[0].startswith("r: ") and "6.0 points below" in said[0]
