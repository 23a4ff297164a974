"""The grid runner: view x classifier x budget x fold x seed -> one tidy results row each.

Rows are appended to the results CSV (see featbench.results) as each (view, classifier, fold, seed)
task finishes; a re-run skips rows already there, so an interrupted grid resumes. Same inputs and
seeds give the same scores, whatever the number of workers.

>>> Experiment(Path("store"), ["fbank"], ["logreg"], [8, "all"], [0]).n_folds is None
True
"""
from __future__ import annotations

import os
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from featbench.corpus.balance import FLAG, SpeakerBalance, speaker_balance
from featbench.errors import FeatbenchError
from featbench.executors import Executor, resolve_executor
from featbench.results import PER_CORPUS, PER_SPEAKER, TRAINING, Normalisation, ResultsFile, row_key
from featbench.row_kinds import RowKind
from featbench.store.timings import feature_costs
from featbench.train.grid import FUSION, SEQUENCE, SEQUENCE_MODELS, GridData, GridTask, ViewData, make_context, run_task, share_matrices
from featbench.train.protocol import Fold, check_budgets, check_folds, check_seeds, default_budgets, make_folds
from featbench.train.transfer import (CROSS, SOURCE, TARGET, TRANSFER, VALIDATE_ON, Design, check_disjoint, check_labels,
                                      check_same_features, combine, standardise_within)
from featbench.train.target import describe
from featbench.train.views import AUTO, WEIGHTED, resolve_views


@dataclass
class Experiment:
    """Everything that defines a grid. `budgets` holds ints (examples per class) or fractions, and/or
    'all' (None: `train.protocol.default_budgets`); `n_folds` None means `train.protocol.default_n_folds`.
    `target` names a numeric column of the corpus table to regress (train.target; budgets then count
    utterances, `classifiers` are regressors, the metric is CCC)."""

    store: Path
    families: list[str]
    classifiers: list[str]
    budgets: list | None
    seeds: list[int]
    n_folds: int | None = None
    classes: list[str] | None = None
    merge: dict = field(default_factory=dict)
    corpus: str = ""
    seq_epochs: int = 30
    test_store: Path | None = None  # train on `store`, test on this store's folds (cross-corpus)
    add_store: Path | None = None  # add every utterance of this store to `store`'s training budgets (transfer)
    other_corpus: str = ""  # the second store's name in rows (default: its folder's name)
    normalisation: Normalisation | str = Normalisation()  # on the training rows, per corpus or per speaker[:K clips]
    target: str | None = None  # a dimensional target: the corpus table's column to regress (None: the labels)
    per_corpus: bool = False  # featbench 0.5's spelling of normalisation="per-corpus", still taken
    allow_confounded_speakers: bool = False  # per-speaker normalisation even where speakers hold mostly one class
    validate_on: str | None = None  # two corpora: choices on train.transfer.SOURCE (None: the default) or TARGET

    def __post_init__(self):
        self.normalisation = Normalisation.parse(self.normalisation)  # its text ('per-speaker:8') also taken
        if self.per_corpus:
            if self.normalisation.kind not in (TRAINING, PER_CORPUS):
                raise FeatbenchError(f"per_corpus=True and normalisation='{self.normalisation.text}' disagree; give one")
            self.normalisation = Normalisation(PER_CORPUS)


@dataclass
class TrainReport:
    out: Path
    rows_before: int = 0
    rows_added: int = 0
    tasks: int = 0
    wall_seconds: float = 0.0
    dropped_ids: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        note = f", {self.dropped_ids} utterances missing from some family were left out" if self.dropped_ids else ""
        return "\n".join([*self.notes, f"{self.out}: {self.rows_added} rows added ({self.tasks} tasks) in "
                          f"{self.wall_seconds:.1f} s, {self.rows_before} were already there{note}"])


def load_table(store: str | Path, classes: list[str] | None, merge: dict) -> pd.DataFrame:
    """The corpus table saved with the store, after label merging and selection."""
    from featbench.corpus.table import select_labels
    from featbench.store import read_corpus

    return select_labels(read_corpus(store), classes, merge)


