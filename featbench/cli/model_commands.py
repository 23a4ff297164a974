"""`featbench fit` and `featbench predict`: one model saved, then used on new clips."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from featbench.cli.common import (PANEL_CLASSIFIERS, PANEL_EXECUTION, PANEL_FEATURES, PANEL_OUTPUT,
                                  PANEL_PROTOCOL, Classes, Device, Jobs, Merge, Progress, StoreArg, UsageHint, app,
                                  check_store_folder, device_on, executor_for, report_and_exit, show_progress,
                                  user_errors)
from featbench.errors import FeatbenchError


@app.command()
@user_errors
def fit(
    store: StoreArg,
    features: Annotated[str, typer.Option(metavar="VIEW", rich_help_panel=PANEL_FEATURES, show_default=False, help="One view, as `featbench train --features` names it: a family, name@L4, name@auto, name@weighted, or a+b.")],
    classifier: Annotated[str, typer.Option(metavar="ENTRY", rich_help_panel=PANEL_CLASSIFIERS, show_default=False, help="One utterance-level entry: logreg, svm, lgbm, mlp, selected, or selected(logreg+svm).")],
    out: Annotated[Path, typer.Option(metavar="PATH", rich_help_panel=PANEL_OUTPUT, help="Model folder to write (new, empty, or an earlier model folder, which is replaced).")] = Path("model"),
    classes: Classes = None,
    merge: Merge = None,
    seed: Annotated[str, typer.Option(metavar="INTEGER", rich_help_panel=PANEL_PROTOCOL, help="Seed of the budget subset, the validation split and the classifier.")] = "0",
    budget: Annotated[str, typer.Option(metavar="N|FRACTION|all", rich_help_panel=PANEL_PROTOCOL, help="Training examples per class (or a fraction of each class, e.g. 0.25), or 'all'.")] = "all",
    holdout_fold: Annotated[int | None, typer.Option(metavar="FOLD", rich_help_panel=PANEL_PROTOCOL, min=0, help="Train on the training part of this fold only (of the folds `featbench train --folds N` makes), to reproduce a benchmark row.")] = None,
    folds: Annotated[int | None, typer.Option(metavar="K", rich_help_panel=PANEL_PROTOCOL, min=2, help="Number of folds of --holdout-fold (default: as `featbench train`).")] = None,
    corpus: Annotated[str | None, typer.Option(metavar="NAME", rich_help_panel=PANEL_OUTPUT, help="Corpus name recorded in the manifest (default: the store's corpus as extract named it, else the store folder's name).")] = None,
    normalise: Annotated[str, typer.Option(metavar="KIND", rich_help_panel=PANEL_PROTOCOL, help="'training', or 'per-speaker' / 'per-speaker:K' as in `featbench train` (predict then standardises each speaker on the clips it is given of them).")] = "training",
    allow_confounded_speakers: Annotated[bool, typer.Option("--confounded-ok", metavar="", rich_help_panel=PANEL_PROTOCOL, help="As `featbench train --confounded-ok`: per-speaker normalisation even where most speakers' clips are dominated by one class.")] = False,
    train_condition: Annotated[str, typer.Option(metavar="CONDITION", rich_help_panel=PANEL_PROTOCOL, help="As `featbench train --train-condition`: the recording condition of the training clips (clean, e.g. babble:10, or multi:C1,C2); the manifest records it.")] = "clean",
) -> None:
    """Train one view and classifier on a store as the benchmark does (choices on validation speakers) and save it.

    Example: featbench fit store/ --features whisper@weighted --classifier "selected(logreg+svm)" --out model/
    """
    check_store_folder(store)  # before the heavy imports: a mistyped store is one line at once
    from featbench.corpus.table import parse_classes, parse_merge
    from featbench.model import FitSpec, fit_model
    from featbench.model.folder import check_writable
    from featbench.options import parse_int
    from featbench.results import Normalisation
    from featbench.train import parse_budgets
    from featbench.train.protocol import MAX_SEED

    seed_value = parse_int(seed, "--seed", maximum=MAX_SEED)
    chosen = parse_budgets(budget)
    if len(chosen) != 1:
        raise FeatbenchError(f"--budget '{budget}': give one budget")
    check_writable(out)  # before the work, not after it
    result = fit_model(FitSpec.of(store, features, classifier, seed_value, chosen[0], holdout_fold,
                                  classes=parse_classes(classes), merge=parse_merge(merge), n_folds=folds,
                                  corpus=corpus or "", normalisation=Normalisation.parse(normalise),
                                  allow_confounded_speakers=allow_confounded_speakers, train_condition=train_condition))
    result.model.save(out)
    typer.echo(result.summary(out))


@app.command()
@user_errors
def predict(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="Model folder made by `featbench fit`.")],
    inputs: Annotated[list[Path], typer.Argument(metavar="INPUT...", show_default=False, help="Audio files and/or folders (searched recursively); with --layout, the corpus root (or the CSV manifest for csv).")],
    layout: Annotated[str | None, typer.Option(metavar="LAYOUT", help="Read INPUT as a corpus layout (csv, ravdess, emodb, cremad, tess, iemocap, demo): the true labels are known and UA is printed.")] = None,
    out: Annotated[Path, typer.Option(metavar="PATH", rich_help_panel=PANEL_OUTPUT, help="Predictions CSV: id, path, label (when known), predicted, p_<class>, model (the model's fingerprint); clips that failed are listed in <out stem>_errors.csv. An existing file is replaced only if it holds predictions of the same model; never inside the model folder.")] = Path("predictions.csv"),
    holdout_only: Annotated[bool, typer.Option(metavar="", help="Keep only the clips of the speakers the model held out (a model fitted with --holdout-fold; needs --layout).")] = False,
    store: Annotated[Path | None, typer.Option(metavar="FOLDER", help="Keep the extracted features in this store folder, reused by later runs (default: a temporary folder). A store with labelled clips (made by extract) takes only the clips it holds, unchanged.")] = None,
    jobs: Jobs = 1,
    batch_size: Annotated[int, typer.Option(metavar="N", rich_help_panel=PANEL_EXECUTION, min=1, help="Clips of similar length handed to a family together.")] = 1,
    progress: Progress = None,
    speaker: Annotated[str | None, typer.Option(metavar="NAME", help="Every input is this one speaker's (for a model fitted with --normalise per-speaker; with --layout the corpus names the speakers).")] = None,
    device: Device = "auto",
    condition: Annotated[str | None, typer.Option(metavar="CONDITION", show_default=False, help="Degrade every clip by this recording condition before its features are extracted, as extract --conditions does (white:SNR, gain:DB, lowpass:HZ, clip:PERCENT, A+B, ...; not babble, which needs a corpus). Default: the clips as they are.")] = None,
    condition_seed: Annotated[int, typer.Option(metavar="S", min=0, max=2**32 - 1, help="Seed of the condition's randomness (as extract --condition-seed).")] = 0,
) -> None:
    """Label clips with a model folder: features extracted exactly as `featbench extract` does, then the model.

    Example: featbench predict model/ new_clips/ --out predictions.csv

    Exit code 3 means some clips could not be labelled (listed, with reasons, in <out stem>_errors.csv).
    """
    _check_predict_arguments(model, inputs, layout)  # before torch and the model are loaded (seconds)
    if condition is not None:
        from featbench.protocol.conditions import parse_condition

        parse_condition(condition)  # a bad spelling: one line before the model is loaded
    from featbench.model import run_prediction

    with executor_for(None, jobs) as executor:
        on = device_on(executor, device)  # the model's neural families extract there
        report = run_prediction(model, inputs, out, layout=layout, holdout_only=holdout_only, store=store,
                                executor=executor, batch_size=batch_size, progress=show_progress(progress),
                                speaker=speaker, device=on, condition=condition, condition_seed=condition_seed)
    report_and_exit(report)


def _check_predict_arguments(model: Path, inputs: list[Path], layout: str | None) -> None:
    """What predict can refuse from the paths alone, in one line, before anything heavy is imported: a missing
    model folder or input, and the old spelling `predict MODEL csv FILE` (the layout is the --layout option)."""
    if not model.is_dir():
        raise FeatbenchError(f"{model}: no such model folder (make one with featbench fit)")
    missing = [item for item in inputs if not item.expanduser().exists()]
    if layout is None and missing and missing[0] == inputs[0]:
        from featbench.corpus.loaders import LOADERS

        if str(inputs[0]).strip().lower() in LOADERS:
            rest = " ".join(str(item) for item in inputs[1:]) or "ROOT"
            raise UsageHint(f"predict: '{inputs[0]}' is a corpus layout, not an input; the layout is an option now: "
                            f"featbench predict {model} --layout {inputs[0]} {rest}")
    if missing:
        raise FeatbenchError(f"{missing[0]}: no such file or folder")
