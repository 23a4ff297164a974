import pandas as pd
import pytest

from featbench.corpus import load_corpus
from featbench.errors import FeatbenchError
from featbench.train.protocol import (
    budget_subset, check_folds, default_budgets, default_n_folds, largest_budget, make_folds, parse_budgets, parse_seeds,
    validation_split,
)
from tests.conftest import RAVDESS, needs_ravdess


def _table(n_groups=8, per_group=12, classes=("a", "b", "c")):
    rows = []
    for g in range(n_groups):
        for k in range(per_group):
            rows.append(dict(id=f"g{g}_{k}", label=classes[k % len(classes)], group=f"g{g}", speaker=f"g{g}",
                             gender="female" if g % 2 else "male"))
    return pd.DataFrame(rows)


@pytest.mark.parametrize("n_folds", [None, 4, 3])
def test_no_group_on_both_sides(n_folds):
    table = _table()
    folds = make_folds(table, n_folds)
    assert sorted(g for f in folds for g in f.test_groups) == sorted(table.group.unique())  # each group tested once
    for fold in folds:
        test = set(table.group[fold.test_mask(table)])
        for seed in range(3):
            train_ids = budget_subset(table, fold, "all", seed)
            train_groups = set(table.set_index("id").loc[train_ids].group)
            assert not test & train_groups
            fit, val = validation_split(table, train_ids, seed)
            fit_groups = set(table.set_index("id").loc[fit].group)
            val_groups = set(table.set_index("id").loc[val].group)
            assert val and not fit_groups & val_groups and not val_groups & test


def test_budgets_nested_stratified_and_seeded():
    table = _table()
    fold = make_folds(table, 4)[1]
    subsets = {b: budget_subset(table, fold, b, seed=5) for b in (2, 4, 8, 16)}
    for small, large in [(2, 4), (4, 8), (8, 16)]:
        assert set(subsets[small]) <= set(subsets[large])
    for b, ids in subsets.items():
        counts = table.set_index("id").loc[ids].label.value_counts()
        assert (counts == b).all() and len(counts) == 3
    assert budget_subset(table, fold, 8, seed=5) == subsets[8]  # fixed by seed
    assert set(budget_subset(table, fold, 8, seed=6)) != set(subsets[8])
    shuffled = table.sample(frac=1.0, random_state=1)
    assert sorted(budget_subset(shuffled, fold, 8, seed=5)) == sorted(subsets[8])  # independent of row order


def test_budget_larger_than_class_is_an_error():
    table = _table()
    fold = make_folds(table, 4)[0]
    with pytest.raises(FeatbenchError, match="budget 100 per class is larger than class 'a'"):
        budget_subset(table, fold, 100, seed=0)


def test_missing_class_in_a_fold_is_an_error():
    table = _table()
    folds = make_folds(table, 4)
    table = table[~(table.group.isin(folds[0].test_groups) & (table.label == "c"))]
    with pytest.raises(FeatbenchError, match="class 'c' is missing from the test part of fold 0"):
        check_folds(table, folds)


def _covers(table, folds):
    classes = set(table.label)
    return all(set(table.label[f.test_mask(table)]) == classes and set(table.label[~f.test_mask(table)]) == classes
               for f in folds)


def test_a_speaker_without_a_class_trains_with_the_defaults():
    # EmoDB-like: 10 speakers, speaker g8 never expressed class 'c': leave-one-speaker-out is impossible
    table = _table(n_groups=10)
    table = table[~((table.group == "g8") & (table.label == "c"))]
    k = default_n_folds(table)
    assert k == 9  # the largest k up to 10 with every class in every test and training part
    folds = make_folds(table)
    assert len(folds) == 9 and _covers(table, folds)
    assert sorted(g for f in folds for g in f.test_groups) == sorted(table.group.unique())
    assert make_folds(table) == folds  # deterministic
    for k in (5, 4, 3):  # explicit fold counts that a round-robin deal got wrong work too
        assert _covers(table, make_folds(table, k))


