"""`featbench compare`, `featbench results upgrade` and `featbench demo`."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from featbench.cli.common import PANEL_OUTPUT, Jobs, Progress, app, executor_for, show_progress, user_errors


@app.command()
@user_errors
def compare(
    results: Annotated[list[Path], typer.Argument(metavar="RESULTS...", help="Results CSV(s) from `featbench train` (one protocol).")],
    out: Annotated[Path, typer.Option(metavar="PATH", rich_help_panel=PANEL_OUTPUT, help="Report folder.")] = Path("report"),
    baseline: Annotated[str | None, typer.Option(metavar="VIEW", help="The entry the others are compared against (default: the first): a view ('egemaps-func': its plain entry), or an entry's name as the report shows it ('egemaps-func [per-speaker normalisation]').")] = None,
    baseline_normalisation: Annotated[str | None, typer.Option("--baseline-norm", metavar="KIND", help="The --baseline view's entry of this normalisation (training, per-corpus, per-speaker, per-speaker:K), e.g. --baseline egemaps-func --baseline-norm per-speaker.")] = None,
    reference_budget: Annotated[str | None, typer.Option(metavar="BUDGET", help="Baseline budget to match (default: its largest).")] = None,
    target_ua: Annotated[float | None, typer.Option(metavar="UA", min=0.0, max=1.0, help="UA for label-budget planning (default: the baseline's reference score).")] = None,
) -> None:
    """Learning curves, summary tables, data-efficiency ratios, robustness under recording conditions (where rows
    were tested under them: their claims are printed) and label-budget planning.

    Example: featbench compare results.csv --baseline egemaps-func --target-ua 0.6 --out report/
    """
    from featbench.report.compare import compare as run_compare
    from featbench.results import Normalisation

    _check_report_out(out)
    normalisation = None if baseline_normalisation is None else Normalisation.parse(baseline_normalisation)
    made = run_compare([str(r) for r in results], out, baseline=baseline, target_ua=target_ua, reference_budget=reference_budget,
                       baseline_normalisation=normalisation)
    typer.echo("\n".join([*made.notes, *made.efficiency, *made.robustness, *made.cross_corpus, *made.plans,
                          f"report written to {made.out / 'report.md'} and {made.out / 'report.html'}"]))


def _check_report_out(out: Path) -> None:
    """Refuse (one line) a report folder that is, or is inside, a model folder (`featbench fit`) or a feature store:
    the report's files would be mixed with theirs."""
    from featbench.errors import FeatbenchError
    from featbench.model.manifest import is_model_folder
    from featbench.store.tables import CORPUS_FILE

    for folder in (out.absolute(), *out.absolute().parents):
        if is_model_folder(folder):
            raise FeatbenchError(f"--out {out}: {'is' if folder == out.absolute() else 'inside'} the model folder "
                                 f"{folder}; write the report elsewhere")
        if (folder / CORPUS_FILE).is_file() and any(folder.glob("*.h5")):
            raise FeatbenchError(f"--out {out}: {'is' if folder == out.absolute() else 'inside'} the feature store "
                                 f"{folder}; write the report elsewhere")


results_app = typer.Typer(help="Results files: `featbench results upgrade FILE` rewrites a file of an older schema.",
                          no_args_is_help=True)
app.add_typer(results_app, name="results")


@results_app.command("upgrade")
@user_errors
def results_upgrade(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A results CSV written by an older featbench (results schema 1-4).")],
) -> None:
    """Rewrite a results file of schema 1-4 as schema 5: the same rows and scores, the training data in columns.

    Example: featbench results upgrade results/old.csv
    """
    from featbench.results import SCHEMA, upgrade_file

    table = upgrade_file(file)
    for note in table.notes:  # a torn last line or a repeated row, left out of the rewritten file
        typer.echo(note, err=True)
    typer.echo(f"{file}: {len(table.rows)} rows rewritten as results schema {SCHEMA}")


@app.command()
@user_errors
def demo(
    out: Annotated[Path, typer.Option(metavar="PATH", rich_help_panel=PANEL_OUTPUT, help="Working folder for the demo corpus, store and results.")] = Path("featbench-demo"),
    jobs: Jobs = 2,
    progress: Progress = None,
) -> None:
    """Run the whole chain on the built-in synthetic corpus (no download): generate, extract, train, compare.

    Example: featbench demo --out featbench-demo
    """
    from featbench.demo import run_demo

    with executor_for(None, jobs) as executor:
        run_demo(out, executor=executor, echo=typer.echo, progress=show_progress(progress))
