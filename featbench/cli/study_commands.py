"""`featbench study plan|run|status|report STUDY.toml`: one file per study (docs/studies.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from featbench.cli.common import Progress, app, show_progress, user_errors

study_app = typer.Typer(help="One TOML file per study: plan, run, status, report (docs/studies.md).",
                        no_args_is_help=True)
app.add_typer(study_app, name="study")

StudyFile = Annotated[Path, typer.Argument(metavar="STUDY.toml", help="The study file.", show_default=False)]
Cells = Annotated[bool, typer.Option("--cells", help="List every missing cell.")]


def _show(path: Path, title: str, cells: bool) -> None:
    """Print the plan or the status of the study at `path` (study.text.render)."""
    from featbench.study import inventory, load_study, resolve
    from featbench.study.text import render

    resolved = resolve(load_study(path))
    typer.echo(render(resolved, inventory(resolved, with_cells=cells), title, cells))


@study_app.command()
@user_errors
def plan(study: StudyFile, cells: Cells = False) -> None:
    """Check the study whole and print its cells, what is done, and the CPU time of the rest; runs nothing.

    Example: featbench study plan results/studies/multicorpus.toml
    """
    _show(study, "Plan", cells)


@study_app.command()
@user_errors
def run(study: StudyFile, progress: Progress = None) -> None:
    """Run the missing cells (extract, train, compare through the library), then write the study report.
    Resumable: stop it at any moment and run it again.

    Example: featbench study run results/studies/multicorpus.toml
    """
    from featbench.study import load_study, run_study

    outcome = run_study(load_study(study), progress=show_progress(progress), say=typer.echo)
    typer.echo(outcome.summary())
    if outcome.failed:
        raise typer.Exit(1)


@study_app.command()
@user_errors
def status(study: StudyFile, cells: Cells = False) -> None:
    """Done / running / failed / missing per step part, and an ETA.

    Example: featbench study status results/studies/multicorpus.toml
    """
    _show(study, "Status", cells)


@study_app.command()
@user_errors
def report(study: StudyFile) -> None:
    """Write each report (featbench compare) and the study report across them (OUT/study/report.{md,html,json})
    from the results that exist; runs no extraction or training.

    Example: featbench study report results/studies/multicorpus.toml
    """
    from featbench.study import load_study
    from featbench.study.run import report_study

    outcome = report_study(load_study(study), say=typer.echo)
    typer.echo(outcome.summary())
    if outcome.failed:
        raise typer.Exit(1)
