"""The featbench command line: thin wiring over the library, one library call per command.

Exit codes: 0 success; 1 error (one line on stderr, no traceback); 2 bad usage;
3 partial extraction or transcription (some clips failed; see errors.csv in the store).
"""
from __future__ import annotations

import contextlib
import functools
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from featbench.errors import CorruptStoreError, FeatbenchError
from featbench.executors import SCHEDULER_HELP

EXIT_PARTIAL = 3
DEFAULT_FAMILIES = "egemaps-func,egemaps-lld,compare-lld,fbank,raw"

app = typer.Typer(
    name="featbench",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Which audio representation for speech emotion recognition, and how many labelled examples? "
    "corpus -> extract -> train -> compare. Run `featbench demo` for the whole chain on a built-in corpus.",
)


def _user_errors(command):
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


def _version(value: bool) -> None:
    if value:
        from featbench import __version__

        typer.echo(f"featbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = None,
) -> None:
    """featbench: feature families x data budgets for speech emotion recognition."""


Layout = Annotated[str, typer.Argument(help="Corpus layout: csv, ravdess, emodb, cremad, tess, iemocap, demo.")]
Root = Annotated[Path, typer.Argument(help="Corpus root folder (or the CSV manifest for 'csv').")]
Classes = Annotated[Optional[str], typer.Option(help="Keep only these labels, comma-separated (after --merge).")]
Merge = Annotated[Optional[str], typer.Option(help="Merge labels, e.g. 'excited=happy, calm=neutral'.")]


Scheduler = Annotated[Optional[str], typer.Option(help=SCHEDULER_HELP)]


@contextlib.contextmanager
def _executor(scheduler: Optional[str], jobs: int):
    """Where the command's tasks run: `jobs` local processes, or the --scheduler cluster (described on stderr);
    released when the command ends."""
    from featbench.executors import Dask, Local

    if scheduler is not None and jobs != 1:
        raise FeatbenchError("--jobs and --scheduler exclude each other: with --scheduler the cluster's workers do the work")
    with (Local(jobs) if scheduler is None else Dask(scheduler)) as executor:
        if scheduler is not None:
            typer.echo(executor.describe(), err=True)
        yield executor


def _table(layout: str, root: Path, classes: Optional[str], merge: Optional[str]):
    from featbench.corpus import load_corpus
    from featbench.corpus.table import parse_classes, parse_merge

    return load_corpus(layout, root, parse_classes(classes), parse_merge(merge))


@app.command()
@_user_errors
def corpus(layout: Layout, root: Root, classes: Classes = None, merge: Merge = None) -> None:
    """Summarise a corpus: utterances per speaker x class, hours, and problems found (missing,
    unreadable, too short or duplicate files).

    Example: featbench corpus ravdess ../shared/data/ravdess --classes neutral,happy,sad,angry
    """
    from featbench.corpus.balance import speaker_balance
    from featbench.corpus.loaders import find_problems
    from featbench.corpus.table import summary_text
    from featbench.train.protocol import preview

    table = _table(layout, root, classes, merge)
    typer.echo(summary_text(table, find_problems(table), name=f"{layout} ({root})"))
    typer.echo(preview(table))
    typer.echo("\n".join(speaker_balance(table["speaker"], table["label"]).lines(
        f"these {len(table)} clips (a store extracted with these options holds them; train's per-speaker statistics "
        "read every clip of the store, whatever its --classes)")))


@app.command()
@_user_errors
def families() -> None:
    """List the feature families and their options."""
    import dataclasses

    from featbench.features import FAMILIES

    for name, cls in FAMILIES.items():
        options = ", ".join(f"{f.name}={f.default}" for f in dataclasses.fields(cls.Config))
        typer.echo(f"{name:14s} {cls.description}" + (f"\n{'':14s} options: {options}" if options else ""))
    typer.echo("\nEvery family also takes the storage options dtype=float32 (or float16: half the store) and pooled=false "
               "(true: frame-level families keep one row of mean and std per utterance, for the utterance-level classifiers).")


