"""Data-efficiency ratio intervals that resample the independent unit (issue 28): test speakers within folds where the
rows hold each speaker's correct predictions per class (correct_by_speaker), the same speakers for both entries;
the fold bootstrap, said as such with its reason, where they do not (older rows, a dimensional target); the sections
and the protocol name the unit resampled."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from featbench.report.analysis import analyse
from featbench.report.compare import build_report
from featbench.report.efficiency import FOLDS, SPEAKERS, efficiency_ratio
from featbench.report.markdown import render_markdown
from featbench.report.scale import CCC_METRIC
from featbench.report.statistics import FoldCounts
from featbench.report.statistics.counts import DIMENSIONAL, NO_COUNTS
from test_ratios import LABELS, STEEP, X, rows_of

BASE = [0.35, 0.45, 0.52, 0.58, 0.64]
PER_FOLD, CLIPS = 3, 10


def with_speakers(rows: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Each row tests PER_FOLD speakers of its fold, CLIPS clips per class each, correct predictions drawn around the
    row's UA and recorded in correct_by_speaker; ua, ua_by_speaker and confusion recomputed from those counts."""
    rng = np.random.default_rng(seed)
    out = rows.copy()
    for i, r in enumerate(rows.itertuples()):
        speakers = [f"s{r.fold}{k}" for k in range(PER_FOLD)]
        shift = rng.normal(0, 0.08, PER_FOLD)  # speakers differ
        correct = {s: {c: int(rng.binomial(CLIPS, float(np.clip(r.ua + d, 0, 1)))) for c in LABELS}
                   for s, d in zip(speakers, shift)}
        right = [sum(correct[s][c] for s in speakers) for c in LABELS]
        confusion = [[right[a] if a == b else (PER_FOLD * CLIPS - right[a] if b == (a + 1) % len(LABELS) else 0)
                      for b in range(len(LABELS))] for a in range(len(LABELS))]
        ua = float(np.mean(right) / (PER_FOLD * CLIPS))
        out.loc[out.index[i], ["ua", "wa", "macro_f1", "confusion", "ua_by_speaker", "test_classes",
                               "correct_by_speaker"]] = [
            ua, ua, ua, json.dumps(confusion), json.dumps({s: np.mean(list(correct[s].values())) / CLIPS for s in speakers}),
            json.dumps({"speaker": {s: dict.fromkeys(LABELS, CLIPS) for s in speakers}, "gender": {}}),
            json.dumps(correct)]
    return out


def _analysis(tmp_path, rows, name="r.csv", n_boot=300):
    path = tmp_path / name
    rows.to_csv(path, index=False)
    return analyse([path], baseline="egemaps", n_boot=n_boot)


def _ratio(a):
    (pair,) = a.ratios
    return pair.eff


@pytest.fixture(scope="module")
def counted() -> pd.DataFrame:
    return with_speakers(rows_of({"egemaps": BASE, "whisper": STEEP}, folds=6, spread=0.03))


def test_rows_with_counts_resample_speakers_paired_and_reproducibly(tmp_path, counted):
    eff = _ratio(_analysis(tmp_path, counted))
    assert eff.unit == SPEAKERS and eff.why_folds == ""
    again = _ratio(_analysis(tmp_path, counted, "again.csv"))
    assert (again.ci_low, again.ci_high, again.plateau_ci_low) == (eff.ci_low, eff.ci_high, eff.plateau_ci_low)
    # the same rows without their counts: the fold bootstrap, another interval around the same ratio
    folds = _ratio(_analysis(tmp_path, counted.assign(correct_by_speaker=""), "old.csv"))
    assert folds.unit == FOLDS and folds.why_folds == NO_COUNTS
    assert folds.ratio == pytest.approx(eff.ratio) and (folds.ci_low, folds.ci_high) != (eff.ci_low, eff.ci_high)
    assert "test speakers resampled within folds" in _analysis(tmp_path, counted, "s.csv").ratios[0].sentence


