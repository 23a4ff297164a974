"""What every featbench command shares: the Typer app, the one-line error wrapper, the option types
and the help panels they are grouped in.

Example:
    >>> from featbench.cli.common import app, PANEL_PROTOCOL
    >>> app.info.name
    'featbench'
"""
from __future__ import annotations

import contextlib
import functools
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from featbench.device import DEVICE_HELP, PRECISION_HELP
from featbench.errors import CorruptStoreError, FeatbenchError
from featbench.executors import SCHEDULER_HELP

EXIT_PARTIAL = 3

# Help panels: `featbench train --help` groups its options under these headings.
PANEL_PROTOCOL = "Protocol"
PANEL_FEATURES = "Features"
PANEL_CLASSIFIERS = "Classifiers"
PANEL_OUTPUT = "Output"
PANEL_EXECUTION = "Execution"

app = typer.Typer(
    name="featbench",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Which audio representation for speech emotion recognition, and how many labelled examples? "
    "corpus -> extract -> train -> compare. Run `featbench demo` for the whole chain on a built-in corpus.",
)


def user_errors(command):
    """Turn the library's FeatbenchError (and OS errors such as a permission denied) into one line and exit 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BrokenPipeError:  # the reader stopped reading (`featbench corpus ... | head`): no error of ours
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # the interpreter's final flush must not fail again
            raise typer.Exit(141) from None  # 128 + SIGPIPE, as a shell reports a process ended by a closed pipe
        except CorruptStoreError as err:
            typer.echo(f"featbench: error: {err} (featbench verify {err.store} --repair removes them; "
                       "extract again to redo them)", err=True)
            raise typer.Exit(1) from None
        except (FeatbenchError, OSError) as err:
            typer.echo(f"featbench: error: {err}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("featbench: interrupted; finished work is kept, run the same command again to resume", err=True)
            raise typer.Exit(130) from None

    return wrapper


Layout = Annotated[str, typer.Argument(metavar="LAYOUT", help="Corpus layout: csv, ravdess, emodb, cremad, tess, iemocap, demo.")]
Root = Annotated[Path, typer.Argument(metavar="ROOT", help="Corpus root folder (or the CSV manifest for 'csv').")]
Classes = Annotated[Optional[str], typer.Option(metavar="LABELS", rich_help_panel=PANEL_PROTOCOL,
                                                help="Keep only these labels, comma-separated (after --merge).")]
Merge = Annotated[Optional[str], typer.Option(metavar="A=B,...", rich_help_panel=PANEL_PROTOCOL,
                                              help="Merge labels, e.g. 'excited=happy, calm=neutral'.")]
Jobs = Annotated[int, typer.Option(min=1, metavar="N", rich_help_panel=PANEL_EXECUTION, help="Parallel worker processes.")]
Progress = Annotated[bool, typer.Option(rich_help_panel=PANEL_EXECUTION, help="Show a progress bar.")]
Scheduler = Annotated[Optional[str], typer.Option(metavar="ADDRESS", rich_help_panel=PANEL_EXECUTION, help=SCHEDULER_HELP)]
StoreArg = Annotated[Path, typer.Argument(metavar="STORE", help="Feature store folder made by `featbench extract`.")]
Device = Annotated[str, typer.Option(metavar="DEVICE", rich_help_panel=PANEL_EXECUTION, help=DEVICE_HELP)]
Precision = Annotated[str, typer.Option(metavar="TYPE", rich_help_panel=PANEL_FEATURES, help=PRECISION_HELP)]


def report_and_exit(report) -> None:
    """Print a run's summary; exit 3 when the run finished but some clips failed (extract, transcribe, predict)."""
    typer.echo(report.summary())
    if report.partial:
        raise typer.Exit(EXIT_PARTIAL)


@contextlib.contextmanager
def executor_for(scheduler: Optional[str], jobs: int):
    """Where the command's tasks run: `jobs` local processes, or the --scheduler cluster (described on stderr);
    released when the command ends."""
    from featbench.executors import Dask, Local

    if scheduler is not None and jobs != 1:
        raise FeatbenchError("--jobs and --scheduler exclude each other: with --scheduler the cluster's workers do the work")
    with (Local(jobs) if scheduler is None else Dask(scheduler)) as executor:
        if scheduler is not None:
            typer.echo(executor.describe(), err=True)
        yield executor


def device_on(executor, device: str, torch_needed: bool = True):
    """The --device choice typed (`featbench.device.Device`) and checked where `executor` runs the work (one line
    if that device is not there), before any clip; `torch_needed` False lets `auto` be the CPU without torch."""
    from featbench.device import Device as Choice

    return executor.check_device(Choice.parse(device), torch_needed)


def corpus_table(layout: str, root: Path, classes: Optional[str], merge: Optional[str]):
    """The corpus table of LAYOUT at ROOT with --classes and --merge applied."""
    from featbench.corpus import load_corpus
    from featbench.corpus.table import parse_classes, parse_merge

    return load_corpus(layout, root, parse_classes(classes), parse_merge(merge))


def _plain_help() -> None:
    """Typer prints a Python type beside every option and argument (`<bool>`, `<list[str]>`) and braces round
    required arguments in the usage line (`{ROOT}`); featbench's options and arguments carry a METAVAR instead,
    an on/off flag (`--progress / --no-progress`, `--help`) needs none, and the usage line reads `LAYOUT ROOT`.
    Applied once, and only where this Typer has the methods it replaces (another version keeps its own look)."""
    from typer import core

    option, argument = core.TyperOption, core.TyperArgument
    if getattr(option.display_type_rich, "featbench", False) or not hasattr(argument, "_usage_display_name"):
        return
    typed = option.display_type_rich

    def option_type(self, ctx):
        return None if self.is_flag and not self.metavar else typed(self, ctx)

    def usage_name(self):
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name + ("..." if self.nargs != 1 else "")

    option_type.featbench = True
    option.display_type_rich = option_type
    argument.display_type_rich = lambda self, ctx: None
    argument._usage_display_name = usage_name


_plain_help()