@app.command()
@_user_errors
def extract(
    layout: Layout,
    root: Root,
    features: Annotated[str, typer.Option(show_default=False, help="Feature families, comma-separated (see `featbench families`). Default: egemaps-func, egemaps-lld, compare-lld, fbank, raw.")] = DEFAULT_FAMILIES,
    out: Annotated[Path, typer.Option(help="Store folder (one HDF5 file per family).")] = Path("store"),
    classes: Classes = None,
    merge: Merge = None,
    jobs: Annotated[int, typer.Option(min=1, help="Parallel worker processes.")] = 1,
    sample_rate: Annotated[int, typer.Option(help="Resample every clip to this rate (Hz).")] = 16000,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Family option, e.g. --set fbank.n_mels=64 (repeatable).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Clips of similar length handed to a family together (pretrained encoders batch where exact).")] = 1,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    scheduler: Scheduler = None,
) -> None:
    """Extract feature families for a corpus into an HDF5 store; re-running resumes.

    Example: featbench extract ravdess ../shared/data/ravdess --features egemaps-func,fbank --out store/ --jobs 2

    Exit code 3 means the run finished but some clips failed (listed in <out>/errors.csv).
    """
    from featbench.audio import AudioConfig
    from featbench.extract import check_families, run_extraction
    from featbench.options import parse_list, parse_settings

    names = parse_list(features, "--features")
    if not names:
        raise FeatbenchError("--features is empty")
    settings = parse_settings(set_)
    stray = sorted(set(settings) - set(names))
    if stray:
        raise FeatbenchError(f"--set names family '{stray[0]}', which is not in --features")
    audio = AudioConfig(sample_rate=sample_rate)
    specs = [(n, settings.get(n, {})) for n in names]
    metas = check_families(specs, audio)  # every option and model checked before the corpus is read
    with _executor(scheduler, jobs) as executor:
        table = _table(layout, root, classes, merge)
        report = run_extraction(table, specs, out, audio, executor=executor, progress=progress, batch_size=batch_size,
                                metas=metas)
    typer.echo(report.summary())
    if report.partial:
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
@_user_errors
def transcribe(
    layout: Layout,
    root: Root,
    model: Annotated[Path, typer.Option(show_default=False, help="Local Hugging Face Whisper folder with its tokenizer, e.g. ../shared/models/whisper-base.")],
    out: Annotated[Path, typer.Option(help="Store folder (transcripts go to <out>/transcripts.csv).")] = Path("store"),
    classes: Classes = None,
    merge: Merge = None,
    language: Annotated[Optional[str], typer.Option(help="Force this language (a code such as en, or a name such as english); default: detected per clip.")] = None,
    jobs: Annotated[int, typer.Option(min=1, help="Parallel worker processes.")] = 1,
    batch_size: Annotated[int, typer.Option(min=1, help="Clips of up to 30 s decoded together.")] = 8,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    scheduler: Scheduler = None,
) -> None:
    """Transcribe a corpus with a Whisper model into a store (greedy decoding); re-running resumes.

    Example: featbench transcribe ravdess ../shared/data/ravdess --model ../shared/models/whisper-base --language en --out store/ --jobs 2

    Clips longer than 30 s are transcribed whole with Whisper's long-form decoding. Where the corpus has
    reference transcripts (RAVDESS sentences, IEMOCAP, a csv 'transcript' column) the word error rate is
    printed. Exit code 3 means the run finished but some clips failed (listed in <out>/errors.csv).
    """
    from featbench.transcribe import check_asr_model, run_transcription

    asr = check_asr_model(model, language)  # the model folder and language checked before the corpus is read
    with _executor(scheduler, jobs) as executor:
        table = _table(layout, root, classes, merge)
        report = run_transcription(table, asr, out, executor=executor, batch_size=batch_size, progress=progress)
    typer.echo(report.summary())
    if report.partial:
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
@_user_errors
def train(
    store: Annotated[Path, typer.Argument(help="Feature store folder made by `featbench extract`.")],
    out: Annotated[Path, typer.Option(help="Results CSV (rows are appended; existing rows are skipped).")] = Path("results.csv"),
    features: Annotated[Optional[str], typer.Option(help="Families to train on, comma-separated (default: every family in the store). "
                                                    "An all-layer family also as name@L4, name@all, name@auto (layer chosen on validation "
                                                    "speakers), name@weighted (learned layer weights); a+b combines two views (fusion).")] = None,
    classifiers: Annotated[Optional[str], typer.Option(help="logreg, svm, lgbm, mlp (utterance level); selected (chosen per fold on validation "
                                                  "speakers among the others named, or all; selected(logreg+svm) for a subset); seq "
                                                  "(sequence model); fusion (cross-modal attention over a+b). With --target: the "
                                                  "regressors ridge, svr, lgbm, mlp, selected (by validation CCC), seq. "
                                                  "Default: logreg,svm,lgbm,mlp; with --target ridge,svr,lgbm,mlp.")] = None,
    budgets: Annotated[Optional[str], typer.Option(help="Training examples per class (or fractions of each class, e.g. 0.25), comma-separated, plus 'all' (default: 4, 8, 16, ... up to what every fold's training part can serve, then all).")] = None,
    folds: Annotated[Optional[int], typer.Option(min=2, help="Group folds, each with every class in its test and training part (default: leave-one-group-out when every group has every class and there are at most 10, else the largest k up to 10 that works).")] = None,
    seeds: Annotated[str, typer.Option(help="Seeds for the budget subsets and models, comma-separated.")] = "0,1,2",
    classes: Classes = None,
    merge: Merge = None,
    corpus: Annotated[Optional[str], typer.Option(help="Corpus name written into every row: the tested corpus (default: the folder name of the store whose speakers are tested).")] = None,
    seq_epochs: Annotated[int, typer.Option(min=1, help="Maximum epochs of the sequence model.")] = 30,
    jobs: Annotated[int, typer.Option(min=1, help="Parallel worker processes.")] = 1,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    test_store: Annotated[Optional[Path], typer.Option(help="Cross-corpus: train on STORE, test on this store's speaker folds (rows named 'family \\[from STORE]').")] = None,
    add_store: Annotated[Optional[Path], typer.Option(help="Transfer: add every utterance of this store to each of STORE's training budgets (rows named 'family \\[+OTHER]').")] = None,
    validate_on: Annotated[Optional[str], typer.Option(help="With --test-store or --add-store: where layers, classifiers and hyper-parameters are chosen. 'source' (default): held-out speakers of the training subset (in a cross-corpus run, the training corpus's). 'target': the target corpus's speakers outside the test fold (no test speaker is read, but it spends labels of the target corpus; rows named 'family \\[from A, validated on target]').")] = None,
    normalise: Annotated[str, typer.Option(help="'training' (features standardised on the training rows, by each classifier); 'per-speaker' (each speaker's pooled features on the mean and std of all that speaker's clips, labels unread, test speakers' included: rows' column normalisation is per-speaker, shown as 'view \\[per-speaker normalisation]' in reports; refused where more than half of a corpus's speakers have their clips dominated by one class, as `featbench corpus` shows), or 'per-speaker:K' (on K of each speaker's clips, drawn at random); with two stores also 'per-corpus' (each corpus on its own mean and std).")] = "training",
    allow_confounded_speakers: Annotated[bool, typer.Option("--confounded-ok", help="Run --normalise per-speaker even where more than half of a corpus's speakers have their clips dominated by one class (their statistics then remove the emotion with the voice); rows' column speakers_confounded is True, shown as 'view \\[per-speaker normalisation, speakers confounded]' in reports.")] = False,
    scheduler: Scheduler = None,
    target: Annotated[Optional[str], typer.Option(help="Regress this numeric column of the store's corpus.csv (e.g. arousal) instead of "
                                                 "classifying the labels: metric CCC, budgets in training utterances, folds and "
                                                 "budgets balanced over quartiles of the target; utterances without a value are "
                                                 "left out.")] = None,
) -> None:
    """Train comparable classifiers on growing per-class budgets under speaker-independent folds.

    Example: featbench train store/ --classes neutral,happy,sad,angry --budgets 8,16,32,64,all --folds 6 --out results.csv

    Two corpora: featbench train storeA/ --test-store storeB/ (train on A, test on B's folds), or featbench train
    storeB/ --add-store storeA/ (B's budgets plus all of A); --classes and --merge apply to both.

    Dimensional target: featbench train store/ --target arousal --classifiers ridge,svr,selected --budgets 64,256,all
    """
    from featbench.corpus.table import parse_classes, parse_merge
    from featbench.options import parse_list
    from featbench.results import Normalisation
    from featbench.store import list_families
    from featbench.train import Experiment, parse_budgets, parse_seeds, run_training
    from featbench.train.classifiers import DEFAULT_CLASSIFIERS, DEFAULT_REGRESSORS

    names = parse_list(features, "--features") or list_families(store)
    if not names:
        raise FeatbenchError(f"{store}: empty store (no feature families); run featbench extract first")
    default = DEFAULT_REGRESSORS if target else DEFAULT_CLASSIFIERS
    entries = parse_list(default if classifiers is None else classifiers, "--classifiers")
    exp = Experiment(store=store, families=names, classifiers=entries, budgets=parse_budgets(budgets) if budgets else None,
                     seeds=parse_seeds(seeds), n_folds=folds, classes=parse_classes(classes), merge=parse_merge(merge),
                     corpus=corpus or "", seq_epochs=seq_epochs, test_store=test_store, add_store=add_store,
                     normalisation=Normalisation.parse(normalise), target=target, allow_confounded_speakers=allow_confounded_speakers,
                     validate_on=validate_on)
    with _executor(scheduler, jobs) as executor:
        typer.echo(run_training(exp, out, executor=executor, progress=progress).summary())


