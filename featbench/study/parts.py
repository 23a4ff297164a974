"""The tables of a study file read into `spec`'s typed parts, each value checked by the same functions the command
line uses (family names, layouts, classifier entries, budgets, seeds, normalisation, conditions), each refusal
one line with the file's line number (`load_study` calls these in order).

>>> from featbench.study.source import Lines, Source
>>> src = Source(Path("s.toml"), {"families": {"mfcc": {"n_mfcc": 20}}}, Lines("[families.mfcc]\\nn_mfcc = 20\\n"))
>>> families_of(src)
{'mfcc': {'n_mfcc': '20'}}
"""
from __future__ import annotations

from pathlib import Path

from featbench.errors import FeatbenchError
from featbench.study.fields import Table
from featbench.study.source import Source, read_source
from featbench.study.spec import GRID_KEYS, PROTOCOL_KEYS, TABLES, CorpusSpec, GridSpec, ReportSpec, Study

CORPUS_KEYS = {"layout", "root", "families", "classes", "merge", "conditions", "condition_seed", "folds",
               "sample_rate", "store", "transcribe", "transcribe_language"}
REPORT_KEYS = {"name", "results", "baseline", "out", "target_ua", "reference_budget", "baseline_normalisation"}


def _option_text(value) -> str:
    """A TOML value as `extract --set` would give it (so both spell one configuration, hashed alike)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name the file system refuses (too long, ...): not there
        return False


def _option_path(value: str, base: Path | None) -> str:
    """An option naming a path relative to the study file (a model folder, a checkpoint) made absolute; other
    values as they are."""
    if base is None or ("/" not in value and "\\" not in value) or Path(value).is_absolute():
        return value
    try:
        candidate = base / value
        return str(candidate.resolve()) if candidate.exists() else value
    except OSError:
        return value


def families_of(source: Source, base: Path | None = None) -> dict[str, dict[str, str]]:
    """[families.NAME] tables: {name: {option: text}}, each name a known family (built-in or plug-in); an option
    that names an existing path relative to the study file's folder `base` is made absolute."""
    from featbench.features import family_class

    tables = source.data.get("families", {})
    if not isinstance(tables, dict) or not tables:
        raise source.error(("families",), "the study names no feature family: add a [families.NAME] table per family")
    families = {}
    for name, options in tables.items():
        where = ("families", name)
        try:
            family_class(name)
        except FeatbenchError as err:
            raise source.error(where, str(err)) from None
        if not isinstance(options, dict):
            raise source.error(where, f"[families.{name}] must be a table of options")
        nested = [k for k, v in options.items() if isinstance(v, (dict, list))]
        if nested:
            raise source.error((*where, nested[0]), f"[families.{name}] {nested[0]}: an option is one value, not a table or list")
        families[name] = {k: _option_path(_option_text(v), base) for k, v in options.items()}
    return families


def _labels(t: Table) -> tuple:
    """(classes or None, merge pairs) of a corpus or grid table."""
    from featbench.corpus.table import parse_merge

    classes = t.texts("classes", None)
    merge = t.value("merge", (dict,), "a table of source = target labels", {})
    bad = [k for k, v in merge.items() if not isinstance(v, str)]
    if bad:
        raise t.error("merge", f"{t.name} merge: {bad[0]} = {merge[bad[0]]!r} is not a label")
    try:
        pairs = parse_merge([f"{k}={v}" for k, v in merge.items()])
    except FeatbenchError as err:
        raise t.error("merge", str(err)) from None
    return (tuple(classes) if classes else None), tuple(pairs.items())


def corpora_of(source: Source, base: Path, stores: Path, families: dict) -> dict[str, CorpusSpec]:
    """[corpora.NAME] tables, each layout known and each root present."""
    from featbench.corpus.loaders import LOADERS
    from featbench.protocol.conditions import parse_conditions

    tables = source.data.get("corpora", {})
    if not isinstance(tables, dict) or not tables:
        raise source.error(("corpora",), "the study names no corpus: add a [corpora.NAME] table per corpus")
    corpora = {}
    for name, data in tables.items():
        t = Table(source, ("corpora", name), data, CORPUS_KEYS)
        layout = t.choice("layout", sorted(LOADERS))
        root = t.file_path("root", base)
        if not _exists(root) and layout != "demo":  # the demo corpus is generated into its root on first use
            raise t.error("root", f"[corpora.{name}] root {root}: no such file or folder")
        used = t.texts("families", list(families))
        stray = [f for f in used if f not in families]
        if stray:
            raise t.error("families", f"[corpora.{name}] family '{stray[0]}' has no [families.{stray[0]}] table; "
                                      f"defined: {', '.join(families)}")
        classes, merge = _labels(t)
        conditions = t.texts("conditions", [])
        try:
            parse_conditions(",".join(conditions)) if conditions else None
        except FeatbenchError as err:
            raise t.error("conditions", str(err)) from None
        folds = t.integer("folds", None, minimum=2)
        asr = t.file_path("transcribe", base, None)
        if asr is not None and not asr.is_dir():
            raise t.error("transcribe", f"[corpora.{name}] transcribe {asr}: no such folder (a Whisper model folder)")
        if asr is None and "transcribe_language" in t.data:
            raise t.error("transcribe_language", f"[corpora.{name}] transcribe_language needs transcribe (a Whisper folder)")
        corpora[name] = CorpusSpec(name, layout, root, t.file_path("store", base, str(stores / name)), tuple(used), classes,
                                   merge, tuple(conditions), t.integer("condition_seed", 0),
                                   folds, t.integer("sample_rate", 16000, minimum=1000), asr,
                                   t.text("transcribe_language", None))
        t.done()
    return corpora


