"""Everything a grid's tasks share, read and checked before any training (`prepare_grid`): the store (or the two
stores of a cross-corpus or transfer run, see train.transfer), the protocol (folds, every budget in every fold)
and each view's utterance matrix, normalised as the Experiment says.

>>> from featbench.train.experiment import Experiment
>>> prepare_grid(Experiment(Path("store"), ["fbank"], [], [8], [0]))
Traceback (most recent call last):
featbench.errors.FeatbenchError: no classifiers given
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from featbench.corpus.balance import FLAG
from featbench.errors import FeatbenchError
from featbench.results import Setup
from featbench.row_kinds import RowKind
from featbench.store.tables import corpus_name
from featbench.store.timings import feature_costs
from featbench.train import attentive
from featbench.train.ensemble import check_ensemble_for, with_widths
from featbench.train.experiment import Experiment, check_classifiers, design_of
from featbench.train.grid import FUSION, SEQUENCE, SEQUENCE_MODELS, GridData, ViewData
from featbench.train.pooling import pooled_matrix
from featbench.train.protocol import Fold, check_budgets, check_budgets_fit, check_folds, check_seeds, default_budgets, make_folds
from featbench.train.speaker_stats import per_speaker_matrix
from featbench.train.target import describe
from featbench.train.shared_clips import check_disjoint
from featbench.train.transfer import CROSS, TARGET, Design, check_labels, check_same_features, combine
from featbench.train.views import AUTO, WEIGHTED, parts_of, resolve_views
from featbench.protocol.conditions import stored_name
from featbench.train.conditions import ConditionPlan, check_leakage, check_store, view_under


@dataclass
class Side:
    """One store of a run as the grid reads it: the store, its FeatureSets by family, the ids of its rows of the
    run's table (in order), the prefix its speakers get in a two-corpus table, and its pooled frames (read once)."""

    store: Path
    sets: dict
    ids: list[str]
    prefix: str = ""
    cache: dict = field(default_factory=dict)


def prepare_grid(exp: Experiment) -> tuple[GridData, list, int, list[str]]:
    """Read the store (or the two stores of a cross-corpus or transfer run, see train.transfer), check the protocol
    (every budget in every fold) and build the shared task data. Returns (data, folds, utterances left out for lack
    of some family's features, classifier entries). Every configuration error is raised here, before any training."""
    target_column = exp.target or ""
    classifiers = check_classifiers(exp.classifiers, target_column)
    seeds = check_seeds(list(exp.seeds))
    budgets = None if exp.budgets is None else check_budgets(list(exp.budgets))
    target_store, other_store, design = design_of(exp)
    table, views, sets, dropped, notes = _read_store(target_store, exp.families, exp.classes, exp.merge,
                                                     target=target_column, plan=exp.conditions)
    corpus = exp.corpus or corpus_name(target_store)  # as extract recorded it, else the folder's name
    _check_normalisation(exp, design, classifiers, two_stores=other_store is not None)
    if design.pooling.learned:
        attentive.check_run(exp)
    sides = [Side(target_store, sets, list(table["id"]))]
    if other_store is not None:
        target_side = Side(target_store, sets, list(table["id"]))
        table, other, other_dropped = _read_other(exp, design, views, (corpus, target_side), other_store, table, notes)
        sides = [target_side, other]
        dropped += other_dropped
    labels = sorted(table["label"].unique())
    folds, budgets = _folds_and_budgets(table, design, budgets, seeds, exp.n_folds, two_stores=other_store is not None)
    check_leakage(target_store, exp.conditions, table, folds)  # babble drawn from these folds, no talker leaks
    protocol = {
        "corpus": corpus, "classes": describe(target_column, exp.classes) if target_column else ",".join(labels),
        "merge": ",".join(f"{k}={v}" for k, v in sorted(exp.merge.items())), "n_classes": len(labels),
        "fold_scheme": folds[0].scheme, "n_folds": len(folds),
    }
    data_views = _grid_views(views, classifiers, table, sides, design, exp, notes)
    # absolute: sequence tasks on cluster workers read frames from this path, whatever their working folder
    data = GridData(target_store.resolve(), table, labels, data_views, protocol, tuple(budgets), tuple(seeds),
                    exp.seq_epochs, design, target_column, tuple(notes), conditions=exp.conditions)
    return data, folds, dropped, classifiers


