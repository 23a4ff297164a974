"""A study file resolved into typed parts: the corpora to extract (`CorpusSpec`), the training grids (`GridSpec`,
each one `featbench train` call: an `Experiment`), the reports (`ReportSpec`, each one `featbench compare` call).
Every value is checked before any work, and each refusal names the file and line (`study.parts.load_study`).

Paths in the file are relative to the file's folder. The file's sections (docs/studies.md has the manual)::

    [study]        name, out (results and reports), stores (one store per corpus), jobs, scheduler, device
    [corpora.X]    layout, root, families, classes, merge, conditions, condition_seed, folds, sample_rate, store
    [families.F]   the family's options (as `extract --set F.option=value`)
    [protocol]     defaults of every grid: folds, seeds, budgets, classifiers, normalise, pooling, seq_epochs
    [[grids]]      name, corpus, features, results, and any protocol key; classes, merge, target, test_corpus,
                   add_corpus, validate_on, train_condition, test_conditions, allow_confounded_speakers
    [[reports]]    name, results (grid names), baseline, out, target_ua, reference_budget, baseline_normalisation

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "s.toml").write_text('[study]\\nname = "s"\\n[corpora.demo]\\nlayout = "demo"\\nroot = "c"\\n'
...                               '[families.mfcc]\\n[[grids]]\\nname = "g"\\ncorpus = "demo"\\nfeatures = ["mfcc"]\\n')
>>> from featbench.study.parts import load_study
>>> s = load_study(d / "s.toml")
>>> s.grids[0].results.name, s.corpora["demo"].families, s.grids[0].classifiers
('results.csv', ('mfcc',), ('logreg', 'svm', 'lgbm', 'mlp'))
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from featbench.errors import FeatbenchError
from featbench.study.source import Source

TABLES = {"study", "corpora", "families", "protocol", "grids", "reports"}
PROTOCOL_KEYS = {"folds", "seeds", "budgets", "classifiers", "normalise", "pooling", "seq_epochs"}
GRID_KEYS = PROTOCOL_KEYS | {"name", "corpus", "features", "results", "classes", "merge", "target", "test_corpus",
                             "add_corpus", "validate_on", "train_condition", "test_conditions",
                             "allow_confounded_speakers", "jobs"}


@dataclass(frozen=True)
class CorpusSpec:
    """One corpus: where its clips are (`layout`, `root`), its store, and what is extracted into it."""

    name: str
    layout: str
    root: Path
    store: Path
    families: tuple[str, ...]
    classes: tuple[str, ...] | None = None
    merge: tuple[tuple[str, str], ...] = ()
    conditions: tuple[str, ...] = ()  # empty: clean only
    condition_seed: int = 0
    folds: int | None = None  # the fold scheme babble talkers are drawn from
    sample_rate: int = 16000
    transcribe: Path | None = None  # a Whisper folder: transcripts made first (featbench transcribe), for text families
    transcribe_language: str | None = None  # forced language code; None: detected per clip


@dataclass(frozen=True)
class GridSpec:
    """One training grid (one `featbench train` call) appending rows to `results`."""

    name: str
    corpus: str
    features: tuple[str, ...]
    classifiers: tuple[str, ...]
    budgets: tuple | None
    seeds: tuple[int, ...]
    results: Path
    folds: int | None = None
    classes: tuple[str, ...] | None = None
    merge: tuple[tuple[str, str], ...] = ()
    normalise: str = "training"
    pooling: str = "mean+std"
    seq_epochs: int = 30
    target: str | None = None
    test_corpus: str | None = None
    add_corpus: str | None = None
    validate_on: str | None = None
    train_condition: str = "clean"
    test_conditions: tuple[str, ...] | None = None
    allow_confounded_speakers: bool = False
    jobs: int | None = None  # this grid's local worker processes (train's --jobs); None: the study's jobs
    where: tuple = ()  # the key path of this grid in the file (its line in errors)

    @property
    def tested_corpus(self) -> str:
        """The corpus whose folds and test speakers the rows score."""
        return self.test_corpus or self.corpus


@dataclass(frozen=True)
class ReportSpec:
    """One report (one `featbench compare` call) over the results files of some grids."""

    name: str
    results: tuple[Path, ...]
    out: Path
    baseline: str | None = None
    target_ua: float | None = None
    reference_budget: str | None = None
    baseline_normalisation: str | None = None


@dataclass(frozen=True)
class Study:
    """A study file resolved: every path absolute, every value checked."""

    source: Source
    name: str
    out: Path
    jobs: int
    scheduler: str | None
    device: str
    corpora: dict[str, CorpusSpec]
    families: dict[str, dict[str, str]]
    grids: tuple[GridSpec, ...]
    reports: tuple[ReportSpec, ...] = field(default_factory=tuple)

    @property
    def path(self) -> Path:
        return self.source.path

    def error(self, where: tuple, message: str) -> FeatbenchError:
        return self.source.error(where, message)
