"""The featbench command line: thin wiring over the library, one library call per command.

Exit codes: 0 success; 1 error (one line on stderr, no traceback); 2 bad usage;
3 partial extraction or transcription (some clips failed; see errors.csv in the store).

Each command lives in the module of its stage (corpus, extract, train, model, report) and registers
itself on the one `app`.

Example:
    >>> from typer.testing import CliRunner
    >>> CliRunner().invoke(app, ["--version"]).output.startswith("featbench ")
    True
"""
from __future__ import annotations

from typing import Annotated

import typer

from featbench.cli.common import EXIT_PARTIAL, app

__all__ = ["EXIT_PARTIAL", "app", "main"]


def _version(value: bool) -> None:
    if value:
        from featbench import __version__

        typer.echo(f"featbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool | None, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = None,
) -> None:
    """featbench: feature families x data budgets for speech emotion recognition."""


# The command modules register their commands on `app` when imported; the order is `--help`'s order.
from featbench.cli import corpus_commands, extract_commands, train_commands, model_commands, report_commands  # noqa: E402,F401,I001
from featbench.cli import import_commands  # noqa: E402,F401,I001
from featbench.cli import study_commands  # noqa: E402,F401,I001


def main() -> None:
    """The console script. The environment variables featbench reads are checked first: a bad one is one line
    before any work (`featbench.settings`). BLAS pools default to one thread (featbench parallelises with
    processes; a user's own setting wins), and objects alive at exit are frozen so that the interpreter does
    not spend a garbage collection on them while shutting down."""
    import gc
    import sys

    from featbench.errors import FeatbenchError
    from featbench.settings import Settings, default_threads

    try:
        Settings.from_environ()
    except FeatbenchError as err:
        print(f"featbench: error: {err}", file=sys.stderr)
        sys.exit(1)
    default_threads()
    try:
        app()
    finally:
        gc.freeze()