def _check_classifiers(names: list[str], target: str = "") -> list[str]:
    """The classifier entries of a run (`selected` expanded, see train.selection), or a one-line error. With a
    dimensional `target` the entries are regressors."""
    from featbench.train.classifiers import CLASSIFIERS, REGRESSORS, registry
    from featbench.train.selection import SELECTED, candidates_of, expand_classifiers, is_selected

    models, kind = registry(bool(target)), "regressor" if target else "classifier"
    if not names:
        raise FeatbenchError("no classifiers given")
    for name in names:
        if name == FUSION:
            if target:
                raise FeatbenchError(f"the {FUSION} model classifies; it has no regression head for --target {target} "
                                     f"(use {', '.join(REGRESSORS)}, {SELECTED} or {SEQUENCE})")
            continue
        if is_selected(name):
            stray = [c for c in candidates_of(name, bool(target)) if c not in models]
            if stray or not candidates_of(name, bool(target))[0]:
                raise FeatbenchError(f"'{name}': choose among utterance-level {kind}s ({', '.join(models)}), "
                                     f"joined by '+', e.g. selected({'+'.join(list(models)[:2])})")
            if name != SELECTED and SELECTED in names:
                raise FeatbenchError(f"'{name}' and '{SELECTED}' both name a selected entry; keep one")
        elif target and name in CLASSIFIERS and name not in models:
            raise FeatbenchError(f"'{name}' is a classifier and cannot regress --target {target}; choose from: "
                                 f"{', '.join(models)}, {SELECTED}, {SEQUENCE}")
        elif name not in (SEQUENCE, SELECTED) and name not in models:
            raise FeatbenchError(f"unknown {kind} '{name}'; choose from: {', '.join(models)}, {SELECTED}, {SEQUENCE}"
                                 + ("" if target else f", {FUSION}"))
    if len(set(names)) < len(names):
        raise FeatbenchError(f"classifier '{next(n for n in names if names.count(n) > 1)}' is named twice")
    return expand_classifiers(names, bool(target))


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


def _check_view_for(view, classifiers: list[str], sets: dict, target: str = "") -> None:
    """One-line errors for a view a classifier cannot take."""
    rows = [sets[leaf.family].meta.rows for leaf in view.leaves]
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


def _read_store(store: Path, names: list[str], classes, merge, views=None, target: str = ""):
    """(table of the utterances every family covers, views, {family: FeatureSet}, utterances left out, notes) of one
    store; with a dimensional `target`, the table of train.target (its values, its quantile bins as labels)."""
    from featbench.store import read_family
    from featbench.train.target import target_table

    notes: list[str] = []
    try:
        table = load_table(store, classes, merge)
        if target:
            table, notes = target_table(table, target)
    except FeatbenchError as err:  # name the store: a run may read two
        raise FeatbenchError(f"{store}: {err}") from None
    views = views if views is not None else resolve_views(store, names)
    sets = {leaf.family: read_family(store, leaf.family) for view in views for leaf in view.leaves}
    for view in views:
        if view.parts:
            _check_same_utterances(view, sets, set(table["id"]))
    available = set(table["id"])
    for fs in sets.values():
        available &= set(fs.ids)
    dropped = len(table) - len(available)
    table = table[table["id"].isin(available)].reset_index(drop=True)
    if table.empty:
        raise FeatbenchError(f"{store}: no utterance has features for every family in {', '.join(names)}")
    return table, views, sets, dropped, notes


