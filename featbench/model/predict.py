"""`featbench predict`: label new clips with a model folder.

The clips go through `featbench.extract.run_extraction` with the model's family specs (the very code and
resampling of `featbench extract`) into a store (a temporary one, or a reusable ``store`` folder), their
view matrix is read back as a grid task reads it (`features.view_matrix`) and the model predicts. Every
check that can fail (the model folder, its families and checkpoints, the store, the inputs) runs before
any clip is decoded. A clip that cannot be used is listed with its reason and the others are labelled.

Output: one row per labelled clip: id, path, label (the true one, when the inputs have labels), predicted,
``p_<label>`` per class and ``model`` (the model's fingerprint); clips that failed are listed in
``<out stem>_errors.csv`` (id, path, reason, model; written only when some clip failed). Where these may be
written is checked first (`output.check_out`).

A ``store`` keeps the features: `run_extraction` adds the clips to its ``corpus.csv``. A store with labelled
clips is what `train` reads, so predict may only read and extend the features of clips it already holds, with
the same path, label, speaker and group (the training clips predicted with ``--layout``): anything else would
change what `train` reads (unlabelled rows, relabelled or added clips) and is refused (`check_store_table`).
Stores that predict makes hold no labels unless ``--layout`` gave them, and take any clips. Without a store the features go
to a temporary folder, removed at the end, or by a later run when the run was killed (`remove_stale_shared`).

>>> PREDICT_PREFIX
'featbench-predict-'
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from featbench.device import CPU, Device
from featbench.errors import FeatbenchError
from featbench.executors import Executor, resolve_executor
from featbench.model.output import check_out, errors_path, write_csv

PREDICT_PREFIX = "featbench-predict-"  # temporary stores: <prefix><pid>-<random>, removed by a later run if killed


@dataclass
class PredictReport:
    """What a prediction run did. `partial` is True when some clip could not be labelled."""

    out: Path
    errors_file: Path
    model: str = ""
    labelled: int = 0
    failed: list[dict] = field(default_factory=list)
    ua: float | None = None
    scored: int = 0
    unscored: int = 0
    seen: int = 0  # scored clips of speakers (groups) the model was trained on
    messages: list[str] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        return bool(self.failed)

    def summary(self) -> str:
        lines = [*self.messages, f"{self.out}: {self.labelled} clips labelled with {self.model}, {len(self.failed)} failed"
                 + (f" (listed in {self.errors_file})" if self.failed else "")]
        lines += [f"  failed: {f['path']}: {f['reason']}" for f in self.failed]
        if self.ua is not None:
            other = f"; {self.unscored} clips whose label the model does not know are not scored" if self.unscored else ""
            lines.append(f"UA {self.ua:.1%} over {self.scored} clips with known labels{other}")
            if self.seen:
                lines.append(f"note: {self.seen} of the {self.scored} scored clips are from speakers the model was trained "
                             "on, so this UA is not a held-out score (fit with --holdout-fold, predict with --holdout-only)")
        return "\n".join(lines)


def run_prediction(model_folder: str | Path, inputs: list[Path], out: str | Path, layout: str | None = None,
                   holdout_only: bool = False, store: str | Path | None = None, executor: Executor | None = None,
                   batch_size: int = 1, progress: bool = True, speaker: str | None = None, *,
                   jobs: int | None = None, device: Device = CPU, condition=None, condition_seed: int = 0) -> PredictReport:
    """Label `inputs` (audio files and folders, or with `layout` one corpus root or manifest) with the model in
    `model_folder`; write the predictions CSV `out`. `holdout_only` keeps the clips of the speakers the model
    held out (needs `layout`). `store`: keep the extracted features there (reused by later runs). `speaker`
    names the one speaker of plain audio inputs (a model fitted with per-speaker normalisation standardises
    each speaker's clips on their own mean and std, so it needs to know who speaks). The extraction runs on
    `executor` (default `Local()`; the deprecated `jobs=N` is `Local(N)`), its neural families on `device`.
    `condition` (a spelling or Condition; None or clean: the clips as they are) degrades every clip before its
    features are extracted, as `extract --conditions` does with `condition_seed` (`predict_condition`)."""
    from featbench.model.features import build_metas, check_imported, check_store, view_matrix
    from featbench.model.folder import load_model

    if holdout_only and layout is None:
        raise FeatbenchError("--holdout-only needs --layout: the speakers of plain audio files are unknown")
    executor = resolve_executor(executor, jobs, caller="run_prediction")
    model = load_model(model_folder)
    condition = predict_condition(model, condition, condition_seed)
    out = Path(out)
    check_out(out, Path(model_folder), model.fingerprint)
    check_imported(model, model_folder, store)  # imported families: only from a store they were imported into
    metas = build_metas(model, model_folder)  # checkpoints found, options valid, the same config hashes
    if store is not None:
        check_store(model, store)
    table = _input_table(model, inputs, layout, speaker, holdout_only)
    per_speaker = _per_speaker(model, table, layout, speaker)
    if store is not None:
        check_store_table(store, table)
    report = PredictReport(out, errors_path(out), f"{model_folder} ({model.record.view.name}, "
                                                  f"{model.record.choice.entry})")
    if store is None:
        from featbench.train.shared import remove_stale_shared

        remove_stale_shared(prefix=PREDICT_PREFIX)
    folder = contextlib.nullcontext(store) if store is not None else \
        tempfile.TemporaryDirectory(prefix=f"{PREDICT_PREFIX}{os.getpid()}-")
    with folder as where:
        failed = _extract(model, table, Path(where), metas, executor, batch_size, progress, report, device,
                          (condition, condition_seed))
        if per_speaker:
            failed |= _alone(table, failed)
        done = table[~table["id"].isin(failed)].reset_index(drop=True)
        X = view_matrix(model, where, list(done["id"]), condition, condition_seed) if len(done) else None
    if X is not None and per_speaker:
        from featbench.protocol.normalisation import Normalisation

        normalisation = Normalisation.parse(model.record.training.normalisation)  # as training applied it
        X = normalisation.apply(X, done["speaker"].astype(str).to_numpy())
        report.messages += few_clips_note(done["speaker"])
    frame = _predictions(model, X, done, per_speaker, layout)
    report.failed = [{"id": uid, "path": path, "reason": failed[uid]} for uid, path in zip(table["id"], table["path"])
                     if uid in failed]
    _write(frame, report, out, model.fingerprint)
    report.labelled = len(frame)
    if layout is not None:
        _score(frame, model.labels, report)
        report.seen = _seen(frame, done, model)
    return report


def predict_condition(model, condition, seed: int):
    """The Condition predict degrades new clips by (None for none or clean), refused in one line before any clip: a
    bad spelling or seed, a condition that draws talkers from a corpus's other speakers (babble: new clips have no
    corpus and no folds), or a model with imported families (their embeddings were made elsewhere, from clean audio).

    >>> predict_condition(None, "clean", 0) is None
    True
    """
    from featbench.extract_conditions import needs_corpus
    from featbench.model.features import imported_specs
    from featbench.protocol.conditions import CLEAN, parse_condition

    if condition is None:
        return None
    chosen = parse_condition(condition)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 32:
        raise FeatbenchError(f"--condition-seed {seed!r}: must be a whole number in [0, 2^32)")
    if chosen.text == CLEAN:
        return None
    if needs_corpus(chosen):
        raise FeatbenchError(f"--condition {chosen.text}: this condition mixes in other speakers of a corpus, drawn "
                             "from its folds; predict labels clips without one (degrade a corpus with extract "
                             "--conditions and train --test-condition instead)")
    imported = [s["family"] for s in imported_specs(model)]
    if imported:
        raise FeatbenchError(f"--condition {chosen.text}: family '{imported[0]}' was imported (featbench import), "
                             "so its embeddings cannot be made from degraded audio")
    return chosen


def _input_table(model, inputs: list[Path], layout: str | None, speaker: str | None, holdout_only: bool) -> pd.DataFrame:
    """The utterance table of the inputs: a corpus (`layout`, labels merged as the model's were) or plain audio
    files (their one speaker `speaker`, if given); with `holdout_only`, the clips of the speakers the model held out."""
    from featbench.model.inputs import clips_table, corpus_table, held_out_only

    table = corpus_table(layout, inputs, model.record.training.merge) if layout else clips_table(inputs)
    if speaker is not None:
        if layout is not None:
            raise FeatbenchError("--speaker names the speaker of plain audio inputs; with --layout the corpus names them")
        table["speaker"] = table["group"] = speaker
    if holdout_only:
        table = held_out_only(table, model)
    return table


def _predictions(model, X: np.ndarray | None, done: pd.DataFrame, per_speaker: bool, layout: str | None) -> pd.DataFrame:
    """One row per labelled clip: id, path, (speaker, label,) predicted and p_<label> per class."""
    pred, proba = model.predict(X) if X is not None else (np.zeros(0, np.int64), np.zeros((0, len(model.labels))))
    frame = pd.DataFrame({"id": done["id"], "path": done["path"]})
    if per_speaker:  # who each clip was standardised with
        frame["speaker"] = done["speaker"].astype(str)
    if layout is not None:
        frame["label"] = done["label"]
    frame["predicted"] = [model.labels[i] for i in pred]
    for k, label in enumerate(model.labels):
        frame[f"p_{label}"] = proba[:, k]
    return frame


def _write(frame: pd.DataFrame, report: PredictReport, out: Path, fingerprint: str) -> None:
    """The predictions CSV, and the list of failed clips (or an earlier run's list removed: no longer true)."""
    write_csv(frame, out, fingerprint)
    if report.failed:
        write_csv(pd.DataFrame(report.failed, columns=["id", "path", "reason"]), report.errors_file, fingerprint)
    else:
        report.errors_file.unlink(missing_ok=True)  # an earlier run's list, no longer true


def _seen(frame: pd.DataFrame, done: pd.DataFrame, model) -> int:
    """How many scored clips (known labels) are of speakers (groups) the model was trained on."""
    trained = set(model.record.training.training_groups)
    known = frame["label"].isin(model.labels).to_numpy()
    return int((done["group"].astype(str).isin(trained).to_numpy() & known).sum()) if "group" in done else 0


def check_store_table(store: str | Path, table: pd.DataFrame) -> None:
    """A store with labelled clips (what train reads) may be given only the clips it holds, as it holds them: a
    one-line FeatbenchError if predict would add clips to its corpus table or rewrite one (see the module's doc).

    >>> import tempfile; from featbench.store import write_corpus
    >>> d = tempfile.mkdtemp(); write_corpus(d, pd.DataFrame({"id": ["a"], "path": ["a.wav"], "label": ["sad"]}))
    >>> check_store_table(d, pd.DataFrame({"id": ["a"], "path": ["a.wav"], "label": ["sad"]}))
    >>> check_store_table(d, pd.DataFrame({"id": ["a"], "path": ["a.wav"], "label": [""]}))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: .../corpus.csv: a store with labelled clips keeps its corpus table (train reads it): clip 'a' has label 'sad' there, predict would write ''; ...
    """
    from featbench.store import CORPUS_FILE, read_corpus

    path = Path(store) / CORPUS_FILE
    if not path.is_file():
        return
    stored = read_corpus(store)
    if "label" not in stored or not (stored["label"] != "").any():
        return  # a store of predict's own
    advice = "give predict a store of its own (--store NEW_FOLDER) or none"
    prefix = f"{path}: a store with labelled clips keeps its corpus table (train reads it)"
    new = table[~table["id"].isin(set(stored["id"]))]
    if len(new):
        raise FeatbenchError(f"{prefix}: predict would add {len(new)} clip(s) to it (e.g. '{new['id'].iloc[0]}'); {advice}")
    held = stored.set_index("id").loc[table["id"]]
    for column in ("label", "speaker", "group", "path"):
        if column in table and column in held:
            now, there = table[column].astype(str).to_numpy(), held[column].astype(str).to_numpy()
            if (now != there).any():
                i = int((now != there).argmax())
                raise FeatbenchError(f"{prefix}: clip '{table['id'].iloc[i]}' has {column} '{there[i]}' there, predict "
                                     f"would write '{now[i]}'; {advice}")


def _per_speaker(model, table: pd.DataFrame, layout: str | None, speaker: str | None) -> bool:
    """Whether the model standardises each speaker on their own clips; then every speaker must be known and have
    at least two clips among the inputs (one-line errors, before any clip is decoded)."""
    from featbench.protocol.normalisation import Normalisation

    normalisation = model.record.training.normalisation
    if not Normalisation.parse(normalisation).per_speaker:
        if speaker is not None:
            raise FeatbenchError(f"--speaker: this model was fitted with {normalisation} normalisation and labels each "
                                 "clip on its own; leave --speaker out")
        return False
    if layout is None and speaker is None:
        raise FeatbenchError(f"this model was fitted with {normalisation} normalisation: each speaker's clips are "
                             "standardised on their own, so give --layout (the corpus names the speakers) or --speaker "
                             "NAME (every input is one speaker's)")
    if speaker is not None and not speaker.strip():
        raise FeatbenchError("--speaker: give a name (an empty one names nobody)")
    counts = table["speaker"].astype(str).value_counts()
    if (counts < 2).any():
        raise FeatbenchError(f"speaker '{counts.index[counts < 2][0]}' has one clip among the inputs; this model "
                             f"({normalisation} normalisation) needs at least 2 clips of each speaker, better dozens")
    return True


FEW_CLIPS = 8
"""Below this many clips of a speaker, predict warns: on RAVDESS the statistics of 4 clips cost 3 points of UA
against no normalisation at all, those of 8 gained 5 (docs/results.md, per-speaker normalisation)."""


def few_clips_note(speakers: pd.Series) -> list[str]:
    """A note naming the speakers with fewer than FEW_CLIPS clips to standardise on.

    >>> few_clips_note(pd.Series(["a", "a", "b"] + ["c"] * 8))[0][:48]
    'note: 2 speaker(s) have fewer than 8 clips (a: 2'
    >>> few_clips_note(pd.Series(["c"] * 8))
    []
    """
    counts = speakers.astype(str).value_counts().sort_index()
    few = counts[counts < FEW_CLIPS]
    if few.empty:
        return []
    return [f"note: {len(few)} speaker(s) have fewer than {FEW_CLIPS} clips ({', '.join(f'{k}: {v}' for k, v in few.items())}); "
            "per-speaker statistics of so few clips are unreliable (a mix of each speaker's emotions helps)"]


def _alone(table: pd.DataFrame, failed: dict[str, str]) -> dict[str, str]:
    """{id: reason} for the clips whose speaker is left with one usable clip after `failed` (no statistics)."""
    usable = table[~table["id"].isin(failed)]
    counts = usable["speaker"].astype(str).value_counts()
    return {uid: f"the only usable clip of speaker '{spk}' (per-speaker normalisation needs 2 or more)"
            for uid, spk in zip(usable["id"], usable["speaker"].astype(str)) if counts[spk] < 2}


def _extract(model, table: pd.DataFrame, store: Path, metas: dict, executor: Executor, batch_size: int, progress: bool,
             report: PredictReport, device: Device = CPU, condition: tuple = (None, 0)) -> dict[str, str]:
    """Extract the model's families for `table` into `store` (one run per audio setting), under `condition`
    ((Condition or None, seed)); {failed id: reason}."""
    from featbench.audio import AudioConfig
    from featbench.extract import run_extraction
    from featbench.model.features import extracted_specs, family_options, missing_imported

    by_audio: dict[str, list[dict]] = {}
    for spec in extracted_specs(model):  # imported families are read from the store only
        by_audio.setdefault(json.dumps(spec["audio"], sort_keys=True), []).append(spec)
    failed: dict[str, list[str]] = {}
    for audio, specs in by_audio.items():
        extraction = run_extraction(table, [(s["family"], family_options(s["family"], s["config"])) for s in specs], store,
                                    AudioConfig(**json.loads(audio)), executor=executor, progress=progress, batch_size=batch_size,
                                    metas={s["family"]: metas[s["family"]] for s in specs}, device=device,
                                    conditions=None if condition[0] is None else [condition[0]],
                                    condition_seed=condition[1])
        under = f" under {condition[0].text}" if condition[0] is not None else ""
        report.messages += [*extraction.messages, f"{', '.join(s['family'] for s in specs)}{under}: {extraction.already_done} "
                            f"clips already stored, {extraction.extracted} extracted, {extraction.failed} failed"]
        for error in extraction.errors:
            failed.setdefault(error["id"], []).append(f"{error['family']}: {error['reason']}")
    for uid, reason in missing_imported(model, store, list(table["id"])).items():
        failed.setdefault(uid, []).append(reason)
    return {uid: "; ".join(reasons) for uid, reasons in failed.items()}


def _score(frame: pd.DataFrame, labels: list[str], report: PredictReport) -> None:
    """UA over the labelled clips whose true label is one of the model's classes (the benchmark's metric)."""
    from featbench.train.metrics import scores

    known = frame["label"].isin(labels)
    report.scored, report.unscored = int(known.sum()), int((~known).sum())
    if not report.scored:
        return
    index = {label: i for i, label in enumerate(labels)}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        report.ua = scores(frame["label"][known].map(index).to_numpy(), frame["predicted"][known].map(index).to_numpy(),
                           len(labels))["ua"]