def test_efficiency_ratio_with_counts_pairs_the_speakers_of_both_entries():
    """A is B with one more correct clip per speaker and class: paired, every resample sees A above B at every
    budget, so the ratio's interval lies above 1x; the fold path on the same scores is untouched by `counts`."""
    rng = np.random.default_rng(1)
    total = np.full((PER_FOLD, 4), float(CLIPS))
    speakers = [tuple(f"s{k}{i}" for i in range(PER_FOLD)) for k in range(6)]
    b = [[FoldCounts(k, speakers[k], tuple(LABELS), rng.binomial(CLIPS, p, (PER_FOLD, 4)) * 1.0, total)
          for k in range(6)] for p in (0.3, 0.4, 0.5, 0.6, 0.7)]
    a = [[FoldCounts(f.fold, f.speakers, f.classes, np.minimum(f.correct + 2, total), total) for f in budget]
         for budget in b]
    units = [np.array([[f.ua() for f in budget] for budget in curve]).T for curve in (a, b)]
    x = np.array(X)
    eff = efficiency_ratio(x, units[0], x, units[1], n_boot=400, seed=3, counts=(a, b))
    assert eff.unit == SPEAKERS and eff.ci_low > 1.0
    plain = efficiency_ratio(x, units[0], x, units[1], n_boot=400, seed=3)
    assert plain.unit == FOLDS and plain.ratio == eff.ratio and plain.ci_low != eff.ci_low


def test_fold_fallback_is_said_in_the_protocol_and_sections(tmp_path, counted):
    made = build_report(_analysis(tmp_path, counted.assign(correct_by_speaker="")), tmp_path / "old", figures=False)
    text = render_markdown(made)
    protocol = text.split("## Protocol", 1)[1]
    assert "ratios: 95% bootstrap interval over folds" in protocol and "not over test speakers: these rows hold no" \
        in protocol
    assert "resamples test speakers" not in text.split("## Statistics", 1)[0]  # Claims, Data efficiency: folds only
    assert "bootstrap over folds" in text


def test_protocol_and_sections_name_speakers_where_they_are_resampled(tmp_path, counted):
    made = build_report(_analysis(tmp_path, counted), tmp_path / "new", figures=False)
    text = render_markdown(made)
    protocol = text.split("## Protocol", 1)[1].split("\n## ", 1)[0]
    assert "ratios: 95% bootstrap interval that resamples test speakers within each fold" in protocol
    claims = text.split("## Claims", 1)[1].split("\n## ", 1)[0]
    assert "resamples test speakers within each fold" in claims
    ratios = "".join(part for part in text.split("\n## ") if not part.startswith("Label-budget planning"))  # a curve fit
    assert "bootstrap over folds" not in ratios and "bootstrap interval over folds" not in ratios


def test_ccc_rows_and_one_speaker_folds_fall_back_to_folds(tmp_path, counted):
    ccc = rows_of({"egemaps": BASE, "whisper": STEEP}, folds=6, metric=CCC_METRIC)
    eff = _ratio(_analysis(tmp_path, ccc, "ccc.csv"))
    assert eff.unit == FOLDS and eff.why_folds == DIMENSIONAL
    one = counted.copy()
    for i, r in enumerate(counted.itertuples()):  # keep the first speaker of each fold only
        first = f"s{r.fold}0"
        kept = json.loads(r.correct_by_speaker)[first]
        ua = float(np.mean(list(kept.values())) / CLIPS)
        one.loc[one.index[i], ["ua", "correct_by_speaker", "test_classes"]] = [
            ua, json.dumps({first: kept}), json.dumps({"speaker": {first: dict.fromkeys(LABELS, CLIPS)}, "gender": {}})]
    eff = _ratio(_analysis(tmp_path, one, "one.csv"))
    assert eff.unit == FOLDS and "one test speaker" in eff.why_folds


def test_counts_that_do_not_give_the_rows_ua_fall_back_to_folds(tmp_path, counted):
    eff = _ratio(_analysis(tmp_path, counted.assign(ua=counted.ua + 0.01), "off.csv"))
    assert eff.unit == FOLDS and "do not give their UA" in eff.why_folds
