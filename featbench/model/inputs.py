"""What `featbench predict` labels: audio files and folders (searched recursively), or a corpus layout and root
as `featbench extract` takes them (then the true labels are known, merged as the model's labels were).

A folder's clips get ids relative to it (``Actor_01/03-01-05-01-01-01-01``), a file's id is its name without
extension; ids must be unique over all inputs.

>>> import tempfile, soundfile as sf, numpy as np
>>> d = Path(tempfile.mkdtemp()); (d / "sub").mkdir(); sf.write(d / "sub" / "a.wav", np.zeros(800), 16000)
>>> clips_table([d]).id.tolist()
['sub/a']
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from featbench.corpus._files import AUDIO_SUFFIXES, audio_files, clip_ids
from featbench.errors import FeatbenchError


def clips_table(inputs: list[Path]) -> pd.DataFrame:
    """The utterance table of audio files and folders, without labels or speakers."""
    from featbench.corpus.table import make_table

    rows = []
    for item in inputs:
        item = Path(item).expanduser()
        if item.is_dir():
            root = item.resolve()
            files = audio_files(root, f"audio under {item}")
            names = [str(p.relative_to(root)) for p in files]
        elif item.is_file():
            if item.suffix.lower() not in AUDIO_SUFFIXES:
                raise FeatbenchError(f"{item}: not an audio file ({', '.join(AUDIO_SUFFIXES)}); for a CSV manifest use "
                                     "--layout csv")
            files, names = [item.resolve()], [item.name]
        else:
            raise FeatbenchError(f"{item}: no such file or folder")
        rows += [dict(id=uid, path=str(path), label="", speaker="") for uid, path in zip(clip_ids(names), files)]
    return make_table(rows, name="predict inputs")


def corpus_table(layout: str, inputs: list[Path], merge: dict) -> pd.DataFrame:
    """The utterance table of a corpus layout (one input: its root, or the CSV manifest), labels merged with `merge`."""
    from featbench.corpus import load_corpus

    if len(inputs) != 1:
        raise FeatbenchError(f"--layout {layout} takes one INPUT, the corpus root (or the CSV manifest for csv), "
                             f"not {len(inputs)}")
    return load_corpus(layout, inputs[0], None, merge)


def held_out_only(table: pd.DataFrame, model) -> pd.DataFrame:
    """The clips of the speaker groups the model held out (a model fitted with --holdout-fold)."""
    holdout = model.record.training.holdout
    if holdout is None:
        raise FeatbenchError("--holdout-only: this model was fitted on the whole store (no --holdout-fold)")
    kept = table[table["group"].isin(holdout.test_groups)].reset_index(drop=True)
    if kept.empty:
        raise FeatbenchError(f"--holdout-only: no clip of the held-out groups ({', '.join(holdout.test_groups)}) "
                             "among the inputs")
    return kept