def _budgets(t: Table, default) -> tuple | None:
    from featbench.train.protocol import check_budgets

    value = t.value("budgets", (list,), "a list of budgets (examples per class, fractions, \"all\")", default)
    if value is None:
        return None
    bad = [b for b in value if not (isinstance(b, (int, float)) and not isinstance(b, bool) or b == "all")]
    if bad:
        raise t.error("budgets", f"{t.name} budget {bad[0]!r} is not a number of examples per class, a fraction or \"all\"")
    try:
        return tuple(check_budgets(list(value)))
    except FeatbenchError as err:
        raise t.error("budgets", f"{t.name} {err}") from None


def _protocol(source: Source) -> dict:
    """[protocol]: the defaults of every grid."""
    t = Table(source, ("protocol",), source.data.get("protocol", {}), PROTOCOL_KEYS)
    t.done()
    return t.data


MAX_JOBS = 256  # local worker processes of a study or grid: a study file cannot ask for thousands


def grids_of(source: Source, base: Path, out: Path, corpora: dict) -> tuple[GridSpec, ...]:
    """[[grids]] entries, each checked as `featbench train` checks its options (the Experiment is built)."""
    defaults = _protocol(source)
    entries = source.data.get("grids", [])
    if not isinstance(entries, list) or not entries:
        raise source.error(("grids",), "the study has no [[grids]] entry: each is one training grid")
    grids: list[GridSpec] = []
    for index, data in enumerate(entries):
        grid = _grid(Table(source, ("grids", index), data, GRID_KEYS), defaults, out, corpora)
        if grid.name in {g.name for g in grids}:
            raise source.error(("grids", index, "name"), f"grid name '{grid.name}' is used twice")
        grids.append(grid)
    return tuple(grids)


def _corpus_ref(t: Table, key: str, corpora: dict, default=None) -> str | None:
    name = t.text(key, default)
    if name is not None and name not in corpora:
        raise t.error(key, f"{t.name} {key} = '{name}': no such corpus; defined: {', '.join(corpora)}")
    return name


def _grid(t: Table, defaults: dict, out: Path, corpora: dict) -> GridSpec:
    from featbench.train.classifiers import DEFAULT_CLASSIFIERS
    from featbench.train.protocol import check_seeds

    merged = Table(t.source, t.path, {**defaults, **t.data}, GRID_KEYS)
    name, corpus = t.text("name"), t.text("corpus")
    _corpus_ref(t, "corpus", corpora)
    features = tuple(t.texts("features"))
    _check_views(t, features, corpora[corpus])
    seeds = merged.value("seeds", (list,), "a list of seeds", [0, 1, 2])
    try:
        seeds = check_seeds(list(seeds))
    except FeatbenchError as err:
        raise merged.error("seeds", f"{t.name} {err}") from None
    classes, merge = _labels(merged)
    tests = merged.texts("test_conditions", None)
    grid = GridSpec(name=name, corpus=corpus, features=features,
                    classifiers=tuple(merged.texts("classifiers", DEFAULT_CLASSIFIERS.split(","))),
                    budgets=_budgets(merged, None), seeds=tuple(seeds), results=t.file_path("results", out, f"{name}/results.csv"),
                    folds=merged.integer("folds", None, minimum=2), classes=classes, merge=merge,
                    normalise=merged.text("normalise", "training"), pooling=merged.text("pooling", "mean+std"), seq_epochs=merged.integer("seq_epochs", 30, minimum=1),
                    target=merged.text("target", None), test_corpus=_corpus_ref(t, "test_corpus", corpora),
                    add_corpus=_corpus_ref(t, "add_corpus", corpora), validate_on=merged.text("validate_on", None),
                    train_condition=merged.text("train_condition", "clean"),
                    test_conditions=tuple(tests) if tests else None,
                    allow_confounded_speakers=merged.flag("allow_confounded_speakers"),
                    jobs=t.integer("jobs", None, minimum=1, maximum=MAX_JOBS), where=t.path)
    t.done()
    _check_experiment(t, grid, corpora)
    return grid