def _check_normalisation(exp: Experiment, design: Design, classifiers: list[str], two_stores: bool) -> None:
    """One-line errors for a normalisation or a second store the classifier entries cannot take."""
    per_speaker = design.normalisation.per_speaker
    if exp.allow_confounded_speakers and not per_speaker:
        raise FeatbenchError(f"{FLAG} permits per-speaker normalisation of speakers dominated by one class; give it with "
                             "--normalise per-speaker (or per-speaker:K)")
    if per_speaker and any(c in SEQUENCE_MODELS for c in classifiers):
        raise FeatbenchError(f"per-speaker normalisation applies to pooled features; the {SEQUENCE} and {FUSION} models "
                             "read frames (use the utterance-level classifiers, or --normalise training)")
    if two_stores and any(c in SEQUENCE_MODELS for c in classifiers):
        raise FeatbenchError(f"the {SEQUENCE} and {FUSION} models train on one store; with --test-store or --add-store "
                             "use the utterance-level classifiers")


def _read_other(exp: Experiment, design: Design, views: list, first: tuple[str, Side], other_store: Path,
                table: pd.DataFrame, notes: list[str]) -> tuple[pd.DataFrame, Side, int]:
    """(the two-corpus table, the other store's Side, its utterances left out) once the other store is read and
    checked against the first (`first`: its corpus name and Side): the same features, labels, no clip in both (notes on
    clips compared without their audio go to `notes`)."""
    corpus, target = first
    target_store, sets = target.store, target.sets
    pairs = ((corpus, target_store), (design.other, other_store))
    same = corpus == design.other  # two folders of one name: only their paths tell them apart
    names = tuple(name if name == Path(store).name and not same else f"{name} ({store})" for name, store in pairs)
    other_table, _, other_sets, other_dropped, _ = _read_store(other_store, exp.families, exp.classes, exp.merge, views)
    for family in sets:
        check_same_features(family, (sets[family].meta, other_sets[family].meta), names)
    other = Side(other_store, other_sets, list(other_table["id"]), f"{design.other}:")
    check_labels(table, other_table, names)
    notes += check_disjoint((sets, other_sets), (table, other_table), names, (target.cache, other.cache))
    return combine(table, other_table, design.other), other, other_dropped


def _folds_and_budgets(table: pd.DataFrame, design: Design, budgets: list | None, seeds: list[int], n_folds: int | None,
                       two_stores: bool) -> tuple[list[Fold], list]:
    """(the folds of the tested corpus, the budgets: `budgets` or the defaults), failing on an impossible budget
    before any work."""
    target = table[table["part"] == TARGET] if two_stores else table  # its folds; the other is never tested
    folds = make_folds(target, n_folds)
    check_folds(target, folds)
    budget_pool, pool_folds = design.budget_table(table), folds if design.mode != CROSS else [Fold(0, (), "")]
    if budgets is None:
        budgets = default_budgets(budget_pool, pool_folds)
    check_budgets_fit(budget_pool, pool_folds, budgets)  # the largest budget every fold serves, not fold 0's
    for fold in folds:
        for budget in budgets:
            if isinstance(budget, int):
                design.training_ids(table, fold, budget, seeds[0])
    return folds, budgets


def _grid_views(views: list, classifiers: list[str], table: pd.DataFrame, sides: list[Side], design: Design,
                exp: Experiment, notes: list[str]) -> dict[Setup, ViewData]:
    """{Setup: ViewData} of every view, keyed by the Setup its rows carry (display names are the report's): its
    utterance matrix (when an utterance-level classifier runs), normalised as `design` says."""
    target, plan = sides[0], exp.conditions
    pooled_needed = any(c not in SEQUENCE_MODELS for c in classifiers)
    data_views = {}
    for view in views:
        first = view_under(view, plan.first)  # names the rows' config hash, cost and options
        _check_view_for(first, classifiers, target.sets, exp.target or "")
        _check_pooling(first, design.pooling, classifiers, target.sets)
        matrices, confounded, frames = {}, False, None
        if design.pooling.learned:  # frames, pooled in each task by attention learned on its training rows
            attentive.check_view(first, target.sets)
            frames = attentive.frame_rows(first, sides, target.store) if pooled_needed else None
        else:
            view = with_widths(view, first, target, design.pooling)  # an ensemble: its members' columns
        for condition in plan.conditions if pooled_needed and frames is None else ():
            X, confounded = _view_matrix(view_under(view, condition), table, sides, design, exp, notes)
            _check_finite(X, table, target.store, view.name, condition.text)
            matrices[condition.text] = X
        metas = [target.sets[leaf.family].meta for leaf in first.leaves]
        setup = replace((replace(design, confounded=True) if confounded else design).setup(view.name),
                        train_condition=plan.training.text)
        cost = feature_costs(target.store, list({leaf.family: target.sets[leaf.family] for leaf in first.leaves}.values()))
        data_views[setup] = ViewData(view, "+".join(m.config_hash for m in metas), "+".join(m.rows for m in metas),
                                           matrices.get(plan.training.text), setup=setup, cost=cost,
                                           options={leaf.family: shown_options(m.config) for leaf, m in zip(view.leaves, metas)},
                                           matrices=matrices, frames=frames)
    return data_views


