"""A study's cells, keyed by content: extraction cells (corpus x family x condition: done when the store holds
every clip under the family's current config hash) and training cells (grid x view x classifier x budget x fold x
seed x test condition: done when the grid's results file holds the row under the current family config hash, the
same key `featbench train` resumes by). Editing a family's options changes its hash, so only its cells go missing.

>>> from featbench.study.spec import GridSpec
>>> g = GridSpec("g", "demo", ("mfcc",), ("logreg",), (4, "all"), (0,), Path("r.csv"))
>>> [c.budget for c in grid_cells(g, GridShape(("angry", "calm"), 2, ("4", "all"), ("clean",), "clean"), {})][:3]
['4', 'all', '4']
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from featbench.study.spec import CorpusSpec, GridSpec


@dataclass(frozen=True)
class ExtractionCell:
    corpus: str
    family: str
    condition: str
    stored: str  # the family's name in the store (family~condition)
    config_hash: str
    clips: int  # clips of the corpus table
    done_clips: int  # stored under this config hash
    failed_clips: int  # listed in the store's errors.csv

    @property
    def done(self) -> bool:
        return self.done_clips + self.failed_clips >= self.clips


@dataclass(frozen=True)
class TrainingCell:
    grid: str
    view: str
    classifier: str
    budget: str
    fold: int
    seed: int
    test_condition: str
    config_hash: str  # of the view's family ('' for a view of several families: not matched)

    def key(self, normalisation: str, train_condition: str, classes: str, pooling: str) -> tuple:
        return (self.view, self.classifier, self.budget, str(self.fold), str(self.seed), train_condition,
                self.test_condition, normalisation, classes, pooling)


@dataclass(frozen=True)
class GridShape:
    """What a grid's cells range over, resolved from its corpus table: classes, folds, budgets, test conditions."""

    classes: tuple[str, ...]
    n_folds: int
    budgets: tuple[str, ...]
    tests: tuple[str, ...]
    training: str


def experiment_of(grid: GridSpec, corpora: dict[str, CorpusSpec]):
    """The `Experiment` (train's own type) of a grid: what `featbench train` would build from the same options."""
    from featbench.results import Normalisation
    from featbench.train.experiment import Experiment

    store = corpora[grid.corpus].store
    return Experiment(store=store, families=list(grid.features), classifiers=list(grid.classifiers),
                      budgets=list(grid.budgets) if grid.budgets else None, seeds=list(grid.seeds), n_folds=grid.folds,
                      classes=list(grid.classes) if grid.classes else None, merge=dict(grid.merge),
                      seq_epochs=grid.seq_epochs, test_store=corpora[grid.test_corpus].store if grid.test_corpus else None,
                      add_store=corpora[grid.add_corpus].store if grid.add_corpus else None,
                      normalisation=Normalisation.parse(grid.normalise), target=grid.target,
                      allow_confounded_speakers=grid.allow_confounded_speakers, validate_on=grid.validate_on,
                      train_condition=grid.train_condition,
                      test_conditions=",".join(grid.test_conditions) if grid.test_conditions else None,
                      pooling=grid.pooling)


def family_hash(view: str, hashes: dict[str, str], training: str = "clean") -> str:
    """The config hash a view's rows carry, where it is one family's ('' for views of several families): that of
    its features under the grid's (first) training condition, as train writes it.

    >>> family_hash("mfcc", {"mfcc": "aa", "mfcc~white_10": "bb"}), family_hash("mfcc", {"mfcc~white_10": "bb"}, "white:10")
    ('aa', 'bb')
    >>> family_hash("mfcc", {"mfcc": "aa"}, "multi:clean,white:10"), family_hash("mfcc+fbank", {"mfcc": "aa"})
    ('aa', '')
    """
    from featbench.protocol.conditions import stored_name
    from featbench.protocol.multi import parse_training_condition
    from featbench.train.views import parts_of

    families = {part.split("@")[0].strip() for part in parts_of(view)}
    if len(families) != 1:
        return ""
    first = parse_training_condition(training).conditions[0]
    return hashes.get(stored_name(families.pop(), first), "")


def expand_views(views, layers: dict[str, tuple[int, ...]]) -> list[str]:
    """Views as rows name them: `family@all` is one view per layer the family holds ('whisper@L0', ...).

    >>> expand_views(["w@all", "f", "ensemble(w@L1, f)"], {"w": (0, 1)})
    ['w@L0', 'w@L1', 'f', 'ensemble(w@L1,f)']
    """
    from featbench.layers import layer_name

    from featbench.train.views import ENSEMBLE, is_ensemble, member_names

    out: list[str] = []
    for view in views:
        if is_ensemble(view):  # as rows name it: its members joined by bare commas
            out.append(f"{ENSEMBLE}({','.join(member_names(view))})")
            continue
        family, _, choice = view.partition("@")
        out += [f"{family}@{layer_name(k)}" for k in layers.get(family, ())] if choice == "all" else [view]
    return out