@app.command()
@_user_errors
def fit(
    store: Annotated[Path, typer.Argument(help="Feature store folder made by `featbench extract`.")],
    features: Annotated[str, typer.Option(show_default=False, help="One view, as `featbench train --features` names it: a family, name@L4, name@auto, name@weighted, or a+b.")],
    classifier: Annotated[str, typer.Option(show_default=False, help="One utterance-level entry: logreg, svm, lgbm, mlp, selected, or selected(logreg+svm).")],
    out: Annotated[Path, typer.Option(help="Model folder to write (new, empty, or an earlier model folder, which is replaced).")] = Path("model"),
    classes: Classes = None,
    merge: Merge = None,
    seed: Annotated[str, typer.Option(metavar="INTEGER", help="Seed of the budget subset, the validation split and the classifier.")] = "0",
    budget: Annotated[str, typer.Option(help="Training examples per class (or a fraction of each class, e.g. 0.25), or 'all'.")] = "all",
    holdout_fold: Annotated[Optional[int], typer.Option(min=0, help="Train on the training part of this fold only (of the folds `featbench train --folds N` makes), to reproduce a benchmark row.")] = None,
    folds: Annotated[Optional[int], typer.Option(min=2, help="Number of folds of --holdout-fold (default: as `featbench train`).")] = None,
    corpus: Annotated[Optional[str], typer.Option(help="Corpus name recorded in the manifest (default: the store folder's name).")] = None,
    normalise: Annotated[str, typer.Option(help="'training', or 'per-speaker' / 'per-speaker:K' as in `featbench train` (predict then standardises each speaker on the clips it is given of them).")] = "training",
    allow_confounded_speakers: Annotated[bool, typer.Option("--confounded-ok", help="As `featbench train --confounded-ok`: per-speaker normalisation even where most speakers' clips are dominated by one class.")] = False,
) -> None:
    """Train one view and classifier on a store as the benchmark does (choices on validation speakers) and save it.

    Example: featbench fit store/ --features whisper@weighted --classifier "selected(logreg+svm)" --out model/
    """
    from featbench.corpus.table import parse_classes, parse_merge
    from featbench.model import FitSpec, fit_model
    from featbench.model.folder import check_writable
    from featbench.options import parse_int
    from featbench.train import parse_budgets
    from featbench.train.protocol import MAX_SEED

    seed_value = parse_int(seed, "--seed", maximum=MAX_SEED)
    chosen = parse_budgets(budget)
    if len(chosen) != 1:
        raise FeatbenchError(f"--budget '{budget}': give one budget")
    check_writable(out)  # before the work, not after it
    result = fit_model(FitSpec.of(store, features, classifier, seed_value, chosen[0], holdout_fold,
                                  classes=parse_classes(classes), merge=parse_merge(merge), n_folds=folds,
                                  corpus=corpus or "", normalisation=normalise,
                                  allow_confounded_speakers=allow_confounded_speakers))
    result.model.save(out)
    typer.echo(result.summary(out))