def _check_finite(X: np.ndarray, table: pd.DataFrame, store: Path, name: str, condition: str) -> None:
    """One line for a view whose pooled rows hold NaN or infinity."""
    finite = np.isfinite(X).all(axis=1)
    if not finite.all():
        bad = [u for u, ok in zip(table["id"], finite) if not ok]
        under = "" if condition == "clean" else f" under condition '{condition}'"
        raise FeatbenchError(f"{store}: '{name}'{under} holds non-finite values for {len(bad)} clip(s) "
                             f"({', '.join(bad[:5])}); remove them from the store and extract again")


def shown_options(config: dict) -> dict:
    """A family's options as its rows record them (results.DETAIL_COLUMNS): a path by its last part, so that rows
    say which model without saying where a user keeps it.

    >>> shown_options({"model": "/home/me/models/whisper-base", "whisper_mode": "adaptive", "layer": "all"})
    {'model': 'whisper-base', 'whisper_mode': 'adaptive', 'layer': 'all'}
    """
    return {k: Path(v).name if isinstance(v, str) and ("/" in v or "\\" in v) else v for k, v in config.items()}


def _view_matrix(view, table: pd.DataFrame, sides: list[Side], design: Design, exp: Experiment,
                 notes: list[str]) -> tuple[np.ndarray, bool]:
    """(the pooled utterance matrix of a view (read under one recording condition: train.conditions.view_under),
    rows in table order, normalised per corpus or per speaker as `design` says; whether per-speaker statistics came
    from speakers dominated by one class). Per corpus: each corpus's rows on that corpus's statistics, and as each
    condition's matrix is made apart, each condition's on its own (no label read)."""
    X = np.vstack([pooled_matrix(view, side.sets, side.ids, side.cache, design.pooling) for side in sides])
    if design.normalisation.per_corpus:
        X = design.normalisation.apply(X, table["part"].to_numpy() if "part" in table else np.zeros(len(X), dtype=np.int8))
    if design.normalisation.per_speaker:
        return per_speaker_matrix(X, view, table["speaker"].astype(str), sides, exp, notes)
    return X, False


def load_table(store: str | Path, classes: list[str] | None, merge: dict) -> pd.DataFrame:
    """The corpus table saved with the store, after label merging and selection."""
    from featbench.corpus.table import select_labels
    from featbench.store import read_corpus

    return select_labels(read_corpus(store), classes, merge)


def _check_same_utterances(view, sets: dict, wanted: set) -> None:
    """The parts of a combined view must cover the same utterances (fusion never silently drops one side)."""
    first, *others = view.parts
    have = set(sets[first.family].ids) & wanted
    for part in others:
        other = set(sets[part.family].ids) & wanted
        if other != have:
            only_a, only_b = sorted(have - other), sorted(other - have)
            example = (only_a or only_b)[0]
            raise FeatbenchError(f"'{view.name}': the parts cover different utterances ({len(only_a)} only in "
                                 f"'{first.family}', {len(only_b)} only in '{part.family}', e.g. {example}); extract "
                                 "both for the same clips before combining them")


