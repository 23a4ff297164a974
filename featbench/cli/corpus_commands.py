"""`featbench corpus` and `featbench families`: what a corpus holds and which families exist."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from featbench.cli.common import (Classes, Layout, Merge, Root, app,
                                  corpus_table, user_errors)
from featbench.errors import FeatbenchError


@app.command()
@user_errors
def corpus(
    layout: Layout, root: Root, classes: Classes = None, merge: Merge = None,
    against: Annotated[tuple[str, Path] | None, typer.Option("--against", metavar="LAYOUT ROOT", help="A second corpus (all its clips) to look for this corpus's clips in, once decoded, whatever their names, formats or rates: clips that `train --add-store`/`--test-store` would refuse.")] = None,
    store: Annotated[Path | None, typer.Option(metavar="FOLDER", show_default=False, help="A store of this corpus: also list the recording conditions it holds (extract --conditions), with their families and clip counts.")] = None,
) -> None:
    """Summarise a corpus: utterances per speaker x class, hours, problems found (missing,
    unreadable, too short or duplicate files), near-duplicate clips (the same signal once decoded),
    and the folds train would make, with the test clips per class in each.

    Example: featbench corpus ravdess ../shared/data/ravdess --classes neutral,happy,sad,angry
    """
    from featbench.corpus import load_corpus
    from featbench.corpus.balance import speaker_balance
    from featbench.corpus.duplicates import duplicate_lines, shared_lines
    from featbench.corpus.loaders import find_problems
    from featbench.corpus.table import summary_text
    from featbench.train.protocol import preview

    if store is not None and not store.is_dir():
        raise FeatbenchError(f"--store {store}: no such store folder")
    table = corpus_table(layout, root, classes, merge)
    other = load_corpus(against[0], against[1]) if against else None  # every problem with it before any decoding
    typer.echo(summary_text(table, find_problems(table), name=f"{layout} ({root})"))
    typer.echo("\n".join(duplicate_lines(table)))
    if other is not None:
        typer.echo("\n".join(shared_lines(table, other, (f"{layout} ({root})", f"{against[0]} ({against[1]})"))))
    typer.echo(preview(table))
    typer.echo("\n".join(speaker_balance(table["speaker"], table["label"]).lines(
        f"these {len(table)} clips (a store extracted with these options holds them; train's per-speaker statistics "
        "read every clip of the store, whatever its --classes)")))
    if store is not None:
        from featbench.store.conditions import held_lines

        typer.echo("\n".join(held_lines(store) or [f"{store}: clean features only (no recording conditions)"]))


@app.command()
@user_errors
def families(
    check: Annotated[str | None, typer.Option("--check", metavar="NAME", help="Run the conformance checks on family NAME (built-in or plug-in) on three short synthetic clips: one line per check, exit 1 if any fails.")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", metavar="NAME.OPTION=VALUE", help="With --check: an option of the family checked (default: its defaults), e.g. --set whisper.model=models/whisper-base (repeatable).")] = None,
    timeout: Annotated[float, typer.Option(metavar="SECONDS", min=0.001, max=1e6, help="With --check: the time limit of each check; one that does not finish fails (the family hangs?) and the others still run.")] = 300.0,
) -> None:
    """List the feature families (built-in, and plug-ins of installed packages) and their options.

    Example: featbench families --check fbank
    """
    from featbench.options import parse_settings

    settings = parse_settings(set_)
    stray = sorted(set(settings) - {check})
    if stray:
        raise FeatbenchError(f"--set names family '{stray[0]}'; it sets options of the family given to --check")
    if check is not None:
        from featbench.conformance import check_family

        result = check_family(check, settings.get(check, {}), limit=timeout)
        typer.echo("\n".join(result.lines()))
        if not result.ok:
            raise typer.Exit(1)
        return
    from featbench.features import FAMILIES, all_families
    from featbench.features.plugins import ENTRY_POINT_GROUP, discover

    origins = {p.name: p.origin for p in discover(frozenset(FAMILIES)) if p.family is not None}
    for name, cls in all_families().items():
        options = ", ".join(f"{f.name}={f.default}" for f in dataclasses.fields(cls.Config))
        plugin = f" [plug-in: {origins[name]}]" if name in origins else ""
        typer.echo(f"{name:14s} {cls.description}{plugin}" + (f"\n{'':14s} options: {options}" if options else ""))
    typer.echo("\nEvery family also takes the storage options dtype=float32 (or float16: half the store) and pooled=false "
               "(true: frame-level families keep one row of mean and std per utterance, for the utterance-level classifiers).")
    unused = [p.line() for p in discover(frozenset(FAMILIES)) if p.family is None]
    if unused:
        typer.echo(f"\nNot used ({ENTRY_POINT_GROUP} entry points):\n" + "\n".join(unused))