@app.command()
@_user_errors
def predict(
    model: Annotated[Path, typer.Argument(help="Model folder made by `featbench fit`.")],
    inputs: Annotated[list[Path], typer.Argument(show_default=False, help="Audio files and/or folders (searched recursively); with --layout, the corpus root (or the CSV manifest for csv).")],
    layout: Annotated[Optional[str], typer.Option(help="Read INPUT as a corpus layout (csv, ravdess, emodb, cremad, tess, iemocap, demo): the true labels are known and UA is printed.")] = None,
    out: Annotated[Path, typer.Option(help="Predictions CSV: id, path, label (when known), predicted, p_<class>, model (the model's fingerprint); clips that failed are listed in <out stem>_errors.csv. An existing file is replaced only if it holds predictions of the same model; never inside the model folder.")] = Path("predictions.csv"),
    holdout_only: Annotated[bool, typer.Option(help="Keep only the clips of the speakers the model held out (a model fitted with --holdout-fold; needs --layout).")] = False,
    store: Annotated[Optional[Path], typer.Option(help="Keep the extracted features in this store folder, reused by later runs (default: a temporary folder). A store with labelled clips (made by extract) takes only the clips it holds, unchanged.")] = None,
    jobs: Annotated[int, typer.Option(min=1, help="Parallel worker processes for the extraction.")] = 1,
    batch_size: Annotated[int, typer.Option(min=1, help="Clips of similar length handed to a family together.")] = 1,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    speaker: Annotated[Optional[str], typer.Option(help="Every input is this one speaker's (for a model fitted with --normalise per-speaker; with --layout the corpus names the speakers).")] = None,
) -> None:
    """Label clips with a model folder: features extracted exactly as `featbench extract` does, then the model.

    Example: featbench predict model/ new_clips/ --out predictions.csv

    Exit code 3 means some clips could not be labelled (listed, with reasons, in <out stem>_errors.csv).
    """
    from featbench.model import run_prediction

    with _executor(None, jobs) as executor:
        report = run_prediction(model, inputs, out, layout=layout, holdout_only=holdout_only, store=store,
                                executor=executor, batch_size=batch_size, progress=progress, speaker=speaker)
    typer.echo(report.summary())
    if report.partial:
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
@_user_errors
def compare(
    results: Annotated[list[Path], typer.Argument(help="Results CSV(s) from `featbench train` (one protocol).")],
    out: Annotated[Path, typer.Option(help="Report folder.")] = Path("report"),
    baseline: Annotated[Optional[str], typer.Option(help="The entry the others are compared against (default: the first): a view ('egemaps-func': its plain entry), or an entry's name as the report shows it ('egemaps-func [per-speaker normalisation]').")] = None,
    baseline_normalisation: Annotated[Optional[str], typer.Option("--baseline-norm", help="The --baseline view's entry of this normalisation (training, per-corpus, per-speaker, per-speaker:K), e.g. --baseline egemaps-func --baseline-norm per-speaker.")] = None,
    reference_budget: Annotated[Optional[str], typer.Option(help="Baseline budget to match (default: its largest).")] = None,
    target_ua: Annotated[Optional[float], typer.Option(min=0.0, max=1.0, help="UA for label-budget planning (default: the baseline's reference score).")] = None,
) -> None:
    """Learning curves, summary tables, data-efficiency ratios and label-budget planning.

    Example: featbench compare results.csv --baseline egemaps-func --target-ua 0.6 --out report/
    """
    from featbench.report.compare import compare as run_compare
    from featbench.results import Normalisation

    normalisation = None if baseline_normalisation is None else Normalisation.parse(baseline_normalisation)
    made = run_compare([str(r) for r in results], out, baseline=baseline, target_ua=target_ua, reference_budget=reference_budget,
                       baseline_normalisation=normalisation)
    typer.echo("\n".join([*made.notes, *made.efficiency, *made.cross_corpus, *made.plans,
                          f"report written to {made.out / 'report.md'} and {made.out / 'report.html'}"]))


