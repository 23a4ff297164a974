"""`featbench import`: precomputed embeddings into a store (featbench.embeddings)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from featbench.cli.common import PANEL_FEATURES, StoreArg, app, user_errors


@app.command("import")
@user_errors
def import_(
    store: StoreArg,
    family: Annotated[str, typer.Option(metavar="NAME", show_default=False, help="Family name the embeddings get in the store (not one featbench extracts), e.g. my-encoder.")],
    source: Annotated[Path, typer.Option("--from", metavar="PATH", show_default=False, help="A folder of <id>.npy / <id>.npz files (one per clip; ids are paths below it without the suffix), or one .npz or HDF5 file with one array per clip named by its id, or with 'ids' and 'embeddings'.")],
    describe: Annotated[str, typer.Option(metavar="TEXT", help="What the embeddings are (model, layer, settings): recorded, part of the config hash, and what predict checks a new import against.")] = "",
    rows: Annotated[str, typer.Option(metavar="KIND", rich_help_panel=PANEL_FEATURES, help="How to read a clip's array: auto (1 axis: one utterance row; 2: frames x dim; 3: layers x frames x dim), frames, or utterance (1 axis: dim; 2: layers x dim).")] = "auto",
    frame_rate: Annotated[float, typer.Option(metavar="HZ", rich_help_panel=PANEL_FEATURES, help="Frames per second of frame rows (recorded; 0: unknown).")] = 0.0,
    unlabelled: Annotated[bool, typer.Option("--unlabelled", help="The imported ids become the store's clips, without labels (a store for `featbench predict --store`); refused for a store with labelled clips.")] = False,
    memory_gb: Annotated[str | None, typer.Option("--memory-gb", metavar="GB", show_default=False, help="The most memory one read may take, in GB (an array as its file declares it, plus its float32 copies); a source declaring more is refused before anything is read. Default: FEATBENCH_IMPORT_MEMORY_GB, else half the memory available (auto).")] = None,
) -> None:
    """Import precomputed embeddings into a store as a family: train, compare, fit and predict read it like an extracted one.

    Example: featbench import store/ --family my-encoder --from embeddings/ --describe "my-encoder v2, layer 9"

    The ids are matched with the store's corpus.csv (made by `featbench extract`); ids on one side only are listed.
    Importing the same embeddings again does nothing; other embeddings under a name the store holds are refused.
    """
    from featbench.embeddings import Rows, run_import
    from featbench.errors import FeatbenchError

    try:
        kind = Rows(rows.strip().lower())
    except ValueError:
        raise FeatbenchError(f"--rows '{rows}': choose {', '.join(r.value for r in Rows)}") from None
    typer.echo(run_import(store, family, source, describe, kind, frame_rate, unlabelled, memory_gb).summary())
