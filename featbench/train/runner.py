"""The grid runner: family x classifier x budget x fold x seed -> one tidy results row each.

Rows are appended to the results CSV as each (family, classifier, fold, seed) task finishes; a
re-run skips rows already there, so an interrupted grid resumes. Same inputs and seeds give the
same scores.

>>> RESULT_COLUMNS[:6]
['corpus', 'classes', 'merge', 'n_classes', 'fold_scheme', 'n_folds']
"""
from __future__ import annotations

import csv
import json
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError
from featbench.train.protocol import Fold, budget_subset, check_folds, make_folds, validation_split

SEQUENCE = "seq"
RESULT_COLUMNS = [
    "corpus", "classes", "merge", "n_classes", "fold_scheme", "n_folds", "fold", "test_groups", "seed",
    "budget", "examples_per_class", "n_train", "n_test", "family", "family_config_hash", "level",
    "classifier", "hparams", "hp_selection", "metric", "ua", "wa", "macro_f1", "confusion", "labels",
    "fit_seconds", "predict_seconds", "featbench_version",
]
KEY = ["corpus", "classes", "merge", "n_folds", "family", "family_config_hash", "classifier", "budget", "fold", "seed"]


@dataclass
class Experiment:
    """Everything that defines a grid. `budgets` holds ints (examples per class) and/or 'all'."""

    store: Path
    families: list[str]
    classifiers: list[str]
    budgets: list
    seeds: list[int]
    n_folds: int | None = None
    classes: list[str] | None = None
    merge: dict = field(default_factory=dict)
    corpus: str = ""
    seq_epochs: int = 30


@dataclass
class TrainReport:
    out: Path
    rows_before: int = 0
    rows_added: int = 0
    tasks: int = 0
    wall_seconds: float = 0.0
    dropped_ids: int = 0

    def summary(self) -> str:
        note = f", {self.dropped_ids} utterances missing from some family were left out" if self.dropped_ids else ""
        return (f"{self.out}: {self.rows_added} rows added ({self.tasks} tasks) in {self.wall_seconds:.1f} s, "
                f"{self.rows_before} were already there{note}")


def _task_rows(family: str, classifier: str, fold: Fold, seed: int, budgets: list, data: dict, context: dict) -> list[dict]:
    """Train and test one classifier on one fold and seed at every missing budget."""
    from featbench import __version__
    from featbench.train.classifiers import CLASSIFIERS, build
    from featbench.train.metrics import scores

    table = data["table"]
    index = {u: i for i, u in enumerate(table["id"])}
    y_all = data["y"]
    test_ids = table["id"][fold.test_mask(table)].tolist()
    test_rows = [index[u] for u in test_ids]
    rows = []
    for budget in budgets:
        train_ids = budget_subset(table, fold, budget, seed)
        fit_ids, val_ids = validation_split(table, train_ids, seed)
        train_rows = [index[u] for u in train_ids]
        start = time.perf_counter()
        if classifier == SEQUENCE:
            from featbench.train.sequence import SequenceClassifier

            seqs = data["sequences"]
            model = SequenceClassifier(n_classes=data["n_classes"], raw=data["raw"], seed=seed, max_epochs=context["seq_epochs"])
            if val_ids and len(set(y_all[[index[u] for u in fit_ids]])) >= 2:
                f_rows, v_rows = [index[u] for u in fit_ids], [index[u] for u in val_ids]
                model.fit([seqs[i] for i in f_rows], y_all[f_rows], [seqs[i] for i in v_rows], y_all[v_rows])
                hp, selection = {"epochs": model.epochs_}, f"early stopping on held-out speakers ({len(fit_ids)} fit / {len(val_ids)} val)"
            else:
                model.fit([seqs[i] for i in train_rows], y_all[train_rows])
                hp, selection = {"epochs": model.epochs_}, "fixed epochs (too few speakers for validation)"
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            pred = model.predict([seqs[i] for i in test_rows])
        else:
            X = data["X"]
            spec = CLASSIFIERS[classifier]
            hp, selection = spec.default, "default (too few speakers for validation)"
            f_rows, v_rows = [index[u] for u in fit_ids], [index[u] for u in val_ids]
            if val_ids and len(set(y_all[f_rows])) >= 2:
                from sklearn.metrics import balanced_accuracy_score

                best = -1.0
                for candidate in spec.grid:
                    model = build(classifier, candidate, seed).fit(X[f_rows], y_all[f_rows])
                    score = balanced_accuracy_score(y_all[v_rows], model.predict(X[v_rows]))
                    if score > best:
                        best, hp = score, candidate
                selection = f"grid on held-out speakers ({len(fit_ids)} fit / {len(val_ids)} val), val UA {best:.3f}"
            model = build(classifier, hp, seed).fit(X[train_rows], y_all[train_rows])
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            pred = model.predict(X[test_rows])
        predict_s = time.perf_counter() - start
        s = scores(y_all[test_rows], pred, data["n_classes"])
        rows.append({
            **context["protocol"], "fold": fold.index, "test_groups": " ".join(fold.test_groups), "seed": seed,
            "budget": str(budget), "examples_per_class": len(train_ids) / data["n_classes"], "n_train": len(train_ids),
            "n_test": len(test_rows), "family": family, "family_config_hash": data["config_hash"],
            "level": "sequence" if classifier == SEQUENCE else "utterance", "classifier": classifier,
            "hparams": json.dumps(hp, sort_keys=True), "hp_selection": selection, "metric": "UA (balanced accuracy)",
            "ua": s["ua"], "wa": s["wa"], "macro_f1": s["macro_f1"], "confusion": json.dumps(s["confusion"]),
            "labels": json.dumps(data["labels"]), "fit_seconds": round(fit_s, 4), "predict_seconds": round(predict_s, 4),
            "featbench_version": __version__,
        })
    return rows