def pooled_matrix(view, sets: dict, ids: list[str], cache: dict) -> np.ndarray:
    """The utterance-level matrix of a view for `ids`, read from its families' FeatureSets `sets` as every grid task
    and a saved model read it (frames pooled once per family, kept in `cache`; an all-layer view's layers as
    blocks side by side).

    >>> from featbench.store import FamilyMeta, FeatureSet
    >>> from featbench.train.views import View
    >>> meta = FamilyMeta("f", "frames", {}, "h", {}, {}, 16000, 100.0, ["a"])
    >>> frames = np.array([[1.0], [3.0], [5.0]], np.float32)
    >>> fs = FeatureSet(meta, np.array(["u", "v"]), np.array([0, 2]), np.array([2, 1]), np.zeros(2), frames)
    >>> pooled_matrix(View("f", "f"), {"f": fs}, ["v", "u"], {}).tolist()
    [[5.0, 0.0], [2.0, 1.0]]
    """
    from featbench.train.pooling import pool, utterance_matrix

    blocks = []
    for leaf in view.leaves:
        fs = sets[leaf.family]
        if leaf.family not in cache and fs.meta.rows != RowKind.UTTERANCE.value:
            cache[leaf.family] = pool(fs.features, fs.offsets, fs.lengths)
        block = utterance_matrix(fs, ids, leaf.layer, cache.get(leaf.family))
        if leaf.multi_layer:  # one block per layer, its means then its stds: [mean L0, std L0, mean L1, ...]
            block = fs.meta.blocks(block).reshape(len(block), -1)
        blocks.append(block)
    return blocks[0] if len(blocks) == 1 else np.hstack(blocks)  # late fusion: pooled vectors side by side


def _speaker_reference(store: Path, view, sets: dict, cache: dict, prefix: str = "", clips: int | None = None,
                       merge: dict | None = None) -> tuple[np.ndarray, np.ndarray, SpeakerBalance]:
    """(pooled rows, speakers, balance) of every clip of `store` that has the view's features, whatever its label or
    --classes: the statistics of per-speaker normalisation, which read no label. With `clips`, that many of each
    speaker's clips (all when fewer), drawn at random by a seed of the speaker's name: the same clips for every
    view, seed and budget. `prefix` names the speakers as a two-corpus table does. The balance (corpus.balance)
    of the clips drawn from (their labels after `merge`, read for this check only) says how far each speaker is
    from the corpus's class balance."""
    import zlib

    from featbench.corpus.table import select_labels
    from featbench.store import read_corpus

    full = read_corpus(store)
    have = set(full["id"])
    for leaf in view.leaves:
        have &= set(sets[leaf.family].ids)
    full = full[full["id"].isin(have)].sort_values("id", kind="stable").reset_index(drop=True)
    X = pooled_matrix(view, sets, list(full["id"]), cache)
    finite = np.isfinite(X).all(axis=1)
    full, X = full[finite], X[finite]  # before the draw: K usable clips
    balance = speaker_balance(prefix + full["speaker"].astype(str), select_labels(full, None, merge)["label"])
    if clips is not None:
        drawn = [np.random.default_rng(zlib.crc32(str(speaker).encode())).permutation(part["id"].to_numpy())[:clips]
                 for speaker, part in full.groupby("speaker", sort=True)]
        keep = full["id"].isin(np.concatenate(drawn)).to_numpy()
        full, X = full[keep], X[keep]
    return X, (prefix + full["speaker"].astype(str)).to_numpy(), balance


def _check_balance(store: Path, balance: SpeakerBalance, allow: bool, notes: list[str]) -> list[str]:
    """The one-line refusal of per-speaker normalisation where most of a corpus's speakers are dominated by one class
    (corpus.balance), unless `allow`; else the note (once per store) that says how far they are."""
    if balance.confounded and not allow:
        raise FeatbenchError(f"{store}: per-speaker normalisation refused: {balance.line()}, so most speakers' statistics "
                             "would be taken mostly from one class and remove the emotion with the voice; use --normalise "
                             f"training, or {FLAG} to run it anyway (every row marked speakers_confounded)")
    head = f"per-speaker statistics of {store}:"
    if any(n.startswith(head) for n in notes):
        return []
    return [f"{head} {balance.line()}" + (f"; run anyway ({FLAG}): every row marked speakers_confounded"
                                          if balance.confounded else "")]


