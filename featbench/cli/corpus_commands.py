"""`featbench corpus` and `featbench families`: what a corpus holds and which families exist."""
from __future__ import annotations


import typer

from featbench.cli.common import (Classes, Layout, Merge, Root, app,
                                  corpus_table, user_errors)


@app.command()
@user_errors
def corpus(layout: Layout, root: Root, classes: Classes = None, merge: Merge = None) -> None:
    """Summarise a corpus: utterances per speaker x class, hours, and problems found (missing,
    unreadable, too short or duplicate files).

    Example: featbench corpus ravdess ../shared/data/ravdess --classes neutral,happy,sad,angry
    """
    from featbench.corpus.balance import speaker_balance
    from featbench.corpus.loaders import find_problems
    from featbench.corpus.table import summary_text
    from featbench.train.protocol import preview

    table = corpus_table(layout, root, classes, merge)
    typer.echo(summary_text(table, find_problems(table), name=f"{layout} ({root})"))
    typer.echo(preview(table))
    typer.echo("\n".join(speaker_balance(table["speaker"], table["label"]).lines(
        f"these {len(table)} clips (a store extracted with these options holds them; train's per-speaker statistics "
        "read every clip of the store, whatever its --classes)")))


@app.command()
@user_errors
def families() -> None:
    """List the feature families and their options."""
    import dataclasses

    from featbench.features import FAMILIES

    for name, cls in FAMILIES.items():
        options = ", ".join(f"{f.name}={f.default}" for f in dataclasses.fields(cls.Config))
        typer.echo(f"{name:14s} {cls.description}" + (f"\n{'':14s} options: {options}" if options else ""))
    typer.echo("\nEvery family also takes the storage options dtype=float32 (or float16: half the store) and pooled=false "
               "(true: frame-level families keep one row of mean and std per utterance, for the utterance-level classifiers).")