def _check_views(t: Table, views: tuple[str, ...], corpus: CorpusSpec) -> None:
    """Each family a view names (its parts, an ensemble's members) is extracted into the grid's corpus."""
    from featbench.train.views import parts_of

    for view in views:
        try:
            parts = parts_of(view)
        except FeatbenchError as err:
            raise t.error("features", f"{t.name} {err}") from None
        for part in parts:
            family = part.split("@")[0].strip()
            if family not in corpus.families:
                raise t.error("features", f"{t.name} view '{view}' reads family '{family}', which corpus '{corpus.name}' "
                                          f"does not extract; it extracts: {', '.join(corpus.families)}")


def _check_experiment(t: Table, grid: GridSpec, corpora: dict) -> None:
    """The grid's options checked by the same code as `featbench train` (Experiment, classifier entries, design)."""
    from featbench.study.cells import experiment_of
    from featbench.train.experiment import check_classifiers, design_of

    try:
        check_classifiers(list(grid.classifiers), grid.target or "")
        design_of(experiment_of(grid, corpora))
    except FeatbenchError as err:
        raise t.error(None, f"{t.name} '{grid.name}': {err}") from None


def reports_of(source: Source, out: Path, grids: tuple[GridSpec, ...]) -> tuple[ReportSpec, ...]:
    """[[reports]] entries: each names grids whose results files it compares."""
    entries = source.data.get("reports", [])
    if not isinstance(entries, list):
        raise source.error(("reports",), "reports must be an array of tables: [[reports]]")
    by_name = {g.name: g for g in grids}
    reports: list[ReportSpec] = []
    for index, data in enumerate(entries):
        t = Table(source, ("reports", index), data, REPORT_KEYS)
        name = t.text("name")
        names = t.texts("results")
        stray = [n for n in names if n not in by_name]
        if stray:
            raise t.error("results", f"{t.name} results: no grid named '{stray[0]}'; grids: {', '.join(by_name)}")
        files = tuple(dict.fromkeys(by_name[n].results for n in names))
        target = t.value("target_ua", (float, int), "a UA between 0 and 1", None)
        if target is not None and not 0 < target < 1:
            raise t.error("target_ua", f"{t.name} target_ua = {target}: expected a UA between 0 and 1")
        reports.append(ReportSpec(name, files, t.file_path("out", out, name), t.text("baseline", None), target,
                                  t.text("reference_budget", None), t.text("baseline_normalisation", None)))
        if name in {r.name for r in reports[:-1]}:
            raise t.error("name", f"report name '{name}' is used twice")
        t.done()
    return tuple(reports)


def load_study(path: str | Path) -> Study:
    """The study file at `path`, checked whole (types, names, references, paths), or a one-line FeatbenchError
    `FILE:LINE: problem`. Checks that need the corpus table (budgets, folds, leakage) are `study.check`'s."""
    source = read_source(path)
    stray = sorted(set(source.data) - TABLES)
    if stray:
        raise source.error((stray[0],), f"unknown table [{stray[0]}]; a study file holds: {', '.join(sorted(TABLES))}")
    head = Table(source, ("study",), source.data.get("study", {}), {"name", "out", "stores", "jobs", "scheduler", "device"})
    base = source.path.resolve().parent
    name = head.text("name")
    out = head.file_path("out", base, f"{name}-study")
    stores = head.file_path("stores", base, "stores")
    jobs, scheduler, device = head.integer("jobs", 1, minimum=1, maximum=MAX_JOBS), head.text("scheduler", None), head.text("device", "auto")
    head.done()
    if scheduler is not None and jobs != 1:
        raise head.error("scheduler", "[study] jobs and scheduler exclude each other: the cluster's workers do the work")
    families = families_of(source, base)
    corpora = corpora_of(source, base, stores, families)
    grids = grids_of(source, base, out, corpora)
    crowded = next((g for g in grids if g.jobs is not None), None) if scheduler is not None else None
    if crowded is not None:
        raise source.error((*crowded.where, "jobs"), f"grid '{crowded.name}': jobs is for local worker processes; with "
                           "[study] scheduler the cluster's workers do the work")
    reports = reports_of(source, out, grids)
    return Study(source, name, out, jobs, scheduler, device, corpora, families, grids, reports)
