"""Choices on validation speakers with two corpora: `@auto` layers, `@weighted` layer weights and `selected`
classifiers in cross-corpus and transfer runs, validated on the training corpus's speakers (`--validate-on
source`, the default) or on the target corpus's speakers outside the test fold (`--validate-on target`); the
target's test speakers are never read for a choice."""
import json
import shutil

import numpy as np
import pandas as pd

from featbench.results import labels, setups
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.corpus import load_corpus, synthetic
from featbench.extract import run_extraction
from featbench.report.entries import family_entries, headline_families
from featbench.train import Experiment, run_training
from featbench.train.protocol import make_folds
from featbench.train.transfer import CROSS, OTHER, TARGET, TRANSFER, Design, combine

from tests.conftest import LAYERS, add_layered_family

CHOICE_COLUMNS = ["family", "classifier", "fold", "seed", "budget", "choice", "val_ua", "hparams", "hp_selection"]
KEY = ["view", "classifier", "fold", "seed", "budget"]
SHIFTED = 1  # the source corpus's layer 1 carries its classes one dimension further on: a cue that does not transfer


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """Another synthetic corpus (other voices, ids 'o_...') with egemaps-func and 'toy', whose layer 1 separates the
    classes as well as layer 2 does here but maps them the wrong way round on the demo corpus."""
    root = tmp_path_factory.mktemp("source")
    synthetic.generate(root / "corpus", per_class=2, speakers=4, seed=7)
    table = load_corpus("demo", root / "corpus")
    table["id"] = "o_" + table["id"]
    store = root / "source"
    run_extraction(table, [("egemaps-func", {})], store, progress=False)
    add_layered_family(store, seed=7, shifted=SHIFTED)
    return store


def _exp(target, source, mode, **kw):
    stores = dict(store=source, test_store=target) if mode == CROSS else dict(store=target, add_store=source)
    base = dict(families=["toy@auto", "toy@weighted", "egemaps-func"], classifiers=["selected(logreg+svm)"],
                budgets=[2, "all"], seeds=[0], n_folds=4)
    return Experiment(**{**stores, **base, **kw})


def _rows(exp, out):
    run_training(exp, out, progress=False)
    return pd.read_csv(out, dtype=str, keep_default_na=False)


