"""`featbench train`: the benchmark grid."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from featbench.cli.common import (PANEL_CLASSIFIERS, PANEL_FEATURES, PANEL_OUTPUT, PANEL_PROTOCOL, Classes, Device,
                                  Jobs, Merge, Progress, Scheduler, StoreArg, app, check_store_folder, device_on, executor_for,
                                  show_progress, user_errors)
from featbench.errors import FeatbenchError

Features = Annotated[str | None, typer.Option(metavar="VIEWS", rich_help_panel=PANEL_FEATURES, help=(
    "Views to train on, comma-separated (default: every family in the store): a family; an all-layer family "
    "also as name@L4, name@all, name@auto (layer chosen on validation speakers) or name@weighted (learned "
    "layer weights); a+b combines two views."))]
Classifiers = Annotated[str | None, typer.Option(metavar="LIST", rich_help_panel=PANEL_CLASSIFIERS, help=(
    "logreg, svm, lgbm, mlp; selected (chosen per fold on validation speakers among the others, or "
    "selected(logreg+svm)); seq (sequence model); fusion (attention over a+b). With --target: ridge, svr, "
    "lgbm, mlp, selected, seq. Default: logreg,svm,lgbm,mlp (with --target ridge,svr,lgbm,mlp)."))]
SeqEpochs = Annotated[int, typer.Option(metavar="N", rich_help_panel=PANEL_CLASSIFIERS, min=1,
                                        help="Maximum epochs of the sequence model.")]
Budgets = Annotated[str | None, typer.Option(metavar="LIST", rich_help_panel=PANEL_PROTOCOL, help=(
    "Training examples per class (or fractions, e.g. 0.25), comma-separated, plus 'all'. Default: 4, 8, 16, "
    "... up to what every fold can serve, then all."))]
Folds = Annotated[int | None, typer.Option(metavar="K", rich_help_panel=PANEL_PROTOCOL, min=2, help=(
    "Speaker-group folds. Default: leave-one-group-out up to 10 groups, else the largest k <= 10 that "
    "keeps every class in every part."))]
Seeds = Annotated[str, typer.Option(metavar="LIST", rich_help_panel=PANEL_PROTOCOL,
                                    help="Seeds of the budget subsets and models.")]
Normalise = Annotated[str, typer.Option(metavar="KIND", rich_help_panel=PANEL_PROTOCOL, help=(
    "training (standardised on the training rows); per-speaker (on each speaker's clips, labels unread; "
    "refused where most speakers hold mostly one class); per-speaker:K (K clips each); per-corpus (each "
    "store or condition on its own)."))]
PoolingOption = Annotated[str, typer.Option("--pooling", metavar="KIND", rich_help_panel=PANEL_PROTOCOL,
                                             show_default=False, help=(
    "mean+std (default), mean or attentive."))]
AllowConfoundedSpeakers = Annotated[bool, typer.Option("--confounded-ok", rich_help_panel=PANEL_PROTOCOL, help=(
    "Run per-speaker normalisation even where most speakers hold mostly one class; rows say "
    "speakers_confounded."))]
Target = Annotated[str | None, typer.Option(metavar="COLUMN", rich_help_panel=PANEL_PROTOCOL, help=(
    "Regress this numeric column of the store's corpus.csv (e.g. arousal) instead of classifying: metric CCC, "
    "budgets in utterances."))]
TestStore = Annotated[Path | None, typer.Option(metavar="STORE", rich_help_panel=PANEL_PROTOCOL, help=(
    "Cross-corpus: train on STORE, test on this store's speaker folds."))]
AddStore = Annotated[Path | None, typer.Option(metavar="STORE", rich_help_panel=PANEL_PROTOCOL, help=(
    "Transfer: add every utterance of this store to STORE's training budgets."))]
ValidateOn = Annotated[str | None, typer.Option(metavar="WHERE", rich_help_panel=PANEL_PROTOCOL, help=(
    "Two stores: where layers, classifiers and hyper-parameters are chosen: source (default: held-out "
    "training speakers) or target (target speakers outside the test fold; spends target labels)."))]
TrainCondition = Annotated[str, typer.Option(metavar="C", rich_help_panel=PANEL_PROTOCOL, show_default=False, help=(
    "Training clips' recording condition: clean (default), babble:10, multi:C1,C2."))]
TestCondition = Annotated[str | None, typer.Option(metavar="LIST", rich_help_panel=PANEL_PROTOCOL, help=(
    "Test conditions, each scored by the same models (default: C; clean for multi)."))]
Out = Annotated[Path, typer.Option(metavar="PATH", rich_help_panel=PANEL_OUTPUT,
                                  help="Results CSV (rows are appended; existing rows are skipped).")]
Corpus = Annotated[str | None, typer.Option(metavar="NAME", rich_help_panel=PANEL_OUTPUT, help=(
    "Corpus name written into every row and report title (default: the tested store's corpus as extract named "
    "it, e.g. ravdess; else its folder's name)."))]


@app.command()
@user_errors
def train(
    store: StoreArg,
    features: Features = None,
    classifiers: Classifiers = None,
    seq_epochs: SeqEpochs = 30,
    budgets: Budgets = None,
    folds: Folds = None,
    seeds: Seeds = "0,1,2",
    classes: Classes = None,
    merge: Merge = None,
    normalise: Normalise = "training",
    pooling: PoolingOption = "mean+std",
    allow_confounded_speakers: AllowConfoundedSpeakers = False,
    target: Target = None,
    test_store: TestStore = None,
    add_store: AddStore = None,
    validate_on: ValidateOn = None,
    train_condition: TrainCondition = "clean",
    test_condition: TestCondition = None,
    out: Out = Path("results.csv"),
    corpus: Corpus = None,
    jobs: Jobs = 1,
    progress: Progress = None,
    scheduler: Scheduler = None,
    device: Device = "auto",
) -> None:
    """Train comparable classifiers on growing per-class budgets under speaker-independent folds.

    Example: featbench train store/ --classes neutral,happy,sad,angry --budgets 8,16,32,64,all --folds 6 --out results.csv

    Two corpora: featbench train storeA/ --test-store storeB/ (train on A, test on B's folds), or
    featbench train storeB/ --add-store storeA/ (B's budgets plus all of A); --classes and --merge apply to both.

    Dimensional target: featbench train store/ --target arousal --classifiers ridge,svr,selected --budgets 64,256,all
    """
    check_store_folder(store)
    from featbench.corpus.table import parse_classes, parse_merge
    from featbench.options import parse_list
    from featbench.protocol.conditions import split_stored_name
    from featbench.results import Normalisation
    from featbench.store import list_families
    from featbench.train import Experiment, parse_budgets, parse_seeds, run_training
    from featbench.train.classifiers import DEFAULT_CLASSIFIERS, DEFAULT_REGRESSORS

    names = parse_list(features, "--features") or [f for f in list_families(store) if not split_stored_name(f)[1]]
    if not names:
        raise FeatbenchError(f"{store}: empty store (no feature families); run featbench extract first")
    default = DEFAULT_REGRESSORS if target else DEFAULT_CLASSIFIERS
    entries = parse_list(default if classifiers is None else classifiers, "--classifiers")
    exp = Experiment(store=store, families=names, classifiers=entries, budgets=parse_budgets(budgets) if budgets else None,
                     seeds=parse_seeds(seeds), n_folds=folds, classes=parse_classes(classes), merge=parse_merge(merge),
                     corpus=corpus or "", seq_epochs=seq_epochs, test_store=test_store, add_store=add_store,
                     normalisation=Normalisation.parse(normalise), target=target, allow_confounded_speakers=allow_confounded_speakers,
                     validate_on=validate_on, train_condition=train_condition, test_conditions=test_condition,
                     pooling=pooling)
    with executor_for(scheduler, jobs) as executor:  # the sequence model, fusion and layer weights run on --device
        on = device_on(executor, device)
        typer.echo(run_training(exp, out, executor=executor, progress=show_progress(progress), device=on).summary())