results_app = typer.Typer(help="Results files: `featbench results upgrade FILE` rewrites a file of an older schema.",
                          no_args_is_help=True)
app.add_typer(results_app, name="results")


@results_app.command("upgrade")
@_user_errors
def results_upgrade(
    file: Annotated[Path, typer.Argument(help="A results CSV written by an older featbench (results schema 1-2).")],
) -> None:
    """Rewrite a results file of schema 1-2 as schema 3: the same rows and scores, the training data in columns.

    Example: featbench results upgrade results/old.csv
    """
    from featbench.results import SCHEMA, upgrade_file

    typer.echo(f"{file}: {upgrade_file(file)} rows rewritten as results schema {SCHEMA}")


@app.command()
@_user_errors
def verify(
    store: Annotated[Path, typer.Argument(help="Feature store folder made by `featbench extract`.")],
    repair: Annotated[bool, typer.Option(help="Remove damaged clips (and move unreadable files aside) so that the next extract redoes them.")] = False,
) -> None:
    """Check every stored clip and every file's index against their checksums; name what is damaged (exit 1 if any).

    Example: featbench verify store/ --repair
    """
    from featbench.store import StoreWriter, list_families, verify as check

    if not Path(store).is_dir() or not list_families(store):
        raise FeatbenchError(f"{store}: not a featbench store (no feature families)")
    report = check(store)
    typer.echo("\n".join(h.line() for h in report))
    if all(h.ok for h in report) and not (repair and any(h.rewrite for h in report)):
        return
    if not repair and not all(h.ok for h in report):
        raise FeatbenchError(f"{store}: damaged clips or files found; run again with --repair, then extract again")
    with StoreWriter(store) as writer:
        typer.echo("\n".join(writer.repair()))


@app.command()
@_user_errors
def demo(
    out: Annotated[Path, typer.Option(help="Working folder for the demo corpus, store and results.")] = Path("featbench-demo"),
    jobs: Annotated[int, typer.Option(min=1, help="Parallel worker processes.")] = 2,
) -> None:
    """Run the whole chain on the built-in synthetic corpus (no download): generate, extract, train, compare.

    Example: featbench demo --out featbench-demo
    """
    from featbench.demo import run_demo

    with _executor(None, jobs) as executor:
        run_demo(out, executor=executor, echo=typer.echo)


def main() -> None:
    """The console script. BLAS pools default to one thread (featbench parallelises with processes; a
    user's own setting wins), and objects alive at exit are frozen so that the interpreter does not
    spend a garbage collection on them while shutting down."""
    import gc
    import os

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    try:
        app()
    finally:
        gc.freeze()
