"""`run_study`: only the missing cells, through the very calls `featbench extract`, `train` and `compare` make
(`run_extraction`, `run_training`, `compare`): no second code path. Each step resumes as its command does (stores
and results files are keyed by content), so a run stopped by Ctrl-C or kill -9 at any moment is continued by the
next. One run of a study at a time: a second refuses in one line (an OS lock on the output folder, released when
the holder dies). A step that fails is recorded (status shows its cells as failed) and the others go on; reports
whose grids failed are not written.

>>> StudyRun().summary()
'study: nothing to do (every cell done)'
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from featbench.errors import FeatbenchError
from featbench.study.cells import experiment_of
from featbench.study.inventory import inventory
from featbench.study.resolve import Resolved, resolve
from featbench.study.spec import CorpusSpec, Study
from featbench.study.state import read_state, write_record, write_state


@dataclass
class StudyRun:
    steps_run: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    partial: list[str] = field(default_factory=list)  # extraction steps where some clips failed
    wall_seconds: float = 0.0
    say: Callable[[str], Any] | None = field(default=None, repr=False, compare=False)  # hears each step start and end

    def summary(self) -> str:
        if not self.steps_run and not self.failed:
            return "study: nothing to do (every cell done)"
        lines = [f"study: {len(self.steps_run)} steps run in {self.wall_seconds:.1f} s: {', '.join(self.steps_run)}"]
        lines += [f"  {step}: some clips failed (errors.csv in the store)" for step in self.partial]
        lines += [f"  {step} FAILED: {why}" for step, why in self.failed.items()]
        return "\n".join(lines)


def run_study(study: Study, progress: bool = True, executor=None, say: Callable[[str], Any] | None = None) -> StudyRun:
    """Run every missing cell of `study` (checked whole first: `resolve`), then its reports and the study report.
    `executor` (featbench.executors) defaults to the study's `jobs` local processes or its `scheduler`; `say`
    (e.g. print) is given one line as each step starts and one as it ends (its time, or why it failed)."""
    from featbench.locking import exclusive

    start = time.perf_counter()
    resolved = resolve(study)
    try:
        study.out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise FeatbenchError(f"{study.out}: cannot create the study's output folder ({err.strerror})") from None
    with exclusive(study.out, f"study '{study.name}'"):
        write_record(study)
        state = {"pid": os.getpid(), "started": time.time(), "step": None,
                 **{k: read_state(study.out).get(k, {}) for k in ("failed", "seconds")}}
        run = StudyRun(say=say)
        with _executor(study, executor) as chosen:
            _steps(resolved, chosen, state, run, progress)
        state["step"] = None
        write_state(study.out, state)
    run.wall_seconds = time.perf_counter() - start
    return run


def report_study(study: Study, say: Callable[[str], Any] | None = None) -> StudyRun:
    """Write every report of `study` (its `compare` calls) and the study report from the results that exist; runs
    no extraction or training. Refuses while a run of the study holds its folder. `say`: as `run_study`'s."""
    from featbench.locking import exclusive

    start = time.perf_counter()
    resolved = resolve(study)
    if not study.out.is_dir():
        raise FeatbenchError(f"{study.out}: the study has not run yet (featbench study run {study.path.name})")
    run = StudyRun(say=say)
    with exclusive(study.out, f"study '{study.name}'"):
        write_record(study)
        state = {"pid": os.getpid(), "step": None, **{k: read_state(study.out).get(k, {}) for k in ("failed", "seconds")}}
        _reports(resolved, state, run)
    run.wall_seconds = time.perf_counter() - start
    return run


class _executor:
    """The given executor, or one made from [study] jobs / scheduler and closed at the end."""

    def __init__(self, study: Study, given):
        self.study, self.given = study, given
        self.made: Any = None

    def __enter__(self):
        from featbench.executors import Dask, Local

        if self.given is not None:
            return self.given
        self.made = Local(self.study.jobs) if self.study.scheduler is None else Dask(self.study.scheduler)
        return self.made.__enter__()

    def __exit__(self, *exc):
        return self.made.__exit__(*exc) if self.made is not None else False


def _steps(resolved: Resolved, executor, state: dict, run: StudyRun, progress: bool) -> None:
    study = resolved.study
    pending = {line.step for line in inventory(resolved).lines if line.counts.done < line.counts.total}
    models = _asr_models(resolved, pending)  # every Whisper folder checked before the first clip is read
    for name, corpus in study.corpora.items():
        if name in models:
            _step(f"transcribe {name}", state, run, study,
                  lambda c=corpus: _transcribe(resolved, c, models[c.name], executor, progress, run))
        if f"extract {name}" in pending:
            _step(f"extract {name}", state, run, study, lambda c=corpus: _extract(resolved, c, executor, progress, run))
    for grid in study.grids:
        if f"train {grid.name}" in pending:
            _step(f"train {grid.name}", state, run, study, lambda g=grid: _train(resolved, g, executor, progress))
    _reports(resolved, state, run)