_SEQ_CACHE: dict = {}


def _run_task(task: tuple, shared: dict) -> list[dict]:
    from threadpoolctl import threadpool_limits

    family, classifier, fold, seed, budgets = task
    data = dict(shared["families"][family], table=shared["table"], y=shared["y"], labels=shared["labels"],
                n_classes=len(shared["labels"]))
    with threadpool_limits(1), warnings.catch_warnings():
        # Expected and harmless here: an MLP stopped at max_iter; a small validation split lacking a class.
        warnings.filterwarnings("ignore", message=".*Maximum iterations.*")
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        warnings.filterwarnings("ignore", message="A single label was found")
        if classifier == SEQUENCE:
            import torch

            torch.set_num_threads(1)
            key = (str(shared["store"]), family)
            if key not in _SEQ_CACHE:
                from featbench.store import read_family

                fs = read_family(shared["store"], data["base"])
                cols = data["columns"]
                _SEQ_CACHE.clear()
                _SEQ_CACHE[key] = [fs.get(u) if cols is None else np.ascontiguousarray(fs.get(u)[:, cols])
                                   for u in shared["table"]["id"]]
            data["sequences"] = _SEQ_CACHE[key]
        return _task_rows(family, classifier, fold, seed, budgets, data, shared["context"])


def resolve_views(store: Path, names: list[str]) -> dict[str, tuple[str, int | None]]:
    """Feature names -> (stored family, layer or None). 'whisper@L4' is layer 4 of an all-layer store;
    'whisper@all' expands to every layer it holds.

    >>> resolve_views(Path("."), ["fbank"])
    {'fbank': ('fbank', None)}
    """
    from featbench.store import FamilyIndex, family_path

    views = {}
    for name in names:
        base, at, layer = name.partition("@")
        if not at:
            views[name] = (name, None)
            continue
        path = family_path(store, base)
        if not path.is_file():
            raise FeatbenchError(f"{store}: no '{base}' features in this store (asked for '{name}')")
        columns = FamilyIndex.read(path).meta.columns
        present = sorted({int(c[1:3]) for c in columns if c.startswith("L") and c[3:4] == "_" and c[1:3].isdigit()})
        if not present:
            raise FeatbenchError(f"'{name}': family '{base}' was not extracted with layer=all")
        if layer == "all":
            views.update({f"{base}@L{k}": (base, k) for k in present})
        elif layer[:1].upper() == "L" and layer[1:].isdigit() and int(layer[1:]) in present:
            views[name] = (base, int(layer[1:]))
        else:
            raise FeatbenchError(f"'{name}': choose a layer of {base} from L{present[0]} to L{present[-1]}, or @all")
    return views


def load_table(store: Path, classes: list[str] | None, merge: dict) -> pd.DataFrame:
    """The corpus table saved with the store, after label merging and selection."""
    from featbench.corpus.table import select_labels
    from featbench.extract import CORPUS_FILE

    path = Path(store) / CORPUS_FILE
    if not path.is_file():
        raise FeatbenchError(f"{store}: no {CORPUS_FILE}; is this a featbench store? (run featbench extract first)")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return select_labels(table, classes, merge)


