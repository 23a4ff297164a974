"""The checks of a study that need its corpora, all before any work: each corpus table read and each family built
once (options and models checked, config hashes known: `check_families`, as `featbench extract` does), each grid's
folds made and budgets fitted to them (`check_budgets_fit`, as `featbench train` does), its conditions extracted
into its corpus, and no two corpora of a grid sharing a clip (the same file reached twice: `train` also compares
the stored audio hashes when it reads both stores). Each refusal names the file and line.

>>> Resolved.__dataclass_fields__.keys() >= {"study", "tables", "hashes", "shapes"}
True
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from featbench.errors import FeatbenchError
from featbench.study.cells import GridShape
from featbench.study.spec import CorpusSpec, GridSpec, Study


@dataclass
class Resolved:
    """A study with its corpus tables, each corpus's family config hashes ({stored name: hash}, conditions
    included) and each grid's shape."""

    study: Study
    tables: dict[str, pd.DataFrame]
    hashes: dict[str, dict[str, str]]
    metas: dict[str, dict]
    shapes: dict[str, GridShape]


def resolve(study: Study) -> Resolved:
    """The study checked against its corpora (see the module's docstring)."""
    tables, hashes, metas = {}, {}, {}
    for name, corpus in study.corpora.items():
        tables[name] = _table(study, corpus)
        metas[name], hashes[name] = _families(study, corpus, tables[name])
    splits: dict = {}
    shapes = {grid.name: _shape(study, grid, tables, splits) for grid in study.grids}
    clip_files: dict[str, frozenset[Path]] = {}  # each corpus's resolved clip paths, once (a stat per folder level)
    for grid in study.grids:
        _check_disjoint(study, grid, tables, clip_files)
    return Resolved(study, tables, hashes, metas, shapes)


def _table(study: Study, corpus: CorpusSpec) -> pd.DataFrame:
    from featbench.corpus import load_corpus

    try:
        return load_corpus(corpus.layout, corpus.root, list(corpus.classes) if corpus.classes else None, dict(corpus.merge))
    except FeatbenchError as err:
        raise study.error(("corpora", corpus.name, "root"), f"[corpora.{corpus.name}] {err}") from None


def _families(study: Study, corpus: CorpusSpec, table: pd.DataFrame) -> tuple[dict, dict[str, str]]:
    """({family: FamilyMeta}, {stored name: config hash}) of a corpus: its families built and checked."""
    from featbench.audio import AudioConfig
    from featbench.extract import check_families
    from featbench.extract_conditions import plan_conditions

    specs = [(f, dict(study.families[f])) for f in corpus.families]
    try:
        metas = check_families(specs, AudioConfig(sample_rate=corpus.sample_rate))
    except FeatbenchError as err:
        family = next((f for f in corpus.families if f in str(err)), corpus.families[0])
        option = re.search(rf"{re.escape(family)}\.([A-Za-z0-9_]+)", str(err))
        where = ("families", family, option.group(1)) if option else ("families", family)
        raise study.error(where, f"[families.{family}] {err}") from None
    hashes = {name: meta.config_hash for name, meta in metas.items()}
    if corpus.conditions:
        try:
            plan = plan_conditions(",".join(corpus.conditions), table, metas, {}, corpus.condition_seed, corpus.folds)
        except FeatbenchError as err:
            raise study.error(("corpora", corpus.name, "conditions"), f"[corpora.{corpus.name}] {err}") from None
        if plan is not None:
            hashes = {name: meta.config_hash for name, meta in plan.metas.items()}
    return metas, hashes


def _shape(study: Study, grid: GridSpec, tables: dict[str, pd.DataFrame], splits: dict) -> GridShape:
    """A grid's classes, folds, budgets and conditions, from the table of the corpus it tests (grids that select
    the same classes, folds and budgets of one corpus share one computation through `splits`)."""
    key = (grid.tested_corpus, grid.classes, grid.merge, grid.folds, grid.budgets, grid.target is None)
    if key not in splits:
        try:
            splits[key] = _split(tables[grid.tested_corpus], grid)
        except FeatbenchError as err:
            option = "budgets" if "budget" in str(err) else "folds" if "fold" in str(err) else None
            raise study.error((*grid.where, option) if option else grid.where, f"grid '{grid.name}': {err}") from None
    classes, n_folds, budgets = splits[key]
    if grid.train_condition == "clean" and grid.test_conditions in (None, ("clean",)) and not study.corpora[grid.corpus].conditions:
        return GridShape(classes, n_folds, budgets, ("clean",), "clean")  # no condition code needed
    plan = _conditions(grid)
    _check_extracted(study, grid, [c.text for c in plan.conditions])
    return GridShape(classes, n_folds, budgets, tuple(c.text for c in plan.tests), plan.training.text)


def _split(table: pd.DataFrame, grid: GridSpec) -> tuple[tuple[str, ...], int, tuple[str, ...]]:
    """(classes, number of folds, budgets) of a grid's selection of its tested corpus; FeatbenchError if its
    budgets do not fit."""
    from featbench.corpus.table import select_labels
    from featbench.protocol.folds import make_folds
    from featbench.train.protocol import check_budgets_fit, default_budgets

    table = select_labels(table, list(grid.classes) if grid.classes else None, dict(grid.merge))
    folds = make_folds(table, grid.folds)
    budgets = list(grid.budgets) if grid.budgets else default_budgets(table, folds)
    if grid.target is None:
        check_budgets_fit(table, folds, budgets)
    return tuple(sorted(table["label"].unique())), len(folds), tuple(str(b) for b in budgets)


def _conditions(grid: GridSpec):
    from featbench.train.conditions import ConditionPlan

    return ConditionPlan.of(grid.train_condition, ",".join(grid.test_conditions) if grid.test_conditions else None)


def _check_extracted(study: Study, grid: GridSpec, conditions: list[str]) -> None:
    """Every condition a grid trains or tests under is extracted into its corpus."""
    from featbench.protocol.conditions import CLEAN, parse_conditions

    corpus = study.corpora[grid.corpus]
    extracted = {c.text for c in parse_conditions(",".join(corpus.conditions))} if corpus.conditions else {CLEAN}
    missing = [c for c in conditions if c not in extracted]
    if missing:
        raise study.error((*grid.where, "test_conditions"), f"grid '{grid.name}': condition '{missing[0]}' is not extracted "
                          f"into corpus '{corpus.name}'; add it to [corpora.{corpus.name}] conditions")


def _check_disjoint(study: Study, grid: GridSpec, tables: dict[str, pd.DataFrame],
                    clip_files: dict[str, frozenset[Path]]) -> None:
    """A grid's two corpora share no clip file (train's leakage guard compares audio hashes on top)."""
    other = grid.test_corpus or grid.add_corpus
    if other is None:
        return
    if other == grid.corpus:
        raise study.error(grid.where, f"grid '{grid.name}': trains and tests on corpus '{other}' as two corpora")
    for name in (grid.corpus, other):
        if name not in clip_files:
            clip_files[name] = frozenset(Path(p).resolve() for p in tables[name]["path"])
    paths = [clip_files[grid.corpus], clip_files[other]]
    shared = sorted(paths[0] & paths[1])
    if shared:
        raise study.error(grid.where, f"grid '{grid.name}': corpora '{grid.corpus}' and '{other}' share {len(shared)} "
                          f"clip files (e.g. {shared[0]}): their test speakers would be heard in training")