def _speaker_notes(view: str, reference: np.ndarray, speakers, clips: int | None, notes: list[str]) -> list[str]:
    """Notes (once per run) on per-speaker statistics: speakers with fewer than two usable clips (only centred: their
    rows become zero vectors), and a K no speaker reaches (every speaker then uses all their clips)."""
    if any(n.startswith("per-speaker normalisation") for n in notes):
        return []
    names, counts = np.unique(reference, return_counts=True)
    thin = sorted(set(speakers) - set(names[counts >= 2]))
    out = [f"per-speaker normalisation: {len(thin)} speaker(s) have fewer than 2 usable clips ({', '.join(thin[:5])}), "
           f"so their rows of '{view}' are only centred (zero vectors)"] if thin else []
    if clips is not None and len(counts) and counts.max() < clips:
        out.append(f"per-speaker normalisation on {clips} clips: no speaker has more than {counts.max()} usable clips, so "
                   f"every speaker's statistics use all of theirs (the rows still say {clips})")
    return out


def _design(exp: Experiment) -> tuple[Path, Path | None, Design]:
    """(the target store: folds and test speakers, the other store or None, the Design)."""
    if exp.test_store is not None and exp.add_store is not None:
        raise FeatbenchError("--test-store and --add-store exclude each other: train on one corpus and test on another, "
                             "or add one corpus to another's training data")
    kind = exp.normalisation.kind
    other = exp.test_store if exp.test_store is not None else exp.add_store
    if exp.validate_on is not None and exp.validate_on not in VALIDATE_ON:
        raise FeatbenchError(f"--validate-on {exp.validate_on}: choose {' or '.join(VALIDATE_ON)}")
    if other is None:
        if kind == PER_CORPUS:
            raise FeatbenchError("per-corpus normalisation needs a second corpus (--test-store or --add-store)")
        if exp.validate_on is not None:
            raise FeatbenchError(f"--validate-on {exp.validate_on} needs a second corpus (--test-store or --add-store)")
        return Path(exp.store), None, Design(normalisation=exp.normalisation)
    if Path(other).resolve() == Path(exp.store).resolve():
        raise FeatbenchError(f"{other}: the second store is the first one; give another corpus's store")
    name = exp.other_corpus or Path(exp.store if exp.test_store is not None else other).resolve().name
    if exp.test_store is not None:  # trained on exp.store, tested on the test store's folds
        return Path(exp.test_store), Path(exp.store), Design(CROSS, name, exp.normalisation, validate_on=exp.validate_on or SOURCE)
    return Path(exp.store), Path(exp.add_store), Design(TRANSFER, name, exp.normalisation, validate_on=exp.validate_on or SOURCE)