def test_classes_held_by_few_speakers_still_get_folds():
    # ~30 speakers, heavy overlap: class 'x' held by 3 speakers only, so round-robin deals miss it
    rows = []
    for g in range(30):
        labels = ["a", "b"] + (["x"] if g in (0, 1, 2) else [])
        rows += [dict(id=f"g{g}_{label}_{k}", label=label, group=f"g{g:02d}", speaker=f"g{g:02d}",
                      gender="f" if g % 2 else "m") for label in labels for k in range(3)]
    table = pd.DataFrame(rows)
    folds = make_folds(table)
    assert len(folds) == 3 and _covers(table, folds)  # one holder of 'x' per fold leaves two for training
    assert max(len(f.test_groups) for f in folds) - min(len(f.test_groups) for f in folds) <= 1


def test_a_class_held_by_one_speaker_is_one_line_naming_them():
    table = _table(n_groups=6)
    table = table[~((table.group != "g3") & (table.label == "c"))]
    with pytest.raises(FeatbenchError, match=r"class 'c' is held by 1 group\(s\) \(g3\)"):
        make_folds(table)


def test_default_budgets_adapt_to_a_small_corpus():
    table = _table(n_groups=5, per_group=9)  # 3 per class per group; 4 groups train: 12 per class
    folds = make_folds(table)
    assert largest_budget(table, folds) == 12
    assert default_budgets(table, folds) == [4, 8, "all"]


def test_fraction_budgets_are_nested_and_stratified():
    table = _table()
    fold = make_folds(table, 4)[2]
    quarter, half = budget_subset(table, fold, 0.25, seed=1), budget_subset(table, fold, 0.5, seed=1)
    assert set(quarter) <= set(half)
    assert (table.set_index("id").loc[half].label.value_counts() == 12).all()  # half of 24 per class
    assert set(budget_subset(table, fold, 12, seed=1)) == set(half)  # the same ordering as counts


def test_parse_budgets():
    assert parse_budgets("all,64,8") == [8, 64, "all"]
    assert parse_budgets("0.5,all,0.1") == [0.1, 0.5, "all"]
    with pytest.raises(FeatbenchError, match="'-3'"):
        parse_budgets("8,-3")


@pytest.mark.parametrize("spec, message", [
    ("8,0.5", "budgets mix counts"),  # a fraction subset is not nested in a count subset, nor the reverse
    ("8,16,8", "budget 8 is given twice"),
    ("all,all", "budget all is given twice"),
])
def test_mixed_or_repeated_budgets_are_refused(spec, message):
    with pytest.raises(FeatbenchError, match=message):
        parse_budgets(spec)


def test_repeated_seeds_are_refused():
    assert parse_seeds("2,0,1") == [2, 0, 1]
    with pytest.raises(FeatbenchError, match="seed 1 is given twice"):
        parse_seeds("0,1,1")


@needs_ravdess
def test_ravdess_six_folds_balanced_by_gender():
    table = load_corpus("ravdess", RAVDESS, probe=False)
    folds = make_folds(table, 6)
    for fold in folds:
        actors = [int(g.split("_")[1]) for g in fold.test_groups]
        assert len(actors) == 4 and sum(a % 2 for a in actors) == 2  # two male (odd), two female
    check_folds(table, folds)
    counts = [len(budget_subset(table, f, "all", 0)) for f in folds]
    assert counts == [1200] * 6


def test_library_budgets_and_seeds_are_checked():
    from featbench.train.protocol import check_budgets, check_seeds

    for bad in ([0, "all"], [-4], [1.5], [0.0]):
        with pytest.raises(FeatbenchError, match="not a positive count"):
            check_budgets(bad)
    for bad in ([-1], [0.5], [True]):
        with pytest.raises(FeatbenchError, match="not a non-negative integer"):
            check_seeds(bad)


def test_preview_of_a_single_speaker_corpus_says_why_there_is_no_protocol():
    from featbench.train.protocol import preview

    table = _table(n_groups=1)
    assert "no protocol: 1 speaker group(s): speaker-independent folds need at least 2" in preview(table)


def test_an_unbalanced_assignment_is_found_when_no_balanced_one_exists():
    # review finding: the only valid 3-fold assignment has folds of 3, 2 and 1 groups
    held = {"g0": "a", "g1": "abd", "g2": "d", "g3": "ac", "g4": "abcd", "g5": "bc"}
    table = pd.DataFrame([dict(id=f"{g}{c}", label=c, group=g, speaker=g, gender="") for g, cs in held.items() for c in cs])
    folds = make_folds(table, 3)
    assert sorted(sorted(f.test_groups) for f in folds) == [["g0", "g2", "g5"], ["g1", "g3"], ["g4"]]
    check_folds(table, folds)
