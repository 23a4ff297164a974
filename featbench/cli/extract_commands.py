"""`featbench extract`, `transcribe` and `verify`: audio into a store, and the store checked."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from featbench.cli.common import (PANEL_EXECUTION, PANEL_FEATURES, PANEL_OUTPUT, Classes, Device,
                                  Jobs, Layout, Merge, Precision, Progress, Root, Scheduler, StoreArg, app, corpus_table,
                                  device_on, executor_for, record_corpus, report_and_exit, show_progress, user_errors)
from featbench.errors import FeatbenchError

DEFAULT_FAMILIES = "egemaps-func,egemaps-lld,compare-lld,fbank,raw"

Conditions = Annotated[str | None, typer.Option(metavar="LIST", rich_help_panel=PANEL_FEATURES, show_default=False, help="Recording conditions, comma-separated: every family is extracted under each (clean, white:SNR, gain:DB, lowpass:HZ, clip:PERCENT, ...; A+B applies A then B). Stored as FAMILY~CONDITION; clean is the family's own name. Default: clean.")]
ConditionSeed = Annotated[int, typer.Option(metavar="S", rich_help_panel=PANEL_FEATURES, min=0, max=2**32 - 1, help="Seed of the conditions' randomness (noise, talkers, rooms): the same clip, condition and seed give the same audio on any machine and worker count.")]
Folds = Annotated[int | None, typer.Option(metavar="N", rich_help_panel=PANEL_FEATURES, min=2, show_default=False, help="The fold scheme babble talkers are drawn from (a test clip's babble holds no speaker of its training folds); train must use the same. Default: train's default.")]


@app.command()
@user_errors
def extract(
    layout: Layout,
    root: Root,
    features: Annotated[str, typer.Option(metavar="LIST", rich_help_panel=PANEL_FEATURES, show_default=False, help="Feature families, comma-separated (see `featbench families`). Default: egemaps-func, egemaps-lld, compare-lld, fbank, raw.")] = DEFAULT_FAMILIES,
    out: Annotated[Path, typer.Option(metavar="PATH", rich_help_panel=PANEL_OUTPUT, help="Store folder (one HDF5 file per family).")] = Path("store"),
    classes: Classes = None,
    merge: Merge = None,
    jobs: Jobs = 1,
    sample_rate: Annotated[int, typer.Option(metavar="HZ", rich_help_panel=PANEL_FEATURES, help="Resample every clip to this rate (Hz).")] = 16000,
    set_: Annotated[list[str] | None, typer.Option("--set", metavar="FAMILY.OPTION=VALUE", rich_help_panel=PANEL_FEATURES, help="Family option, e.g. --set fbank.n_mels=64 (repeatable).")] = None,
    batch_size: Annotated[int, typer.Option(metavar="N", rich_help_panel=PANEL_EXECUTION, min=1, help="Clips of similar length handed to a family together (pretrained encoders batch where exact).")] = 1,
    progress: Progress = None,
    scheduler: Scheduler = None,
    device: Device = "auto",
    precision: Precision = "float32",
    conditions: Conditions = None,
    condition_seed: ConditionSeed = 0,
    folds: Folds = None,
) -> None:
    """Extract feature families for a corpus into an HDF5 store; re-running resumes.

    Example: featbench extract ravdess ../shared/data/ravdess --features egemaps-func,fbank --out store/ --jobs 2

    With --conditions clean,white:20,... each clip is decoded once and every family extracted under every
    condition (listed in <out>/conditions.json; `featbench verify` lists them).

    Exit code 3 means the run finished but some clips failed (listed in <out>/errors.csv).
    """
    from featbench.audio import AudioConfig
    from featbench.device import Precision as PrecisionChoice
    from featbench.extract import check_families, run_extraction
    from featbench.features import accelerated, with_precision
    from featbench.options import parse_list, parse_settings

    chosen = _conditions(conditions)
    names = parse_list(features, "--features")
    if not names:
        raise FeatbenchError("--features is empty")
    settings = parse_settings(set_)
    stray = sorted(set(settings) - set(names))
    if stray:
        raise FeatbenchError(f"--set names family '{stray[0]}', which is not in --features")
    audio = AudioConfig(sample_rate=sample_rate)
    specs = with_precision([(n, settings.get(n, {})) for n in names], PrecisionChoice.parse(precision))
    metas = check_families(specs, audio)  # every option and model checked before the corpus is read
    with executor_for(scheduler, jobs) as executor:
        on = device_on(executor, device, torch_needed=accelerated(names))
        table = corpus_table(layout, root, classes, merge)
        report = run_extraction(table, specs, out, audio, executor=executor, progress=show_progress(progress),
                                batch_size=batch_size, metas=metas, device=on, conditions=chosen,
                                condition_seed=condition_seed, n_folds=folds)
    record_corpus(out, layout, root)
    report_and_exit(report)


def _conditions(spec: str | None):
    """--conditions parsed (each refused in one line), or None."""
    if spec is None:
        return None
    from featbench.protocol.conditions import parse_conditions

    return parse_conditions(spec)


@app.command()
@user_errors
def degrade(
    layout: Layout,
    root: Root,
    conditions: Annotated[str, typer.Option(metavar="LIST", show_default=False, help="Recording conditions, comma-separated, as for extract --conditions.")],
    clips: Annotated[str, typer.Option(metavar="ID[,ID]", show_default=False, help="The clips to degrade, by id (as `featbench corpus` and corpus.csv name them).")],
    out: Annotated[Path, typer.Option(metavar="DIR", rich_help_panel=PANEL_OUTPUT, help="Folder of the WAV files: <out>/<condition>/<id>.wav.")] = Path("degraded"),
    condition_seed: ConditionSeed = 0,
    folds: Folds = None,
    sample_rate: Annotated[int, typer.Option(metavar="HZ", help="The rate clips are decoded at (as extract --sample-rate).")] = 16000,
) -> None:
    """Write chosen clips under chosen recording conditions to WAV files, for listening.

    Example: featbench degrade ravdess ../shared/data/ravdess --conditions white:10,lowpass:3400 --clips 03-01-05-01-01-01-01 --out degraded/

    The audio is exactly what extract --conditions feeds the families (same seed, same samples), written as
    16-bit PCM: samples beyond [-1, 1] are clipped, and the summary says how many. Exit code 3 means some
    clips could not be decoded or degraded (listed).
    """
    from featbench.audio import AudioConfig
    from featbench.degrade import degrade_clips
    from featbench.options import parse_list

    chosen = _conditions(conditions)
    ids = parse_list(clips, "--clips")
    table = corpus_table(layout, root, None, None)
    report = degrade_clips(table, chosen, ids, out, condition_seed, AudioConfig(sample_rate=sample_rate), folds)
    report_and_exit(report)


@app.command()
@user_errors
def transcribe(
    layout: Layout,
    root: Root,
    model: Annotated[Path, typer.Option(metavar="FOLDER", show_default=False, help="Local Hugging Face Whisper folder with its tokenizer, e.g. ../shared/models/whisper-base.")],
    out: Annotated[Path, typer.Option(metavar="PATH", rich_help_panel=PANEL_OUTPUT, help="Store folder (transcripts go to <out>/transcripts.csv).")] = Path("store"),
    classes: Classes = None,
    merge: Merge = None,
    language: Annotated[str | None, typer.Option(metavar="LANG", help="Force this language (a code such as en, or a name such as english); default: detected per clip.")] = None,
    jobs: Jobs = 1,
    batch_size: Annotated[int, typer.Option(metavar="N", rich_help_panel=PANEL_EXECUTION, min=1, help="Clips of up to 30 s decoded together.")] = 8,
    progress: Progress = None,
    scheduler: Scheduler = None,
    device: Device = "auto",
) -> None:
    """Transcribe a corpus with a Whisper model into a store (greedy decoding); re-running resumes.

    Example: featbench transcribe ravdess ../shared/data/ravdess --model ../shared/models/whisper-base --language en --out store/ --jobs 2

    Clips longer than 30 s are transcribed whole with Whisper's long-form decoding. Where the corpus has
    reference transcripts (RAVDESS sentences, IEMOCAP, a csv 'transcript' column) the word error rate is
    printed. Exit code 3 means the run finished but some clips failed (listed in <out>/errors.csv).
    """
    from featbench.transcribe import check_asr_model, run_transcription

    asr = check_asr_model(model, language)  # the model folder and language checked before the corpus is read
    with executor_for(scheduler, jobs) as executor:
        on = device_on(executor, device)
        table = corpus_table(layout, root, classes, merge)
        report = run_transcription(table, asr, out, executor=executor, batch_size=batch_size,
                                   progress=show_progress(progress), device=on)
    record_corpus(out, layout, root)
    report_and_exit(report)


@app.command()
@user_errors
def verify(
    store: StoreArg,
    repair: Annotated[bool, typer.Option(metavar="", help="Remove damaged clips (and move damaged files aside) so that the next extract redoes them; files unreadable for another reason (permissions, a folder in its place) are left where they are.")] = False,
) -> None:
    """Check every stored clip and every file's index against their checksums; name what is damaged (exit 1 if any).

    Example: featbench verify store/ --repair
    """
    from featbench.store import StoreWriter, list_families, verify as check

    if not Path(store).is_dir() or not list_families(store):
        raise FeatbenchError(f"{store}: not a featbench store (no feature families)")
    from featbench.store.conditions import held_lines

    report = check(store)
    typer.echo("\n".join([*(h.line() for h in report), *held_lines(store)]))
    if all(h.ok for h in report) and not (repair and any(h.rewrite for h in report)):
        return
    if not repair and not all(h.ok for h in report):
        raise FeatbenchError(f"{store}: damaged clips or files found; run again with --repair, then extract again")
    with StoreWriter(store) as writer:
        lines = writer.repair()
    typer.echo("\n".join([*lines, *writer.left]))
    if writer.left:
        raise FeatbenchError(f"{store}: {len(writer.left)} file(s) left in place (not proven damaged: repair moves "
                             "only damaged files); see above")
