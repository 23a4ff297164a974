"""The Statistics section (issue 28): in the per-corpus report on synthetic rows whose numbers are recomputed here
independently (scipy's t, Friedman and Wilcoxon, Holm by hand); across corpora for a study; `correct_by_speaker`
written by a real training run, so that the speaker interval is exact; older schema 4 files still appended to."""
from __future__ import annotations

import json
import math
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from featbench.errors import FeatbenchError
from featbench.report.analysis import analyse
from featbench.report.compare import build_report, render_json
from featbench.report.markdown import render_markdown
from featbench.report.sections.statistics import across_corpora_section
from featbench.report.statistics import counts_of
from featbench.results import CONDITIONED_COLUMNS, RESULT_COLUMNS, ResultsFile, read_results
from test_ratios import LABELS, STEEP, rows_of
from test_statistics import _holm_by_hand

CURVES = {"egemaps": [0.40, 0.50, 0.55, 0.58, 0.60], "whisper": STEEP, "mfcc": [0.45, 0.52, 0.56, 0.6, 0.62]}


def _with_counts(rows: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Each row tests two speakers per fold, 10 clips per class each, with correct predictions per speaker and class
    drawn around the row's UA (recorded in correct_by_speaker, as this featbench writes it)."""
    rng = np.random.default_rng(seed)
    tested, correct = [], []
    for r in rows.itertuples():
        speakers = [f"s{r.fold}a", f"s{r.fold}b"]
        tested.append(json.dumps({"speaker": {s: dict.fromkeys(LABELS, 10) for s in speakers}, "gender": {}}))
        correct.append(json.dumps({s: {c: int(rng.binomial(10, min(max(r.ua, 0), 1))) for c in LABELS}
                                   for s in speakers}))
    return rows.assign(test_classes=tested, correct_by_speaker=correct)


def _made(tmp_path, rows, **kw):
    path = tmp_path / "r.csv"
    rows.to_csv(path, index=False)
    report = build_report(analyse([path], baseline="egemaps", n_boot=300, **kw), tmp_path, figures=False)
    return report, render_markdown(report)


def _fold_ua(rows, family):
    part = rows[(rows.family == family) & (rows.budget == "all")]
    return part.groupby("fold")["ua"].mean().to_numpy()


def test_section_pairs_equal_the_corrected_t_and_holm_computed_here(tmp_path):
    rows = _with_counts(rows_of(CURVES, folds=6, spread=0.03))
    report, text = _made(tmp_path, rows)
    section = report.section("statistics")
    assert section is not None and "## Statistics" in text
    said = text.split("## Statistics", 1)[1].split("\n## ", 1)[0]
    assert "At budget all" in said and "corrected resampled t-test of Nadeau and Bengio" in said
    assert "test speakers, resampled within each fold" in said and "descriptive only" in said
    assert "these rows hold one corpus under one test condition" in said  # no Friedman over folds
    assert "exact (correct\\_by\\_speaker)" in said and "fitted" not in said
    # every p and Holm-adjusted p, recomputed: corrected t on the per-fold differences, test fraction 40 / n_train
    families = ["whisper", "mfcc", "egemaps"]  # best first at budget 'all'
    raw = []
    for a, b in combinations(families, 2):
        d = _fold_ua(rows, a) - _fold_ua(rows, b)
        k, fraction = len(d), 40 / (64 * 4)
        t = d.mean() / math.sqrt((1 / k + fraction) * d.var(ddof=1))
        raw.append(2 * stats.t.sf(abs(t), k - 1))
    pairs = report.section("statistics").blocks
    table = next(b for b in pairs if getattr(b, "id", "") == "statistics-pairs")
    got = [(float(r[6].text), float(r[7].text)) for r in table.rows]
    expected = list(zip(raw, _holm_by_hand(raw)))
    assert [r[0].text for r in table.rows][:2] == [report.section("statistics").blocks[2].rows[0][0].text] * 2
    for (p, q), (p0, q0) in zip(got, expected):  # the table shows 3 significant digits
        assert p == pytest.approx(p0, rel=5e-3) and q == pytest.approx(q0, rel=5e-3)
    # the numbers behind the table, to 1e-9
    from featbench.report.significance import significance_of

    sig = significance_of(analyse([tmp_path / "r.csv"], baseline="egemaps", n_boot=300))
    for pair, (p0, q0), (a, b) in zip(sig.pairs, expected, combinations(families, 2)):
        assert abs(pair.test.p_value - p0) < 1e-9 and abs(pair.p_holm - q0) < 1e-9
        d = _fold_ua(rows, a) - _fold_ua(rows, b)  # the Bayesian correlated t: P(a higher by more than 1 point)
        scale = math.sqrt((1 / len(d) + 40 / 256) * d.var(ddof=1))
        assert abs(pair.bayes.p_a - stats.t.sf(0.01, len(d) - 1, d.mean(), scale)) < 1e-9
    assert [s.family for s in sig.entries] == families and all(not s.interval.approximate for s in sig.entries)
    assert '"id": "statistics"' in render_json(report)
    assert "Statistics: 95% intervals that resample test speakers, resampled within each fold (exact counts)" in \
        text.split("## Protocol", 1)[1]


def test_four_folds_say_too_few_and_rows_without_counts_say_so(tmp_path):
    report, text = _made(tmp_path, rows_of(CURVES, folds=4))
    said = text.split("## Statistics", 1)[1].split("\n## ", 1)[0]
    assert "too few blocks (4) for a test to mean anything" in said
    assert "No interval for any entry: no test\\_classes" in said  # rows without per-speaker counts: said once
    _, alone = _made(tmp_path, rows_of({"egemaps": CURVES["egemaps"]}, folds=6))
    assert "One entry: no pair to compare" in alone and "Pairs of entries over folds" not in alone
    rows = _with_counts(rows_of(CURVES, folds=6)).assign(correct_by_speaker="")
    rows = rows.assign(ua_by_speaker=[json.dumps({f"s{f}a": u, f"s{f}b": u}) for f, u in zip(rows.fold, rows.ua)])
    _, text = _made(tmp_path, rows)
    assert "fitted to stored margins (approximate)" in text and "predate the correct\\_by\\_speaker column" in text


def test_test_conditions_are_blocks_for_friedman_with_the_unit_said(tmp_path):
    conditions = ["clean", "white:20", "white:10", "white:5", "white:0", "babble:10"]
    rng = np.random.default_rng(5)
    parts = []
    for k, test in enumerate(conditions):
        part = rows_of(CURVES, folds=6, seed=1).assign(test_condition=test, train_condition="clean")
        part["ua"] = part["ua"] - 0.04 * k + rng.normal(0, 0.02, len(part)) * (k > 0)
        parts.append(part)
    rows = pd.concat(parts, ignore_index=True)
    report, text = _made(tmp_path, rows)
    said = text.split("## Statistics", 1)[1].split("\n## ", 1)[0]
    assert "test conditions of this corpus" in said and "independent in the condition only" in said
    from featbench.report.significance import significance_of

    sig = significance_of(analyse([tmp_path / "r.csv"], baseline="egemaps", n_boot=100))
    at_all = rows[rows.budget == "all"]
    means = {f: [at_all[(at_all.family == f) & (at_all.test_condition == t)].groupby("fold")["ua"].mean().mean()
                 for t in conditions] for f in [s.family for s in sig.entries]}
    expected = stats.friedmanchisquare(*means.values())
    assert abs(sig.conditions.statistic - expected.statistic) < 1e-9 and abs(sig.conditions.p_value - expected.pvalue) < 1e-9
    names = list(means)
    raw = [stats.wilcoxon(means[a], means[b]).pvalue for a, b in combinations(names, 2)]
    assert max(abs(p.p_holm - q) for p, q in zip(sig.condition_pairs.pairs, _holm_by_hand(raw))) < 1e-9
    assert f"Friedman test over 6 blocks ({sig.conditions.unit})" in said
    # the critical-difference diagram is drawn, shown in Statistics and not again under Figures
    from featbench.report.figures import _critical_difference
    from featbench.report.sections import Inputs, build_sections

    analysis, drawn = analyse([tmp_path / "r.csv"], baseline="egemaps", n_boot=100), []
    paths = _critical_difference(analysis, tmp_path, "syn", drawn)
    assert [p.name for p in paths] == ["critical_difference.png", "critical_difference.svg"]
    built = {s.id: s for s in build_sections(Inputs(analysis, [], drawn, "syn"))}
    assert drawn[0] in built["statistics"].blocks and drawn[0] not in built["figures"].blocks


def test_an_entry_trained_and_tested_under_a_condition_is_not_paired_with_clean_entries(tmp_path):
    clean = rows_of(CURVES, folds=6, seed=1).assign(test_condition="clean", train_condition="clean")
    matched = rows_of({"mfcc": CURVES["mfcc"]}, folds=6, seed=2).assign(test_condition="white:10",
                                                                        train_condition="white:10")
    rows = pd.concat([clean, matched], ignore_index=True)
    from featbench.report.significance import significance_of

    sig = significance_of(analyse(_written(tmp_path, rows), baseline="egemaps", n_boot=100))
    families = {s.family for s in sig.entries} | {p.a for p in sig.pairs} | {p.b for p in sig.pairs}
    assert "egemaps" in families and "mfcc" in families and not any("white:10" in f for f in families)
    assert any("tested on white:10 clips, not the baseline's clean" in why for _, why in sig.left_out)


def _written(tmp_path, rows) -> list:
    path = tmp_path / "r.csv"
    rows.to_csv(path, index=False)
    return [path]


def _corpora(n: int, conditions=("clean",), curves=None) -> pd.DataFrame:
    parts = []
    for c in range(n):
        for k, test in enumerate(conditions):
            part = rows_of(curves or CURVES, folds=4, seed=c + 10 * k, corpus=f"corpus{c}").assign(test_condition=test)
            part["ua"] = part["ua"] - 0.03 * c - 0.02 * k
            parts.append(part)
    return pd.concat(parts, ignore_index=True)


def test_across_corpora_equals_scipy_friedman_and_wilcoxon_with_holm(tmp_path):
    rows = _corpora(3, conditions=("clean", "white:10"))
    section = across_corpora_section(rows, tmp_path, condition="test_condition", title="study")
    assert section.id == "statistics-across"
    from featbench.report.statistics.across import across_corpora

    got = across_corpora(rows, condition="test_condition")
    assert got.budget == "all" and got.friedman.n_blocks == 6 and "corpus x test_condition" in got.unit
    blocks = rows[rows.budget == "all"].groupby(["corpus", "test_condition", "view", "fold"])["ua"].mean()
    blocks = blocks.groupby(["corpus", "test_condition", "view"]).mean().unstack("view")
    columns = [c.removesuffix(" (logreg)") for c in got.scores]
    expected = stats.friedmanchisquare(*[blocks[c].to_numpy() for c in columns])
    assert abs(got.friedman.statistic - expected.statistic) < 1e-9 and abs(got.friedman.p_value - expected.pvalue) < 1e-9
    raw = [stats.wilcoxon(blocks[a], blocks[b]).pvalue for a, b in combinations(columns, 2)]
    assert max(abs(p.p_holm - q) for p, q in zip(got.pairs.pairs, _holm_by_hand(raw))) < 1e-9
    assert [p.name for p in sorted(tmp_path.glob("critical_difference.*"))] == ["critical_difference.png",
                                                                               "critical_difference.svg"]
    assert any(getattr(b, "stem", "") == "critical_difference" for b in section.blocks)
    table = next(b for b in section.blocks if getattr(b, "id", "") == "statistics-across-pairs")
    assert table.columns[-1].startswith("Bayesian: P(entry higher / within ±1.0 points") and len(got.bayes) == 3


def test_across_four_corpora_says_too_few_blocks_and_names_a_missing_entry(tmp_path):
    rows = _corpora(4, curves={**CURVES, "fbank": [0.3, 0.4, 0.45, 0.5, 0.52]})
    rows = rows[~((rows.corpus == "corpus2") & (rows.family == "mfcc"))]
    section = across_corpora_section(rows, tmp_path)
    text = " ".join(b.text for b in section.blocks if hasattr(b, "text"))
    assert "too few blocks (4) for a test to mean anything" in text and "p = " not in text
    assert "no score in corpus2: mfcc, logistic regression." in text
    assert not list(tmp_path.glob("critical_difference.*"))
    with pytest.raises(FeatbenchError, match="corpus corpus0 holds rows of 2 class sets"):
        across_corpora_section(rows.assign(classes=np.where(rows.fold == 0, "a,b", rows.classes)))
    with pytest.raises(FeatbenchError, match="mix metrics"):
        across_corpora_section(rows.assign(metric=["m1", "m2"] * (len(rows) // 2) + ["m1"] * (len(rows) % 2)))
    with pytest.raises(FeatbenchError, match="no budget is held by every corpus"):
        across_corpora_section(rows[(rows.corpus != "corpus1") | (rows.budget == "4")][
            lambda r: (r.corpus == "corpus1") | (r.budget != "4")])


def test_a_training_run_records_correct_by_speaker_and_the_interval_is_exact(demo_store, tmp_path):
    from featbench.train.runner import Experiment, run_training

    run_training(Experiment(demo_store, ["egemaps-func"], ["logreg"], ["all"], [0], n_folds=2), tmp_path / "r.csv",
                 progress=False)
    rows = read_results(tmp_path / "r.csv").rows
    for r in rows.itertuples():
        correct, tested = json.loads(r.correct_by_speaker), json.loads(r.test_classes)["speaker"]
        assert set(correct) == set(tested) and all(set(correct[s]) == set(tested[s]) for s in tested)
        diagonal = np.diag(np.array(json.loads(r.confusion)))
        per_class = [sum(correct[s].get(c, 0) for s in correct) for c in json.loads(r.labels)]
        assert per_class == diagonal.tolist()  # the same predictions as the confusion matrix
    folds = counts_of(rows.assign(family=rows.view), "egemaps-func", "logreg")
    assert not any(f.approximate for f in folds)
    assert abs(np.mean([f.ua() for f in folds]) - rows.ua.mean()) < 1e-9
    made = build_report(analyse([tmp_path / "r.csv"], n_boot=100), tmp_path / "rep", figures=False)
    text = render_markdown(made)
    assert "exact (correct\\_by\\_speaker)" in text.split("## Statistics", 1)[1]


def test_a_schema_4_file_without_correct_by_speaker_is_read_and_appended_to_as_it_is(demo_store, tmp_path):
    from featbench.train.runner import Experiment, run_training

    exp = Experiment(demo_store, ["egemaps-func"], ["logreg"], [2, "all"], [0], n_folds=2)
    run_training(exp, tmp_path / "new.csv", progress=False)
    new = pd.read_csv(tmp_path / "new.csv", dtype=str, keep_default_na=False)
    assert list(new.columns) == RESULT_COLUMNS
    old = tmp_path / "old.csv"
    new[new.budget == "2"][CONDITIONED_COLUMNS].to_csv(old, index=False)  # as featbench wrote schema 4 before
    assert read_results(old).rows["correct_by_speaker"].eq("").all()
    done = run_training(exp, old, progress=False)  # the budget 'all' rows appended, in the file's own columns
    assert done.rows_added == len(new) // 2 and list(pd.read_csv(old, nrows=0).columns) == CONDITIONED_COLUMNS
    with ResultsFile(old) as results:
        assert results.n_rows == len(new)
