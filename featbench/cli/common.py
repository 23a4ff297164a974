"""What every featbench command shares: the Typer app (its root command `FeatbenchGroup`: usage errors in one
line, help text shown as written), the one-line error wrapper, the option types and the help panels they are
grouped in.

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
from typing import Annotated

import typer
from typer.core import TyperGroup

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


def _help_text(text: str | None) -> str | None:
    """Help as Typer's Rich formatter should show it: the lines of a paragraph joined (the terminal wraps them, not
    the source), and square brackets escaped, which Rich would otherwise read as markup and drop
    ('egemaps-func [per-speaker normalisation]' printed as 'egemaps-func ').

    >>> print(_help_text("An entry ('a [per-speaker]'),\\n  one line.\\n\\nExample: featbench x"))
    An entry ('a \\[per-speaker]'), one line.
    <BLANKLINE>
    Example: featbench x
    """
    if not text:
        return text
    from rich.markup import escape

    paragraphs = [" ".join(line.strip() for line in p.strip().splitlines()) for p in text.split("\n\n")]
    return escape("\n\n".join(p for p in paragraphs if p))


# The click exceptions of this Typer (newer Typers carry their own copy of click, older ones use click's).
_CLICK = sys.modules[typer.BadParameter.__module__]


def _usage_error(err) -> str:
    """A usage error (a missing argument, an unknown option or command, a bad value) as one line, naming the command
    and where its usage is: `featbench: error: train: missing argument 'STORE'; see featbench train --help`."""
    message = " ".join(err.format_message().split()).rstrip(".")
    message = message[:1].lower() + message[1:] if message[1:2].islower() else message
    path = err.ctx.command_path if err.ctx is not None else "featbench"
    command = path.partition(" ")[2]
    return f"featbench: error: {command + ': ' if command else ''}{message}; see {path} --help"


class FeatbenchGroup(TyperGroup):
    """The root command. Every error is one line on stderr: click's usage errors (exit 2) too, instead of a usage
    block and a boxed message; the program is called `featbench` however it was started (`python -m featbench`).
    The help of every command and option is shown as written (`_help_text`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from typer.core import HAS_RICH

        if HAS_RICH:  # plain click shows text as it is
            for command in [self, *_commands(self)]:
                command.help = _help_text(command.help)
                for param in command.params:
                    if getattr(param, "help", None):
                        param.help = _help_text(param.help)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        prog_name = prog_name or "featbench"
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except getattr(_CLICK, "NoArgsIsHelpError", ()):
            code = 2  # the help is printed already
        except _CLICK.UsageError as err:
            typer.echo(_usage_error(err), err=True)
            code = err.exit_code
        except _CLICK.ClickException as err:
            typer.echo(f"featbench: error: {' '.join(err.format_message().split())}", err=True)
            code = err.exit_code
        except typer.Abort:
            typer.echo("featbench: aborted", err=True)
            code = 1
        sys.exit(code if isinstance(code, int) else 0)


def _commands(group):
    """Every command below `group` (sub-groups and their commands included)."""
    for command in getattr(group, "commands", {}).values():
        yield command
        yield from _commands(command)


app = typer.Typer(
    name="featbench",
    cls=FeatbenchGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Which audio representation for speech emotion recognition, and how many labelled examples? "
    "corpus -> extract -> train -> compare. Run `featbench demo` for the whole chain on a built-in corpus.",
)


class UsageHint(FeatbenchError):
    """Bad usage that a command finds itself, such as an old spelling of a command line: one line naming the new
    spelling, exit 2 like every other usage error."""


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
        except UsageHint as err:
            typer.echo(f"featbench: error: {err}", err=True)
            raise typer.Exit(2) from None
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
Classes = Annotated[str | None, typer.Option(metavar="LABELS", rich_help_panel=PANEL_PROTOCOL,
                                                help="Keep only these labels, comma-separated (after --merge).")]
Merge = Annotated[str | None, typer.Option(metavar="A=B,...", rich_help_panel=PANEL_PROTOCOL,
                                              help="Merge labels, e.g. 'excited=happy, calm=neutral'.")]
Jobs = Annotated[int, typer.Option(min=1, metavar="N", rich_help_panel=PANEL_EXECUTION, help="Parallel worker processes.")]
Progress = Annotated[bool | None, typer.Option(rich_help_panel=PANEL_EXECUTION, show_default=False,
                                                  help="Show a progress bar (default: when stderr is a terminal).")]
Scheduler = Annotated[str | None, typer.Option(metavar="ADDRESS", rich_help_panel=PANEL_EXECUTION, help=SCHEDULER_HELP)]
StoreArg = Annotated[Path, typer.Argument(metavar="STORE", help="Feature store folder made by `featbench extract`.")]
Device = Annotated[str, typer.Option(metavar="DEVICE", rich_help_panel=PANEL_EXECUTION, help=DEVICE_HELP)]
Precision = Annotated[str, typer.Option(metavar="TYPE", rich_help_panel=PANEL_FEATURES, help=PRECISION_HELP)]


def show_progress(progress: bool | None) -> bool:
    """Whether a command shows its progress bar: as --progress / --no-progress say, else only on a terminal (a bar
    redrawn in a log file or a pipe is noise)."""
    return sys.stderr.isatty() if progress is None else progress


def check_store_folder(store: Path) -> None:
    """One line at once if STORE is no folder (before a command imports what it needs to read one)."""
    if not Path(store).is_dir():
        raise FeatbenchError(f"{store}: no such store folder (make one with featbench extract)")


def record_corpus(store: Path, layout: str, root: Path) -> None:
    """Write into a store the name of the corpus it holds (its rows and reports are named by it)."""
    from featbench.corpus.loaders import corpus_name_of
    from featbench.store import write_corpus_name

    if Path(store).is_dir():
        write_corpus_name(store, corpus_name_of(layout, root), layout.strip().lower())


def report_and_exit(report) -> None:
    """Print a run's summary; exit 3 when the run finished but some clips failed (extract, transcribe, predict)."""
    typer.echo(report.summary())
    if report.partial:
        raise typer.Exit(EXIT_PARTIAL)


@contextlib.contextmanager
def executor_for(scheduler: str | None, jobs: int):
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


def corpus_table(layout: str, root: Path, classes: str | None, merge: str | None):
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
        return name + ("..." if self.nargs != 1 and not name.rstrip("]").endswith("...") else "")

    option_type.featbench = True
    option.display_type_rich = option_type
    argument.display_type_rich = lambda self, ctx: None
    argument._usage_display_name = usage_name


_plain_help()