def prepare_grid(exp: Experiment) -> tuple[GridData, list, int, list[str]]:
    """Read the store (or the two stores of a cross-corpus or transfer run, see train.transfer), check the protocol
    (every budget in every fold) and build the shared task data. Returns (data, folds, utterances left out for lack
    of some family's features, classifier entries). Every configuration error is raised here, before any training."""
    target_column = exp.target or ""
    classifiers = _check_classifiers(exp.classifiers, target_column)
    seeds = check_seeds(list(exp.seeds))
    budgets = None if exp.budgets is None else check_budgets(list(exp.budgets))
    target_store, other_store, design = _design(exp)
    if target_column and other_store is not None:
        raise FeatbenchError(f"--target {target_column} trains and tests on one store; --test-store and --add-store "
                             "take categorical labels only (two corpora's rating scales need not agree)")
    table, views, sets, dropped, notes = _read_store(target_store, exp.families, exp.classes, exp.merge,
                                                     target=target_column)
    corpus = exp.corpus or target_store.resolve().name
    normalisation, clips = design.normalisation.kind, design.normalisation.clips
    if exp.allow_confounded_speakers and normalisation != PER_SPEAKER:
        raise FeatbenchError(f"{FLAG} permits per-speaker normalisation of speakers dominated by one class; give it with "
                             "--normalise per-speaker (or per-speaker:K)")
    if normalisation == PER_SPEAKER and any(c in SEQUENCE_MODELS for c in classifiers):
        raise FeatbenchError(f"per-speaker normalisation applies to pooled features; the {SEQUENCE} and {FUSION} models "
                             "read frames (use the utterance-level classifiers, or --normalise training)")
    if other_store is not None:
        if any(c in SEQUENCE_MODELS for c in classifiers):
            raise FeatbenchError(f"the {SEQUENCE} and {FUSION} models train on one store; with --test-store or --add-store "
                                 "use the utterance-level classifiers")
        pairs = ((corpus, target_store), (design.other, other_store))
        same = corpus == design.other  # two folders of one name: only their paths tell them apart
        names = tuple(name if name == Path(store).name and not same else f"{name} ({store})" for name, store in pairs)
        other_table, _, other_sets, other_dropped, _ = _read_store(other_store, exp.families, exp.classes, exp.merge, views)
        for family in sets:
            check_same_features(family, (sets[family].meta, other_sets[family].meta), names)
        check_disjoint((sets, other_sets), (table["id"], other_table["id"]), names)
        check_labels(table, other_table, names)
        dropped += other_dropped
        other_ids = list(other_table["id"])
        table = combine(table, other_table, design.other)
    labels = sorted(table["label"].unique())
    target = table[table["part"] == TARGET] if other_store is not None else table  # its folds; the other is never tested
    folds = make_folds(target, exp.n_folds)
    check_folds(target, folds)
    budget_pool = design.budget_table(table)
    if budgets is None:
        budgets = default_budgets(budget_pool, folds if design.mode != CROSS else [Fold(0, (), "")])
    for fold in folds:  # fail on an impossible budget before any work
        for budget in budgets:
            if isinstance(budget, int):
                design.training_ids(table, fold, budget, seeds[0])
    protocol = {
        "corpus": corpus, "classes": describe(target_column, exp.classes) if target_column else ",".join(labels),
        "merge": ",".join(f"{k}={v}" for k, v in sorted(exp.merge.items())), "n_classes": len(labels),
        "fold_scheme": folds[0].scheme, "n_folds": len(folds),
    }
    pooled_needed = any(c not in SEQUENCE_MODELS for c in classifiers)
    data_views, cache, other_cache = {}, {}, {}
    for view in views:
        _check_view_for(view, classifiers, sets, target_column)
        X, confounded = None, False
        if pooled_needed:
            if other_store is None:
                X = pooled_matrix(view, sets, list(table["id"]), cache)
            else:
                X = np.vstack([pooled_matrix(view, sets, list(table.loc[table["part"] == TARGET, "id"]), cache),
                               pooled_matrix(view, other_sets, other_ids, other_cache)])
                if normalisation == PER_CORPUS:
                    X = standardise_within(X, table["part"].to_numpy())
            if normalisation == PER_SPEAKER:
                stores = [(target_store, sets, cache, "")] + ([(other_store, other_sets, other_cache, f"{design.other}:")]
                                                            if other_store is not None else [])
                reference = [_speaker_reference(store, view, s, c, prefix, clips, exp.merge)
                             for store, s, c, prefix in stores]
                if not target_column:  # the classes' balance; a dimensional target has no classes to dominate
                    for (store, *_), (*_, balance) in zip(stores, reference):
                        notes += _check_balance(store, balance, exp.allow_confounded_speakers, notes)
                    confounded |= any(balance.confounded for *_, balance in reference)
                speakers = np.concatenate([r[1] for r in reference])
                X = standardise_within(X, table["speaker"].astype(str).to_numpy(), np.vstack([r[0] for r in reference]),
                                       speakers)
                notes += _speaker_notes(view.name, speakers, table["speaker"].astype(str), clips, notes)
        finite = np.isfinite(X).all(axis=1) if X is not None else None
        if finite is not None and not finite.all():
            bad = [u for u, ok in zip(table["id"], finite) if not ok]
            raise FeatbenchError(f"{target_store}: '{view.name}' holds non-finite values for {len(bad)} clip(s) "
                                 f"({', '.join(bad[:5])}); remove them from the store and extract again")
        metas = [sets[leaf.family].meta for leaf in view.leaves]
        setup = (replace(design, confounded=True) if confounded else design).setup(view.name)
        data_views[setup.label] = ViewData(view, "+".join(m.config_hash for m in metas), "+".join(m.rows for m in metas), X,
                                           setup=setup, cost=feature_costs(target_store, [sets[leaf.family] for leaf in view.leaves]))
    # absolute: sequence tasks on cluster workers read frames from this path, whatever their working folder
    data = GridData(target_store.resolve(), table, labels, data_views, protocol, tuple(budgets), tuple(seeds),
                    exp.seq_epochs, design, target_column, tuple(notes))
    return data, folds, dropped, classifiers