def _existing_keys(out: Path) -> tuple[set, int]:
    if not out.is_file():
        return set(), 0
    done = pd.read_csv(out, dtype=str, keep_default_na=False)
    if list(done.columns) != RESULT_COLUMNS:
        raise FeatbenchError(f"{out}: not a featbench results file of this version (columns differ)")
    return set(map(tuple, done[KEY].to_numpy().tolist())), len(done)


def run_training(exp: Experiment, out: str | Path, jobs: int = 1, progress: bool = True) -> TrainReport:
    """Run the grid of `exp`, appending rows to the CSV `out`. Returns a TrainReport."""
    from filelock import FileLock, Timeout
    from joblib import Parallel, delayed
    from tqdm import tqdm

    from featbench.store import read_family
    from featbench.train.classifiers import CLASSIFIERS
    from featbench.train.pooling import layer_columns, pool, utterance_matrix

    start = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for name in exp.classifiers:
        if name != SEQUENCE and name not in CLASSIFIERS:
            raise FeatbenchError(f"unknown classifier '{name}'; choose from: {', '.join(CLASSIFIERS)}, {SEQUENCE}")
    table = load_table(exp.store, exp.classes, exp.merge)
    views = resolve_views(exp.store, exp.families)
    sets = {base: read_family(exp.store, base) for base in dict.fromkeys(b for b, _ in views.values())}
    available = set(table["id"])
    for fs in sets.values():
        available &= set(fs.ids)
    report = TrainReport(out=out, dropped_ids=len(table) - len(available))
    table = table[table["id"].isin(available)].reset_index(drop=True)
    if table.empty:
        raise FeatbenchError(f"{exp.store}: no utterance has features for every family in {', '.join(exp.families)}")
    labels = sorted(table["label"].unique())
    folds = make_folds(table, exp.n_folds)
    check_folds(table, folds)
    for fold in folds:  # fail on an impossible budget before any work
        for budget in exp.budgets:
            if isinstance(budget, int):
                budget_subset(table, fold, budget, exp.seeds[0])
    protocol = {
        "corpus": exp.corpus or Path(exp.store).name, "classes": ",".join(labels),
        "merge": ",".join(f"{k}={v}" for k, v in sorted(exp.merge.items())), "n_classes": len(labels),
        "fold_scheme": folds[0].scheme, "n_folds": len(folds),
    }
    families, pooled = {}, {}
    for f, (base, layer) in views.items():
        fs = sets[base]
        columns = None if layer is None else layer_columns(fs.meta.columns, layer)
        families[f] = {"config_hash": fs.meta.config_hash, "raw": fs.meta.columns == ["sample"], "base": base, "columns": columns}
        if any(c != SEQUENCE for c in exp.classifiers):
            if base not in pooled and fs.meta.frame_rate != 0.0:
                pooled[base] = pool(fs.features, fs.offsets, fs.lengths)
            families[f]["X"] = utterance_matrix(fs, list(table["id"]), columns, pooled.get(base))
        if SEQUENCE in exp.classifiers and fs.meta.frame_rate == 0.0:
            raise FeatbenchError(f"family '{f}' has one row per utterance; the sequence classifier needs frame-level features")
    exp = replace(exp, families=list(views))
    del sets, pooled
    shared = {"table": table, "y": table["label"].map({l: i for i, l in enumerate(labels)}).to_numpy(),
              "labels": labels, "families": families, "store": Path(exp.store),
              "context": {"protocol": protocol, "seq_epochs": exp.seq_epochs}}

    lock = FileLock(str(out) + ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise FeatbenchError(f"{out}: another featbench train is writing these results") from None
    try:
        done, report.rows_before = _existing_keys(out)
        p = protocol
        tasks = []
        for family in exp.families:
            for classifier in exp.classifiers:
                for fold in folds:
                    for seed in exp.seeds:
                        missing = [b for b in exp.budgets if (p["corpus"], p["classes"], p["merge"], str(p["n_folds"]), family,
                                   families[family]["config_hash"], classifier, str(b), str(fold.index), str(seed)) not in done]
                        if missing:
                            tasks.append((family, classifier, fold, seed, missing))
        report.tasks = len(tasks)
        new_file = not out.is_file()
        with out.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=RESULT_COLUMNS)
            if new_file:
                writer.writeheader()
            bar = tqdm(total=len(tasks), unit="task", disable=not progress, desc="train", mininterval=0.5)
            results = Parallel(n_jobs=jobs, return_as="generator_unordered")(delayed(_run_task)(t, shared) for t in tasks)
            for rows in results:
                writer.writerows(rows)
                handle.flush()
                report.rows_added += len(rows)
                bar.update()
            bar.close()
    finally:
        lock.release()
    report.wall_seconds = time.perf_counter() - start
    return report