@pytest.mark.parametrize("validate_on", [None, "target"])
@pytest.mark.parametrize("mode", [CROSS, TRANSFER])
def test_two_corpus_choices_are_honest_and_never_read_test_labels(layered, source, tmp_path, mode, validate_on,
                                                                  fold_0_only):
    """@auto, @weighted and selected(...) rows with a second store: choices made, honest entries for the headline, and
    shuffling the target's test speakers' labels changes scores, never a choice (fold 0's rows)."""
    a = _rows(_exp(layered, source, mode, validate_on=validate_on), tmp_path / "a.csv")
    permuted = tmp_path / layered.name
    shutil.copytree(layered, permuted)
    corpus = pd.read_csv(permuted / "corpus.csv", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(1)
    for speaker in a.loc[a.fold == "0", "test_groups"].iloc[0].split():  # same class counts, same folds
        mask = corpus.speaker == speaker
        corpus.loc[mask, "label"] = rng.permutation(corpus.loc[mask, "label"].to_numpy())
    corpus.to_csv(permuted / "corpus.csv", index=False)
    b = _rows(_exp(permuted, source, mode, validate_on=validate_on), tmp_path / "b.csv")
    a, b = (t[t.fold == "0"].sort_values(KEY).reset_index(drop=True) for t in (a, b))
    assert len(a) == 3 * 2 and (a.test_groups == b.test_groups).all()
    pd.testing.assert_frame_equal(a[CHOICE_COLUMNS], b[CHOICE_COLUMNS])
    assert (a.ua != b.ua).any()  # the permutation did reach the test scores

    tags = ("from source" if mode == CROSS else "+source") + (", validated on target" if validate_on else "")
    names = {view: f"{view} [{tags}]" for view in ("toy@auto", "toy@weighted", "egemaps-func")}
    a = a.assign(family=labels(a))  # entries by their display names, as a report names them
    assert set(a.family) == set(names.values())
    made = {f: [json.loads(c) for c in a.loc[a.family == f, "choice"]] for f in names.values()}
    assert all("layer" in m and "classifier" in m for m in made[names["toy@auto"]])
    assert all(len(m["layer_weights"]) == LAYERS and "classifier" in m for m in made[names["toy@weighted"]])
    assert all(s.startswith(("layer, classifier and grid on", "weights (", "classifier and grid on")) for s in a.hp_selection)
    assert all(("outside the test fold" in s) == bool(validate_on) for s in a.hp_selection)
    agg = a.assign(x=a.budget.map({"2": 2.0, "all": 8.0}), mean=a.ua.astype(float))
    agg = agg.groupby(["family", "classifier"], as_index=False).agg(x=("x", "max"), mean=("mean", "mean"))
    entries = family_entries(agg)
    assert all(e.honest for e in entries.values())
    assert set(headline_families(entries, names["egemaps-func"], setups(a))) == {names["toy@auto"], names["toy@weighted"]}


def test_validating_on_the_target_chooses_what_transfers(layered, source, tmp_path):
    """Constructed: on the source corpus layers 1 and 2 both separate the classes (ties go to layer 1), but layer 1's
    cue is the source's alone. Validated on the source, @auto keeps layer 1 and fails on the target; validated on
    the target's speakers outside the test fold, it takes layer 2."""
    rows = {}
    for validate_on in ("source", "target"):
        exp = _exp(layered, source, CROSS, families=["toy@auto"], classifiers=["logreg"], budgets=["all"],
                   validate_on=validate_on)
        rows[validate_on] = pd.read_csv(run_training(exp, tmp_path / f"{validate_on}.csv", progress=False).out)
    layers = {k: [json.loads(c)["layer"] for c in r.choice] for k, r in rows.items()}
    assert layers["source"] == [SHIFTED] * 4 and layers["target"] == [2] * 4, layers
    assert rows["target"].ua.mean() > rows["source"].ua.mean() + 0.5
    assert set(labels(rows["source"])) == {"toy@auto [from source]"}  # the default stays untagged
    assert set(labels(rows["target"])) == {"toy@auto [from source, validated on target]"}
    assert set(rows["source"].validation) == {"source"} and set(rows["target"].validation) == {"target"}


@pytest.mark.parametrize("mode", [CROSS, TRANSFER])
def test_target_validation_reads_the_target_outside_the_test_fold_only(mode):
    """Validation clips are the target's, never a test speaker's; in a transfer run they come out of the target's
    budget (fit keeps the rest of it and all of the other corpus), in a cross-corpus run fit is the whole training set."""
    def corpus(prefix):
        return pd.DataFrame({"id": [f"{prefix}{i}" for i in range(32)], "label": list("ab") * 16,
                             "speaker": [f"s{i // 4}" for i in range(32)], "group": [f"s{i // 4}" for i in range(32)]})
    table = combine(corpus("t"), corpus("o"), "src")
    target = table[table.part == TARGET]
    design = Design(mode, "src", validate_on="target")
    for fold in make_folds(target, 4):
        train, _ = design.training_ids(table, fold, "all", seed=0)
        fit, val = design.validation_ids(table, fold, train, seed=0)
        tested = set(target.id[fold.test_mask(target)])
        parts = table.set_index("id").part
        assert val and not set(val) & tested and set(parts[val]) == {TARGET}
        assert not set(fit) & set(val) and not set(fit) & tested
        if mode == CROSS:
            assert fit == train and set(val) == set(target.id) - tested
        else:
            assert set(fit) | set(val) == set(train) and set(parts[fit]) == {TARGET, OTHER}


@pytest.mark.parametrize("args, message", [
    (["--validate-on", "target"], "--validate-on target needs a second corpus (--test-store or --add-store)"),
    (["--validate-on", "speakers", "--add-store", "SOURCE"], "--validate-on speakers: choose source or target"),
])
def test_validate_on_errors_are_one_line(layered, source, tmp_path, args, message):
    args = [str(source) if a == "SOURCE" else a for a in args]
    result = CliRunner().invoke(app, ["train", str(layered), "--features", "egemaps-func", "--classifiers", "logreg",
                                      "--out", str(tmp_path / "r.csv"), "--no-progress", *args])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and message in result.output, result.output
    assert not (tmp_path / "r.csv").exists()