def _reports(resolved: Resolved, state: dict, run: StudyRun) -> None:
    """Each report whose grids did not fail, then the study report."""
    study = resolved.study
    broken = {g.results for g in study.grids if f"train {g.name}" in state["failed"]}
    for report in study.reports:
        if broken & set(report.results):
            run.failed[f"report {report.name}"] = "not written: a grid it compares failed"
            continue
        _step(f"report {report.name}", state, run, study, lambda r=report: _compare(r))
    from featbench.study.report import write_study_report

    _step("report study", state, run, study, lambda: write_study_report(resolved))


def _step(step: str, state: dict, run: StudyRun, study: Study, work) -> None:
    """Run one step, recording it as the live step; a FeatbenchError fails the step (recorded), not the study."""
    state["step"], start = step, time.perf_counter()
    write_state(study.out, state)
    say = run.say or (lambda line: None)
    say(f"{step}: started {time.strftime('%H:%M:%S')}")
    try:
        work()
    except FeatbenchError as err:
        state["failed"][step] = run.failed[step] = str(err)
        say(f"{step}: FAILED: {err}")
    else:
        state["failed"].pop(step, None)
        state.setdefault("seconds", {})[step] = round(time.perf_counter() - start, 1)
        run.steps_run.append(step)
        say(f"{step}: done in {time.perf_counter() - start:.1f} s")
    write_state(study.out, {**state, "step": None})


def _extract(resolved: Resolved, corpus: CorpusSpec, executor, progress: bool, run: StudyRun) -> None:
    """`featbench extract LAYOUT ROOT --features ... --set ... --conditions ... --out STORE`, as a library call."""
    from featbench.audio import AudioConfig
    from featbench.corpus.loaders import corpus_name_of
    from featbench.device import Device
    from featbench.extract import run_extraction
    from featbench.features import accelerated
    from featbench.store import write_corpus_name

    study = resolved.study
    specs = [(f, dict(study.families[f])) for f in corpus.families]
    device = executor.check_device(Device.parse(study.device), accelerated(corpus.families))
    report = run_extraction(resolved.tables[corpus.name], specs, corpus.store, AudioConfig(sample_rate=corpus.sample_rate),
                            executor=executor, progress=progress, metas=resolved.metas[corpus.name], device=device,
                            conditions=",".join(corpus.conditions) if corpus.conditions else None,
                            condition_seed=corpus.condition_seed, n_folds=corpus.folds)
    write_corpus_name(corpus.store, corpus_name_of(corpus.layout, corpus.root), corpus.layout.strip().lower())
    if report.partial:
        run.partial.append(f"extract {corpus.name}")


def _asr_models(resolved: Resolved, pending: set[str]) -> dict:
    """{corpus: AsrModel} of the corpora with clips still to transcribe, each folder checked as `featbench transcribe`
    checks it (weights loaded once); a refusal names the study file's line."""
    from featbench.asr_model import check_asr_model

    models = {}
    for name, corpus in resolved.study.corpora.items():
        if corpus.transcribe is not None and f"transcribe {name}" in pending:
            try:
                models[name] = check_asr_model(corpus.transcribe, corpus.transcribe_language)
            except FeatbenchError as err:
                raise resolved.study.error(("corpora", name, "transcribe"), f"[corpora.{name}] {err}") from None
    return models


def _transcribe(resolved: Resolved, corpus: CorpusSpec, model, executor, progress: bool, run: StudyRun) -> None:
    """`featbench transcribe LAYOUT ROOT --model M [--language L] --out STORE`, as a library call."""
    from featbench.device import Device
    from featbench.transcribe import run_transcription

    device = executor.check_device(Device.parse(resolved.study.device), True)
    report = run_transcription(resolved.tables[corpus.name], model, corpus.store, executor=executor, progress=progress,
                               device=device)
    if report.failed:
        run.partial.append(f"transcribe {corpus.name}")


def _train(resolved: Resolved, grid, executor, progress: bool) -> None:
    """`featbench train STORE --features ... --out RESULTS`, as a library call."""
    from contextlib import nullcontext

    from featbench.device import Device
    from featbench.executors import Local
    from featbench.train import run_training

    grid.results.parent.mkdir(parents=True, exist_ok=True)
    # a grid's own `jobs`: its own local workers (tasks that need more memory than the study's jobs allow)
    with Local(grid.jobs) if grid.jobs is not None else nullcontext(executor) as chosen:
        device = chosen.check_device(Device.parse(resolved.study.device), True)
        run_training(experiment_of(grid, resolved.study.corpora), grid.results, executor=chosen, progress=progress,
                     device=device)


def _as_typed(path: Path) -> str:
    """A results file as a user would type it from here (relative to the working folder): reports record the paths
    they read, and a committed report must not name one machine's folders."""
    return os.path.relpath(path)


def _compare(report) -> None:
    """`featbench compare RESULTS... --baseline B --out OUT`, as a library call."""
    from featbench.report.compare import compare

    files: list[str | Path] = [_as_typed(path) for path in report.results if path.is_file()]
    if not files:
        raise FeatbenchError(f"report '{report.name}': none of its results files exists yet")
    compare(files, report.out, baseline=report.baseline, target_ua=report.target_ua,
            reference_budget=report.reference_budget, baseline_normalisation=report.baseline_normalisation)


