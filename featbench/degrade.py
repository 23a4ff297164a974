"""`featbench degrade`: chosen clips of a corpus under chosen conditions, written as WAV files for listening.

Each clip is decoded once (the extraction's AudioConfig: mono, resampled) and degraded exactly as `extract
--conditions` degrades it (the same seed gives the same samples; a condition that mixes in other clips is bound to
the same fold scheme), then written to ``<out>/<condition slug>/<clip>.wav`` as 16-bit PCM. Samples beyond
[-1, 1] (noise at a low SNR, gain) cannot be held by PCM: they are clipped, and the summary says how many.

>>> import tempfile
>>> from featbench.corpus import load_corpus
>>> d = tempfile.mkdtemp()
>>> table = load_corpus("demo", d + "/corpus")
>>> report = degrade_clips(table, "white:10,gain:30", ["f1_angry_00"], d + "/out")
>>> sorted(p.relative_to(d + "/out").as_posix() for p in report.written)
['gain_30/f1_angry_00.wav', 'white_10/f1_angry_00.wav']
>>> report.clipped["gain_30/f1_angry_00.wav"] > 0
True
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from featbench.audio import AudioConfig, AudioProblem, load
from featbench.errors import FeatbenchError
from featbench.extract_conditions import Talkers, as_conditions, bind_all, degrade
from featbench.protocol.conditions import ConditionClip
from featbench.protocol.conditions.base import slug


@dataclass
class DegradeReport:
    """What a degrade run wrote, clipped (samples beyond [-1, 1], per file) and could not do (id, reason)."""

    out: Path
    written: list[Path] = field(default_factory=list)
    clipped: dict[str, int] = field(default_factory=dict)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        return bool(self.failed)

    def summary(self) -> str:
        lines = [f"  {name}: {n} sample(s) beyond [-1, 1] clipped (16-bit PCM holds no more)"
                 for name, n in self.clipped.items() if n]
        lines += [f"  failed: {what}: {reason}" for what, reason in self.failed]
        return "\n".join([f"{self.out}: {len(self.written)} WAV file(s) written (16-bit PCM)", *lines])


def file_stem(uid: str) -> str:
    """A clip id as a file name: anything but letters, digits, '.', '_' and '-' becomes '_'.

    >>> file_stem("f1_angry_00"), file_stem("../a b")
    ('f1_angry_00', '.._a_b')
    """
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", uid)[:200]
    return stem if stem.strip(".") else f"_{stem}"


def degrade_clips(table: pd.DataFrame, conditions, ids: list[str], out: str | Path, seed: int = 0,
                  audio: AudioConfig = AudioConfig(), n_folds: int | None = None) -> DegradeReport:
    """Write clips `ids` of `table` under each of `conditions` to ``<out>/<slug>/<id>.wav``. Every refusal (a bad
    condition, an unknown clip id) is one line before any clip; a clip that cannot be decoded or degraded is
    listed in the report and the others are written."""
    chosen, _ = bind_all(as_conditions(conditions), table, n_folds, seed)
    known = set(table["id"].astype(str))
    unknown = [uid for uid in ids if uid not in known]
    if not ids or unknown:
        raise FeatbenchError(f"--clips: no clip '{unknown[0]}' in the corpus" if unknown else "--clips: no clip given")
    paths = dict(zip(table["id"].astype(str), table["path"]))
    talkers, report = Talkers(paths, audio), DegradeReport(Path(out))
    for uid in dict.fromkeys(ids):
        try:
            signal = load(paths[uid], audio)
        except AudioProblem as err:
            report.failed.append((uid, str(err)))
            continue
        for key, condition in chosen:
            try:
                degraded = degrade(condition, signal, audio.sample_rate, ConditionClip(uid, seed, talkers.load))
            except ValueError as err:  # the clip's failure under this condition
                report.failed.append((f"{uid} under {condition.text}", str(err)))
                continue
            _write(report, Path(out) / slug(key), file_stem(uid), degraded, audio.sample_rate)
    return report


def _write(report: DegradeReport, folder: Path, stem: str, signal: np.ndarray, rate: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.wav"
    report.clipped[f"{folder.name}/{path.name}"] = int(np.count_nonzero(np.abs(signal) > 1.0))
    sf.write(path, np.clip(signal, -1.0, 1.0), rate, subtype="PCM_16")
    report.written.append(path)
