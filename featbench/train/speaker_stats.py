"""Per-speaker normalisation (`train --normalise per-speaker[:K]`): each speaker's pooled rows standardised on
the statistics of that speaker's clips (`per_speaker_matrix`), with the refusal and notes on how far speakers
are from the corpus's class balance.

>>> speaker_notes("fbank", np.array(["a", "a", "b"]), ["a", "b"], None, [])[0][:70]
'per-speaker normalisation: 1 speaker(s) have fewer than 2 usable clips'
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from featbench.corpus.balance import FLAG, SpeakerBalance, speaker_balance
from featbench.errors import FeatbenchError
from featbench.protocol.pooling import Pooling
from featbench.train.pooling import MEAN_AND_STD, pooled_matrix


def per_speaker_matrix(X: np.ndarray, view, speakers, sides: list, exp, notes: list[str]) -> tuple[np.ndarray, bool]:
    """(`X` with each speaker's rows standardised on the statistics of that speaker's clips, whether those came from
    speakers dominated by one class). `speakers`: the speaker of each row of X; `sides`: the run's stores
    (train.prepare's Side: store, FeatureSets, pooled cache, speaker prefix), whose clips give the statistics
    (`speaker_reference`: with `--normalise per-speaker:K`, K of each speaker's, drawn at random); `exp`: the Experiment
    (its label merging, target and `allow_confounded_speakers`). Notes, once per run, are added to `notes`."""
    clips = exp.normalisation.clips
    reference = [speaker_reference(side.store, view, side.sets, side.cache, side.prefix, clips, exp.merge, exp.pooling)
                 for side in sides]
    confounded = False
    if not exp.target:  # the classes' balance; a dimensional target has no classes to dominate
        for side, (*_, balance) in zip(sides, reference):
            notes += check_balance(side.store, balance, exp.allow_confounded_speakers, notes)
        confounded = any(balance.confounded for *_, balance in reference)
    known = np.concatenate([r[1] for r in reference])
    X = exp.normalisation.apply(X, speakers.to_numpy(), np.vstack([r[0] for r in reference]), known)
    notes += speaker_notes(view.name, known, speakers, clips, notes)
    return X, confounded


def speaker_reference(store: Path, view, sets: dict, cache: dict, prefix: str = "", clips: int | None = None,
                      merge: dict | None = None, pooling: Pooling = MEAN_AND_STD) -> tuple[np.ndarray, np.ndarray, SpeakerBalance]:
    """(pooled rows, speakers, balance) of every clip of `store` that has the view's features, whatever its label or
    --classes: the statistics of per-speaker normalisation, which read no label. With `clips`, that many of each
    speaker's clips (all when fewer), drawn at random by a seed of the speaker's name: the same clips for every
    view, seed and budget. `prefix` names the speakers as a two-corpus table does. The balance (corpus.balance)
    of the clips drawn from (their labels after `merge`, read for this check only) says how far each speaker is
    from the corpus's class balance. `pooling`: how the rows are pooled (protocol.pooling)."""
    import zlib

    from featbench.corpus.table import select_labels
    from featbench.store import read_corpus

    full = read_corpus(store)
    have = set(full["id"])
    for leaf in view.leaves:
        have &= set(sets[leaf.family].ids)
    full = full[full["id"].isin(have)].sort_values("id", kind="stable").reset_index(drop=True)
    X = pooled_matrix(view, sets, list(full["id"]), cache, pooling)
    finite = np.isfinite(X).all(axis=1)
    full, X = full[finite], X[finite]  # before the draw: K usable clips
    balance = speaker_balance(prefix + full["speaker"].astype(str), select_labels(full, None, merge)["label"])
    if clips is not None:
        drawn = [np.random.default_rng(zlib.crc32(str(speaker).encode())).permutation(part["id"].to_numpy())[:clips]
                 for speaker, part in full.groupby("speaker", sort=True)]
        keep = full["id"].isin(np.concatenate(drawn)).to_numpy()
        full, X = full[keep], X[keep]
    return X, (prefix + full["speaker"].astype(str)).to_numpy(), balance


def check_balance(store: Path, balance: SpeakerBalance, allow: bool, notes: list[str]) -> list[str]:
    """The one-line refusal of per-speaker normalisation where most of a corpus's speakers are dominated by one class
    (corpus.balance), unless `allow`; else the note (once per store) that says how far they are."""
    if balance.confounded and not allow:
        raise FeatbenchError(f"{store}: per-speaker normalisation refused: {balance.line()}, so most speakers' statistics "
                             "would be taken mostly from one class and remove the emotion with the voice; use --normalise "
                             f"training, or {FLAG} to run it anyway (every row marked speakers_confounded)")
    head = f"per-speaker statistics of {store}:"
    if any(n.startswith(head) for n in notes):
        return []
    return [f"{head} {balance.line()}" + (f"; run anyway ({FLAG}): every row marked speakers_confounded"
                                          if balance.confounded else "")]


def speaker_notes(view: str, reference: np.ndarray, speakers, clips: int | None, notes: list[str]) -> list[str]:
    """Notes (once per run) on per-speaker statistics: speakers with fewer than two usable clips (only centred: their
    rows become zero vectors), and a K no speaker reaches (every speaker then uses all their clips)."""
    if any(n.startswith("per-speaker normalisation") for n in notes):
        return []
    names, counts = np.unique(reference, return_counts=True)
    thin = sorted(set(speakers) - set(names[counts >= 2]))
    out = [f"per-speaker normalisation: {len(thin)} speaker(s) have fewer than 2 usable clips ({', '.join(thin[:5])}), "
           f"so their rows of '{view}' are only centred (zero vectors)"] if thin else []
    if clips is not None and len(counts) and counts.max() < clips:
        out.append(f"per-speaker normalisation on {clips} clips: no speaker has more than {counts.max()} usable clips, so "
                   f"every speaker's statistics use all of theirs (the rows still say {clips})")
    return out
