"""The steps extraction takes on a worker, shared by plain extraction (`featbench.extract`) and extraction under
recording conditions (`featbench.extract_conditions`): the families built once per worker, and one family run
over a batch of clips, its failures recorded against the clip that caused them.
"""
from __future__ import annotations

import numpy as np
from dataclasses import dataclass

from featbench.audio import AudioConfig
from featbench.device import CPU, Device
from featbench.errors import FeatbenchError
from featbench.features import FAMILIES, InputKind, build_family
from featbench.features.plugins import setting_up
from featbench.foreign_code import foreign


@dataclass(frozen=True)
class ClipBatch:
    """One task: clips of similar length, each with the families it still needs, and the transcripts the
    text families among them read: (id, family, transcript, problem), where a problem ('' if none) is
    the reason a clip has no usable transcript."""

    items: tuple[tuple[str, str, tuple[str, ...]], ...]  # (id, path, family names)
    audio: AudioConfig
    texts: tuple[tuple[str, str, str, str], ...] = ()


def build_families(specs: list[tuple[str, dict]], audio: AudioConfig, device: Device = CPU) -> dict:
    """{name: family}, options validated and heavy parts loaded (once per worker process), the neural ones on this
    worker's `device` (worker i of n GPUs: cuda:(i mod n), `Device.for_worker`)."""
    from featbench.worker_process import worker_index

    on = device.for_worker(worker_index()).activate()
    families = {name: build_family(name, options, audio) for name, options in specs}
    for name, family in families.items():
        family.use_device(on)
        with setting_up(name, "load()", plugin=name not in FAMILIES):
            family.load()
    return families


def checked(family, array) -> np.ndarray:
    """One clip's features as the store keeps them (`family.storage`: dtype, pooled); a ValueError (a failure of
    that clip) for anything but real numbers of shape (rows, dim) with rows, non-finite values, or values the
    stored dtype cannot hold.

    >>> from featbench.features import build_family
    >>> checked(build_family("fbank"), np.zeros((2, 3)))
    Traceback (most recent call last):
    ValueError: the family returned features of shape (2, 3), not (rows, 80)
    """
    array = np.asarray(array)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"the family returned {array.dtype} values, not real numbers")
    if array.ndim != 2 or array.shape[1] != family.dim:
        raise ValueError(f"the family returned features of shape {array.shape}, not (rows, {family.dim})")
    if not len(array):
        raise ValueError("the family returned no rows")
    if not np.all(np.isfinite(array)):
        raise ValueError("non-finite feature values")
    with np.errstate(over="ignore"):  # an overflow becomes inf, refused below in one line
        stored = family.storage.apply(array)
    if not np.all(np.isfinite(stored)):  # float64 beyond float32's range (float16's is refused by `cast`)
        raise ValueError(f"feature values beyond what {stored.dtype} holds (largest {np.finfo(stored.dtype).max:.3g})")
    return stored


def per_clip(err: Exception) -> str:
    """The reason recorded for a clip; configuration errors are not per-clip failures and go up."""
    if isinstance(err, FeatbenchError):
        raise err
    return f"{type(err).__name__}: {err}"


def extract_family(family, name: str, batch: ClipBatch, signals: dict, texts: dict, results: dict) -> None:
    """One family over a batch: its arrays (and row tokens) into `results[uid]`, or each clip's failure."""
    if family.input is InputKind.TEXT:
        _extract_texts(family, name, batch, texts, results)
        return
    group = [uid for uid, _, needed in batch.items if name in needed and uid in signals]
    try:
        with foreign(f"family '{name}'"):  # its sys.exit() or own KeyboardInterrupt: the clip's failure
            arrays = [checked(family, a) for a in family.extract_batch([signals[u] for u in group], batch.audio.sample_rate)]
        if len(arrays) != len(group):
            raise ValueError(f"extract_batch returned {len(arrays)} arrays for {len(group)} clips")
    except Exception as err:  # retried clip by clip below, where the failing clip's error is recorded
        per_clip(err)
        arrays = None
    for k, uid in enumerate(group):
        try:
            with foreign(f"family '{name}'"):
                results[uid][0][name] = arrays[k] if arrays is not None else checked(family, family.extract(signals[uid], batch.audio.sample_rate))
        except Exception as err:  # one family failing on one clip must not stop the run; reported per clip
            results[uid][1][name] = per_clip(err)


def _extract_texts(family, name: str, batch: ClipBatch, texts: dict, results: dict) -> None:
    """One text family over a batch: rows and row tokens into `results[uid]`, or the clip's failure."""
    group = []
    for uid, _, needed in batch.items:
        if name in needed:
            text, problem = texts.get((uid, name), ("", "no transcript"))
            if problem or not text.strip():
                results[uid][1][name] = problem or "empty transcript"
            else:
                group.append(uid)
    if not group:
        return
    try:
        together = [texts[(u, name)][0] for u in group]
        with foreign(f"family '{name}'"):
            arrays = [checked(family, a) for a in family.extract_text_batch(together)]
            tokens = family.row_tokens(together)
        if len(arrays) != len(group) or len(tokens) != len(group):
            raise ValueError(f"{len(arrays)} arrays and {len(tokens)} token lists for {len(group)} transcripts")
    except Exception as err:  # retried clip by clip below, where the failing clip's error is recorded
        per_clip(err)
        arrays = tokens = None
    for k, uid in enumerate(group):
        try:
            text = texts[(uid, name)][0]
            with foreign(f"family '{name}'"):
                array = arrays[k] if arrays is not None else checked(family, family.extract_text([text])[0])
                row_tokens = tokens[k] if tokens is not None else family.row_tokens([text])[0]
            if len(row_tokens) != len(array):
                raise ValueError(f"{len(array)} rows but {len(row_tokens)} tokens")
            results[uid][0][name], results[uid][2][name] = array, list(row_tokens)
        except Exception as err:  # reported per clip, the run goes on
            results[uid][1][name] = per_clip(err)
