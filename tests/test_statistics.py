"""report.statistics against independent computations: scipy's Friedman and Wilcoxon with a Holm written here,
Nadeau and Bengio's corrected t by hand, Demsar's table of the Nemenyi critical value, and the refusals."""
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from featbench.errors import FeatbenchError
from featbench.report.statistics import (UTTERANCES, FoldCounts, corrected_pair, corrected_t, counts_of,
                                         critical_difference, friedman, holm, nemenyi_q, pairwise, score_matrix,
                                         speaker_interval)
from featbench.report.statistics.cdplot import cd_diagram


def _scores(n=12, k=5, seed=0, step=0.02):
    rng = np.random.default_rng(seed)
    values = rng.normal(0.6, 0.08, (n, 1)) + np.arange(k)[::-1] * step + rng.normal(0, 0.03, (n, k))
    return pd.DataFrame(values, columns=[f"entry{i}" for i in range(k)], index=[f"corpus{b}" for b in range(n)])


def _holm_by_hand(p):
    """Holm's step-down adjustment, written as the textbook says it (a loop, not the library's running maximum)."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    adjusted, running = [0.0] * len(p), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return adjusted


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_friedman_equals_scipy(seed):
    scores = _scores(seed=seed)
    expected = stats.friedmanchisquare(*[scores[c].to_numpy() for c in scores])
    got = friedman(scores, "corpus")
    assert abs(got.statistic - expected.statistic) < 1e-9 and abs(got.p_value - expected.pvalue) < 1e-9
    ranks = np.mean([stats.rankdata(-row) for row in scores.to_numpy()], axis=0)
    assert got.mean_ranks == {c: round(float(r), 3) for c, r in zip(scores, ranks)}
    assert got.unit == "corpus" and got.n_blocks == 12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_holm_adjusted_p_equals_scipy_wilcoxon_and_holm_by_hand(seed):
    scores = _scores(n=15, seed=seed)
    cols = list(scores)
    raw = [stats.wilcoxon(scores[a], scores[b]).pvalue for i, a in enumerate(cols) for b in cols[i + 1:]]
    expected = _holm_by_hand(raw)
    got = pairwise(scores, "corpus")
    assert [(p.a, p.b) for p in got.pairs] == [(a, b) for i, a in enumerate(cols) for b in cols[i + 1:]]
    assert max(abs(p.p_value - r) for p, r in zip(got.pairs, raw)) < 1e-9
    assert max(abs(p.p_holm - e) for p, e in zip(got.pairs, expected)) < 1e-9


def test_holm_hand_example():
    # sorted 0.001, 0.02, 0.04, 0.5 times 4, 3, 2, 1: 0.004, 0.06, 0.08, 0.5 (already non-decreasing)
    assert holm([0.04, 0.001, 0.02, 0.5]) == pytest.approx([0.08, 0.004, 0.06, 0.5], abs=1e-12)
    # the running maximum: 0.01 * 3 = 0.03, then 0.011 * 2 = 0.022 is raised to 0.03; capped at 1
    assert holm([0.011, 0.01, 0.9]) == pytest.approx([0.03, 0.03, 0.9], abs=1e-12)
    assert holm([0.6, 0.7]) == [1.0, 1.0]
    with pytest.raises(ValueError):
        holm([0.1, float("nan")])


def test_holm_equals_statsmodels():
    multitest = pytest.importorskip("statsmodels.stats.multitest", reason="statsmodels is not a featbench dependency")
    p = np.random.default_rng(3).uniform(0, 0.2, 15)
    assert np.allclose(holm(p), multitest.multipletests(p, method="holm")[1], atol=1e-12)


def test_corrected_t_by_hand():
    a, b, fraction = [.70, .72, .68, .75, .71, .69], [.66, .70, .67, .70, .69, .66], 0.25
    d = [x - y for x, y in zip(a, b)]
    k, mean = len(d), sum(d) / len(d)
    var = sum((x - mean) ** 2 for x in d) / (k - 1)
    t = mean / math.sqrt((1 / k + fraction) * var)
    got = corrected_t(a, b, fraction)
    assert abs(got.t - t) < 1e-9 and abs(got.p_value - 2 * stats.t.sf(abs(t), k - 1)) < 1e-9
    half = stats.t.ppf(0.975, k - 1) * math.sqrt((1 / k + fraction) * var)
    assert abs(got.low - (mean - half)) < 1e-9 and abs(got.high - (mean + half)) < 1e-9
    plain = stats.ttest_rel(a, b)  # the uncorrected paired t is larger: the correction widens
    assert got.t < plain.statistic and got.p_value > plain.pvalue


def test_corrected_pair_takes_the_test_fraction_from_the_rows():
    rows = pd.DataFrame([{"family": f, "classifier": "lr", "budget": "all", "examples_per_class": 10.0, "fold": k,
                          "seed": s, "ua": 0.6 + 0.01 * k + (0.03 if f == "a" else 0) + 0.001 * s + 0.002 * (k % 2) * (f == "a"),
                          "n_train": 400, "n_test": 100} for f in "ab" for k in range(6) for s in range(2)])
    got = corrected_pair(rows, ("a", "lr"), ("b", "lr"))
    assert got.test_fraction == 0.25 and got.k == 6
    d = np.array([0.03 + 0.002 * (k % 2) for k in range(6)])
    assert abs(got.t - d.mean() / math.sqrt((1 / 6 + 0.25) * d.var(ddof=1))) < 1e-9


def test_too_few_blocks_refused_without_a_p_value():
    scores = _scores(n=4)
    said = "too few blocks (4) for a test to mean anything"
    f, pairs, cd = friedman(scores, "corpus"), pairwise(scores, "corpus"), critical_difference(scores, "corpus")
    assert f.p_value is None and f.statistic is None and f.reason == said and said in f.line()
    assert pairs.reason == said and all(p.p_value is None and p.p_holm is None for p in pairs.pairs)
    assert pairs.significant() == []
    assert cd.cd is None and cd.reason == said and cd.cliques == ()
    assert f.mean_ranks  # the rank table is still there: it describes, it tests nothing
    t = corrected_t([0.7] * 4, [0.6] * 4, 0.2)
    assert t.p_value is None and t.reason == said
    assert friedman(_scores(n=5), "corpus").p_value is not None


def test_nan_blocks_dropped_ties_and_equal_scores():
    scores = _scores(n=7)
    scores.iloc[2, 1] = np.nan
    scores.iloc[5, 0] = np.inf
    f = friedman(scores, "corpus")
    assert f.n_blocks == 5 and f.dropped == ("corpus2", "corpus5") and f.p_value is not None
    tied = pd.DataFrame([[0.5, 0.5, 0.4]] * 6, columns=list("abc"))
    assert friedman(tied, "corpus").mean_ranks == {"a": 1.5, "b": 1.5, "c": 3.0}
    pair = pairwise(tied, "corpus").pairs[0]
    assert (pair.a, pair.b, pair.p_value, pair.p_holm) == ("a", "b", 1.0, 1.0) and "equal in every block" in pair.note
    same = pd.DataFrame([[0.5] * 3] * 6, columns=list("abc"))
    assert friedman(same, "corpus").p_value is None and "same in every block" in friedman(same, "corpus").reason
    assert "same in every fold" in corrected_t([0.7] * 6, [0.6] * 6, 0.2).reason
    with pytest.raises(FeatbenchError, match="not finite"):
        corrected_t([0.7, np.nan, 0.7, 0.7, 0.7], [0.6] * 5, 0.2)
    with pytest.raises(FeatbenchError, match="unit"):
        friedman(scores, " ")
    with pytest.raises(FeatbenchError, match="not a number"):
        pairwise(scores.astype(object).assign(entry0="x"), "corpus")
    with pytest.raises(FeatbenchError, match="repeat"):
        friedman(scores.rename(columns={"entry1": "entry0"}), "corpus")


def test_critical_difference_against_demsar_table():
    # Demsar (2006), Table 5(a): q_0.05 for k = 2..6 and 10
    for k, q in {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 10: 3.164}.items():
        assert abs(nemenyi_q(k) - q) < 1e-3
    cd = critical_difference(_scores(n=20, k=5, step=0.05), "corpus")
    assert abs(cd.cd - 2.728 * math.sqrt(5 * 6 / (6 * 20))) < 1e-3
    ranks = cd.mean_ranks
    for clique in cd.cliques:
        assert max(ranks[e] for e in clique) - min(ranks[e] for e in clique) < cd.cd
    order = sorted(ranks, key=ranks.get)
    assert not any(set(order[:2]) <= set(c) for c in cd.cliques) or ranks[order[1]] - ranks[order[0]] < cd.cd


def test_cd_diagram_writes_both_files_with_hostile_names(tmp_path):
    scores = _scores(n=8, k=4).rename(columns={"entry0": "a $\\frac$ b", "entry1": "<script>"})
    paths = cd_diagram(critical_difference(scores, "corpus"), tmp_path, title="t $x")
    assert [p.name for p in paths] == ["critical_difference.png", "critical_difference.svg"]
    assert "&lt;script&gt;" in paths[1].read_text()
    assert cd_diagram(critical_difference(scores.head(3), "corpus"), tmp_path) == []


def test_score_matrix_averages_seeds_within_folds_then_folds():
    rows = pd.DataFrame({"corpus": ["x"] * 3 + ["y"], "family": "f", "classifier": "lr", "fold": [0, 0, 1, 0],
                         "seed": [0, 1, 0, 0], "ua": [0.4, 0.6, 0.9, 0.3]})
    assert score_matrix(rows, ["corpus"])["f (lr)"].to_dict() == {"x": 0.7, "y": 0.3}


def _row(fold, seed, correct=None, family="f"):
    tc = {"speaker": {"s1": {"a": 4, "b": 4}, "s2": {"a": 4, "b": 2}}}
    row = {"family": family, "classifier": "lr", "budget": "all", "examples_per_class": 5.0, "fold": fold, "seed": seed,
           "metric": "UA (balanced accuracy)", "test_classes": json.dumps(tc), "labels": '["a", "b"]',
           "confusion": "[[6, 2], [3, 3]]", "ua_by_speaker": json.dumps({"s1": 0.75, "s2": 0.5 + 0.0 * fold})}
    if correct is not None:
        row["correct_by_speaker"] = json.dumps(correct)
    return row


def test_counts_fitted_to_stored_margins_reproduce_the_row():
    folds = counts_of(pd.DataFrame([_row(0, 0), _row(1, 0)]), "f", "lr")
    f = folds[0]
    assert f.approximate and f.speakers == ("s1", "s2") and f.classes == ("a", "b")
    # the fold's UA is the row's (recalls 6/8 and 3/6), each speaker's UA its own
    assert abs(f.ua() - (6 / 8 + 3 / 6) / 2) < 1e-6
    # s2 holds 4 a and 2 b: S + C margins and S + C - 1 free values, so the speakers' UA are matched near, not exactly
    assert np.allclose((f.correct / f.total).mean(axis=1), [0.75, 0.5], atol=0.03)
    balanced = counts_of(pd.DataFrame([_row(0, 0) | {"test_classes": json.dumps(
        {"speaker": {"s1": {"a": 4, "b": 4}, "s2": {"a": 4, "b": 4}}}), "confusion": "[[6, 2], [4, 4]]"}]), "f", "lr")[0]
    assert np.allclose((balanced.correct / balanced.total).mean(axis=1), [0.75, 0.5], atol=1e-6)
    assert abs(balanced.ua() - (6 / 8 + 4 / 8) / 2) < 1e-6
    exact = counts_of(pd.DataFrame([_row(0, 0, {"s1": {"a": 4, "b": 2}, "s2": {"a": 2, "b": 1}})]), "f", "lr")[0]
    assert not exact.approximate and exact.correct.tolist() == [[4, 2], [2, 1]]


def test_speaker_interval_paired_and_refusals():
    rng = np.random.default_rng(0)
    total = np.full((4, 3), 6.0)
    a = [FoldCounts(k, tuple(f"s{k}{i}" for i in range(4)), ("x", "y", "z"), rng.binomial(6, 0.7, (4, 3)) * 1.0, total)
         for k in range(6)]
    b = [FoldCounts(f.fold, f.speakers, f.classes, np.maximum(f.correct - rng.integers(0, 2, (4, 3)), 0), total)
         for f in a]
    one = speaker_interval(a, n_boot=500)
    assert one.low <= one.estimate <= one.high and "within each fold" in one.unit
    diff = speaker_interval(a, b, n_boot=500)
    assert diff.paired and diff.low > 0  # b is a minus some correct answers, speaker by speaker
    assert "speakers held fixed" in speaker_interval(a, n_boot=200, unit=UTTERANCES).unit
    with pytest.raises(FeatbenchError, match="both"):
        speaker_interval(a, b, unit=UTTERANCES)
    with pytest.raises(FeatbenchError, match="same folds"):
        speaker_interval(a, b[::-1])
    with pytest.raises(FeatbenchError, match="outside"):
        speaker_interval([FoldCounts(0, ("s",), ("x",), np.array([[7.0]]), np.array([[6.0]]))])
    loso = [FoldCounts(k, (f"s{k}",), ("x",), np.array([[k % 3 * 1.0]]), np.array([[3.0]])) for k in range(6)]
    assert "one test speaker" in speaker_interval(loso, n_boot=200).unit


def test_damaged_row_columns_refused_in_one_line():
    """Every JSON column counts_of reads, damaged by the seeded byte fuzzer or replaced by a hostile value: a
    FeatbenchError of one line naming the fold, or counts that stay inside their clips, never a traceback."""
    import random

    from hostile.contract import hostile_value, mutate

    rng, outcomes = random.Random(28), {"refused": 0, "read": 0}
    good = _row(0, 0, {"s1": {"a": 4, "b": 2}, "s2": {"a": 2, "b": 1}})
    for case in range(300):
        row = dict(good) if case % 2 else {k: v for k, v in good.items() if k != "correct_by_speaker"}
        column = rng.choice([c for c in ("test_classes", "labels", "confusion", "ua_by_speaker", "correct_by_speaker")
                             if c in row])
        row[column] = (mutate(str(row[column]).encode(), rng).decode("utf-8", "replace") if rng.random() < 0.7
                       else hostile_value(rng))
        try:
            folds = counts_of(pd.DataFrame([row]), "f", "lr")
        except FeatbenchError as err:
            assert "\n" not in str(err) and str(err).startswith("speaker interval: fold 0"), str(err)
            outcomes["refused"] += 1
            continue
        for f in folds:
            assert np.isfinite(f.correct).all() and (f.correct >= 0).all() and (f.correct <= f.total + 1e-9).all()
        outcomes["read"] += 1
    assert outcomes["refused"] > 100, outcomes


def test_bayesian_correlated_t_is_the_corrected_t_posterior_and_equals_baycomp_at_k_fold_fractions():
    from featbench.report.statistics.bayes import correlated_t

    a, b = np.array([.70, .72, .68, .75, .71, .69]), np.array([.66, .70, .67, .70, .69, .66])
    d, fraction = a - b, 0.3
    scale = math.sqrt((1 / 6 + fraction) * d.var(ddof=1))
    got = correlated_t(a, b, fraction)
    assert abs(got.p_b - stats.t.cdf(-0.01, 5, d.mean(), scale)) < 1e-12
    assert abs(got.p_a - stats.t.sf(0.01, 5, d.mean(), scale)) < 1e-12 and abs(got.p_a + got.p_rope + got.p_b - 1) < 1e-12
    assert correlated_t(a[:4], b[:4], fraction).p_a is None
    baycomp = pytest.importorskip("baycomp", reason="baycomp is not a featbench dependency")
    ref = baycomp.CorrelatedTTest(a, b, rope=0.01).probs()  # its correction: n_test / n_train = 1 / (k - 1)
    k_fold = correlated_t(a, b, 1 / 5)
    assert np.allclose([k_fold.p_a, k_fold.p_rope, k_fold.p_b], ref, atol=1e-12)


def test_bayesian_signed_rank_sides_and_baycomp():
    from featbench.report.statistics.bayes import signed_rank

    rng = np.random.default_rng(4)
    a = rng.normal(0.6, 0.05, 12)
    higher = signed_rank(a, a - 0.05 - rng.uniform(0, 0.01, 12), n_samples=4000)
    assert higher.p_a > 0.99 and abs(higher.p_a + higher.p_rope + higher.p_b - 1) < 1e-12
    same = signed_rank(a, a + rng.normal(0, 0.001, 12), n_samples=4000)
    assert same.p_rope > 0.95
    assert signed_rank(a[:4], a[:4] - 0.1).reason == "too few blocks (4) for a test to mean anything"
    baycomp = pytest.importorskip("baycomp", reason="baycomp is not a featbench dependency")
    for n, shift in [(6, 0.01), (10, 0.0), (20, 0.02)]:
        x = a[:n] if n <= len(a) else rng.normal(0.6, 0.05, n)
        y = x - rng.normal(shift, 0.02, n)
        got = signed_rank(x, y, n_samples=3000, seed=7)
        ref = baycomp.SignedRankTest(x, y, rope=0.01, nsamples=3000, random_state=7).probs()
        assert np.allclose([got.p_a, got.p_rope, got.p_b], ref, atol=1e-12)