def _missing_tasks(data: GridData, folds: list, classifiers: list[str], done: set) -> list[GridTask]:
    tasks = []
    for name, view in data.views.items():
        for classifier in classifiers:
            for fold in folds:
                for seed in data.seeds:
                    probe = {**data.protocol, **view.setup.columns(), "family_config_hash": view.config_hash,
                             "classifier": classifier, "fold": fold.index, "seed": seed}
                    missing = tuple(b for b in data.budgets if row_key({**probe, "budget": b}) not in done)
                    if missing:
                        tasks.append(GridTask(name, classifier, fold, seed, missing))
    return tasks


SHARED_PREFIX = "featbench-train-"  # temporary folders of matrices shared with workers: <prefix><pid>-<random>


def remove_stale_shared(folder: str | None = None, prefix: str = SHARED_PREFIX) -> list[str]:
    """Remove the shared-matrix folders of training runs whose process is gone (killed with kill -9); with
    another `prefix`, the temporary folders <prefix><pid>-* of another command (predict's stores).

    >>> remove_stale_shared("/nonexistent")
    []
    """
    import shutil

    removed = []
    base = Path(folder or tempfile.gettempdir())
    for path in base.glob(f"{prefix}*-*") if base.is_dir() else []:
        pid = path.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(str(path))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def run_training(exp: Experiment, out: str | Path, executor: Executor | None = None, progress: bool = True, *,
                 jobs: int | None = None, cluster: Executor | None = None) -> TrainReport:
    """Run the grid of `exp` on `executor` (default `Local()`, this process; the deprecated `jobs=N` is
    `Local(N)`, `cluster=c` is `c`), appending rows to the CSV `out`. Returns a TrainReport.

    Local worker processes memory-map the utterance matrices from temporary .npy files; the workers of a
    cluster get them sent once each, and sequence tasks read frames from the store path, which must therefore
    be the same path on every worker (a shared filesystem). Rows are written by this process only.
    """
    from tqdm import tqdm

    start = time.perf_counter()
    executor = resolve_executor(executor, jobs, cluster, caller="run_training")
    remove_stale_shared()
    data, folds, dropped, classifiers = prepare_grid(exp)
    report = TrainReport(out=Path(out), dropped_ids=dropped)
    with ResultsFile(out) as results:
        results.check_protocol(data.protocol)  # before any task: compare reads one protocol per file
        report.rows_before, report.notes = results.n_rows, list(results.notes) + list(data.notes)
        tasks = _missing_tasks(data, folds, classifiers, results.keys)
        report.tasks = len(tasks)
        with tqdm(total=len(tasks), unit="task", disable=not progress, desc="train", mininterval=0.5) as bar, \
                tempfile.TemporaryDirectory(prefix=f"{SHARED_PREFIX}{os.getpid()}-") as shared:
            sent = share_matrices(data, shared) if executor.local_processes(len(tasks)) > 1 else data
            with closing(executor.run(run_task, tasks, setup=make_context, setup_args=(sent,))) as done:
                for rows in done:  # a task's rows name their view by its display name: its Setup's columns instead
                    results.append([{**row, **data.views[row["family"]].setup.columns()} for row in rows])
                    report.rows_added += len(rows)
                    bar.update()
    report.wall_seconds = time.perf_counter() - start
    return report