def _check_pooling(view, pooling, classifiers: list[str], sets: dict) -> None:
    """One-line errors for a pooling other than mean+std (protocol.pooling) where nothing is pooled: a family stored
    with one row per utterance (a pooled store excepted: it keeps the means and stds), the sequence models."""
    if pooling.is_default:
        return
    for leaf in view.leaves:
        meta = sets[leaf.family].meta
        if meta.rows == RowKind.UTTERANCE.value and not meta.pooled:
            raise FeatbenchError(f"--pooling {pooling.text}: '{leaf.family}' has one row per utterance, nothing to pool; "
                                 "train it in a run of its own, with the default pooling (mean+std)")
    stray = [c for c in classifiers if c in SEQUENCE_MODELS]
    if stray:
        raise FeatbenchError(f"--pooling {pooling.text} pools frames for the utterance-level classifiers; the {stray[0]} "
                             "model reads the frames themselves (use --pooling mean+std, or leave it out)")


def _check_view_for(view, classifiers: list[str], sets: dict, target: str = "") -> None:
    """One-line errors for a view a classifier cannot take."""
    rows = [sets[leaf.family].meta.rows for leaf in view.leaves]
    check_ensemble_for(view, classifiers, target)
    if target and view.mode == WEIGHTED and any(c not in SEQUENCE_MODELS for c in classifiers):
        raise FeatbenchError(f"'{view.name}': the utterance-level layer weights are learned for classes, not for --target "
                             f"{target}; use '{view.family}@auto' (a layer chosen by validation CCC), one layer, or "
                             f"--classifiers {SEQUENCE}")
    if SEQUENCE in classifiers:
        if view.parts:
            raise FeatbenchError(f"'{view.name}' combines families; the sequence model takes one (use --classifiers "
                                 f"{FUSION} for cross-modal attention over both)")
        if rows[0] == RowKind.UTTERANCE.value:
            raise FeatbenchError(f"family '{view.name}' has one row per utterance; the sequence classifier needs "
                                 "frame-level features")
        if view.mode == AUTO:
            raise FeatbenchError(f"'{view.name}' chooses a layer with the utterance-level classifiers; for the sequence "
                                 f"model use '{view.family}@weighted' (learned layer weights)")
    if FUSION in classifiers:
        sequences = (RowKind.FRAMES.value, RowKind.TOKENS.value)
        if len(view.parts) != 2 or any(r not in sequences for r in rows):
            raise FeatbenchError(f"'{view.name}': the {FUSION} classifier takes two frame- or token-level views joined "
                                 "by '+', e.g. whisper@L4+text")


def _read_store(store: Path, names: list[str], classes, merge, views=None, target: str = "",
                plan: ConditionPlan | None = None):
    """(table of the utterances every family covers under every condition of `plan`, views, {stored family name:
    FeatureSet}, utterances left out, notes) of one store; with a dimensional `target`, the table of train.target
    (its values, its quantile bins as labels). A clip missing under a condition (extract's errors.csv) is left out
    of every condition, with a note: each test condition scores the same clips."""
    from featbench.store import read_family
    from featbench.train.target import target_table

    notes: list[str] = []
    try:
        table = load_table(store, classes, merge)
        if target:
            table, notes = target_table(table, target)
    except FeatbenchError as err:  # name the store: a run may read two
        raise FeatbenchError(f"{store}: {err}") from None
    plan = plan or ConditionPlan.of()
    if views is None:
        check_store(store, plan, sorted({p.partition("@")[0] for n in names for p in parts_of(n)}))
        views = resolve_views(store, names, lambda family: stored_name(family, plan.first))
    sets = {stored_name(leaf.family, c): read_family(store, stored_name(leaf.family, c))
            for view in views for leaf in view.leaves for c in plan.conditions}
    for view in views:
        if view.parts:
            _check_same_utterances(view_under(view, plan.first), sets, set(table["id"]))
    available = set(table["id"])
    for fs in sets.values():
        available &= set(fs.ids)
    for condition in plan.conditions if not plan.clean else ():
        held = set.intersection(*(set(sets[stored_name(leaf.family, condition)].ids) for v in views for leaf in v.leaves))
        if len(set(table["id"]) - held):
            notes.append(f"{store}: {len(set(table['id']) - held)} clip(s) have no features under condition "
                         f"'{condition.text}' (extract's errors.csv says why); left out of every condition, so that "
                         "each condition scores the same clips")
    dropped = len(table) - len(available)
    table = table[table["id"].isin(available)].reset_index(drop=True)
    if table.empty:
        raise FeatbenchError(f"{store}: no utterance has features for every family in {', '.join(names)}")
    return table, views, sets, dropped, notes