def grid_cells(grid: GridSpec, shape: GridShape, hashes: dict[str, str],
               layers: dict[str, tuple[int, ...]] | None = None) -> list[TrainingCell]:
    """Every cell of a grid, in a fixed order (`layers`: the layer numbers of each all-layer family)."""
    from featbench.train.experiment import check_classifiers

    classifiers = check_classifiers(list(grid.classifiers), grid.target or "")
    return [TrainingCell(grid.name, view, classifier, budget, fold, seed, test, family_hash(view, hashes, shape.training))
            for view in expand_views(grid.features, layers or {}) for classifier in classifiers
            for fold in range(shape.n_folds) for seed in grid.seeds for budget in shape.budgets for test in shape.tests]


COLUMNS = ["view", "classifier", "budget", "fold", "seed", "train_condition", "test_condition", "normalisation",
           "normalisation_clips", "classes", "pooling", "family_config_hash", "fit_seconds", "predict_seconds"]


def results_rows(results: Path, cache: dict) -> pd.DataFrame:
    """The columns cells need of a results file, as text (read once per `cache`). A file of the current schema is
    read directly (fast: no row checks, which `train` and `compare` make); another is read, and upgraded, by
    featbench.results."""
    if results not in cache:
        cache[results] = _rows(results)
    return cache[results]


def _rows(results: Path) -> pd.DataFrame:
    from featbench.results import read_results

    from featbench.protocol.pooling import MEAN_STD

    if not results.is_file():
        return pd.DataFrame(columns=COLUMNS)
    try:
        header = list(pd.read_csv(results, nrows=0).columns)
        if set(COLUMNS) - set(header) <= {"pooling"}:  # schema 5, or 4 (every row mean+std pooled)
            rows = pd.read_csv(results, usecols=[c for c in COLUMNS if c in header], dtype=str, keep_default_na=False)
            return rows if "pooling" in header else rows.assign(pooling=MEAN_STD)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError):  # damage: the full reader names it
        pass
    return read_results(results, dtype=str).rows.reindex(columns=COLUMNS).fillna("")  # older schemas, upgraded


def done_keys(results: Path, cache: dict) -> dict[tuple, set[str]]:
    """{row key (as TrainingCell.key): the family config hashes it is stored under} of a results file."""
    rows = results_rows(results, cache)
    norm = rows["normalisation"] + rows["normalisation_clips"].map(lambda c: f":{c}" if c else "")
    frame = rows[COLUMNS[:8] + ["classes", "pooling"]].assign(normalisation=norm)
    keys: dict[tuple, set[str]] = {}
    for key, config in zip(frame.itertuples(index=False, name=None), rows["family_config_hash"]):
        keys.setdefault(key, set()).add(config)
    return keys


def stored_hashes(cell: TrainingCell, keys: dict, grid: GridSpec, shape: GridShape) -> set[str]:
    """The family config hashes the grid's results file holds the cell's row under (empty: no such row)."""
    classes = ",".join(shape.classes) if not grid.target else ""
    stored = keys.get(cell.key(grid.normalise, shape.training, classes, grid.pooling))
    if stored is None and grid.target:  # a target's classes column holds its name: matched on the rest
        probe = cell.key(grid.normalise, shape.training, "", grid.pooling)
        stored = next((v for k, v in keys.items() if k[:8] == probe[:8] and k[9:] == probe[9:]), None)
    return set(stored or ())


def is_done(cell: TrainingCell, keys: dict, grid: GridSpec, shape: GridShape) -> bool:
    stored = stored_hashes(cell, keys, grid, shape)
    return bool(stored) and (not cell.config_hash or cell.config_hash in stored)


def stored_clips(corpus: CorpusSpec, stored: str, config_hash: str) -> int:
    """Clips of `stored` (a family under a condition) held in the corpus's store under `config_hash`."""
    from featbench.store.reader import sources

    if not corpus.store.is_dir():
        return 0
    ids: set[str] = set()
    for index in sources(corpus.store, stored):
        if index.meta.config_hash == config_hash:
            ids.update(index.ids)
    return len(ids)


def transcribed(corpus: CorpusSpec, table: pd.DataFrame) -> tuple[int, float | None]:
    """(clips of `table` the corpus's `transcribe` model has transcribed into its store, in its forced language where
    one is set; the mean seconds a clip took, None before any). `featbench transcribe` also checks each clip's audio
    hash when it runs, and redoes a clip whose audio changed."""
    from featbench.features.pretrained_options import fingerprint
    from featbench.store.transcripts import model_transcripts

    if corpus.transcribe is None or not corpus.store.is_dir():
        return 0, None
    rows = model_transcripts(corpus.store, fingerprint(corpus.transcribe))
    if corpus.transcribe_language is not None:
        rows = rows[rows["language"] == corpus.transcribe_language]
    seconds = pd.to_numeric(rows["seconds"], errors="coerce").dropna()
    return len(set(rows["id"]) & set(table["id"])), float(seconds.mean()) if len(seconds) else None


def failed_clips(corpus: CorpusSpec) -> int:
    errors = corpus.store / "errors.csv"
    if not errors.is_file():
        return 0
    return int(pd.read_csv(errors, usecols=[0]).shape[0])
