"""Attentive pooling (`train --pooling attentive`): frames pooled into one row per utterance by attention learned on
each task's training rows, then handed to the utterance-level classifiers like mean+std rows.

Per fold, budget and seed (`pooled_inputs`): a small network (frames standardised on the fitting rows -> a tiny MLP
scores each frame -> softmax over the utterance's frames -> attention-weighted mean and std,
`train.sequence.attentive_statistics` -> a linear softmax head) is fitted on the training rows only, with early
stopping on the validation speakers drawn from them (the rows every choice of the run is validated on; the test
speakers are never read). Every clip is then pooled with the learned attention (the head is dropped), normalised as
the run says (per corpus: each corpus on its own statistics), and the classifier entry fits on those rows as on
any pooled rows. The training loop, class weights, crops and early stopping are the sequence model's
(`AttentivePooling` is a `SequenceClassifier` with another network); the same seed gives the same numbers.

Frames come from `FrameRows`: one view's frames of every clip of the run, back to back (one layer of an all-layer
family, in its stored dtype), memory-mapped by worker processes.

>>> rng = np.random.default_rng(0)
>>> seqs = [rng.normal(size=(20, 3)).astype(np.float32) for _ in range(40)]
>>> for i, s in enumerate(seqs):  # the class sits in a few loud frames only
...     s[:3, 0] += 6.0 * (i % 2)
>>> y = np.array([i % 2 for i in range(40)])
>>> pooling = AttentivePooling(n_classes=2, max_epochs=10, seed=0).fit(seqs[:30], y[:30], seqs[30:], y[30:])
>>> pooling.pool(seqs).shape
(40, 6)
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from featbench.device import to_numpy
from featbench.errors import FeatbenchError
from featbench.row_kinds import RowKind
from featbench.train.fit_task import task_rows
from featbench.train.sequence import SequenceClassifier, _torch, attentive_statistics


def _build_network(dim: int, n_classes: int, hidden: int):
    from torch import nn

    class Attentive(nn.Module):
        def __init__(self):
            super().__init__()
            first, last = nn.Linear(dim, hidden), nn.Linear(hidden, 1)
            nn.init.zeros_(last.weight)  # every frame weighs the same at the start: mean and std pooling, which the
            nn.init.zeros_(last.bias)  # attention leaves only where the training rows say so
            self.score = nn.Sequential(first, nn.Tanh(), last)
            self.out = nn.Sequential(nn.Dropout(0.2), nn.Linear(2 * dim, n_classes))

        def statistics(self, x, mask):  # x (B, T, D) standardised frames, mask (B, T) -> (B, 2D)
            return attentive_statistics(x, self.score(x).squeeze(-1), mask)

        def forward(self, x, mask):
            return self.out(self.statistics(x, mask))

    return Attentive()


@dataclass
class AttentivePooling(SequenceClassifier):
    """The sequence model's training (class-weighted cross-entropy, Adam, random crops, early stopping on
    validation UA) of an attention over standardised frames and a linear head; `pool` gives the attention-weighted
    mean and std of each sequence's standardised frames, float32 (n, 2 * dim)."""

    hidden: int = 32  # the scoring MLP's hidden units
    given_scale: bool = False  # frames come standardised (per corpus, `FrameRows.per_part`): no statistics of its own
    lr: float = 1e-2  # a scorer and a linear head, no convolutional body: at the sequence model's 1e-3 they hardly move
    weight_decay: float = 0.1  # about logreg's C=0.01 on ~1,000 rows: the head as regularised as the classifier after it

    def _network(self, seqs):
        return _build_network(seqs[0].shape[1], self.n_classes, self.hidden)

    def _standardise(self, seqs) -> None:
        """The frames' statistics (`frame_scale`), or none where they come standardised (`given_scale`)."""
        if self.given_scale:
            self.mean_, self.std_ = np.zeros(seqs[0].shape[1], np.float32), np.ones(seqs[0].shape[1], np.float32)
            return
        self.mean_, self.std_ = frame_scale(seqs)

    def pool(self, seqs) -> np.ndarray:
        """One row per sequence: the learned attention's weighted means, then weighted stds."""
        torch = _torch()
        self.net_.eval()
        with torch.no_grad():
            parts = [to_numpy(self.net_.statistics(*self._on_device(seqs, range(start, min(start + self.batch_size, len(seqs))))))
                     for start in range(0, len(seqs), self.batch_size)]
        return np.concatenate(parts).astype(np.float32)


def frame_scale(seqs) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and std (+1e-5) of every frame of `seqs`, float32, summed clip by clip in float64 (no copy of
    them all).

    >>> mean, std = frame_scale([np.array([[1.0], [3.0]]), np.array([[5.0]])])
    >>> mean.tolist(), round(float(std[0]), 4)
    ([3.0], 1.633)
    """
    total, squares, n = np.zeros(seqs[0].shape[1]), np.zeros(seqs[0].shape[1]), 0
    for s in seqs:
        x = np.asarray(s, np.float64)
        total, squares, n = total + x.sum(0), squares + (x * x).sum(0), n + len(x)
    mean = total / n
    return mean.astype(np.float32), (np.sqrt(np.maximum(squares / n - mean * mean, 0.0)) + 1e-5).astype(np.float32)


@dataclass
class FrameRows:
    """One view's frames of every clip of a run, in the run's table order: `features` (total frames, dim) back to
    back, clip i at rows offsets[i]:offsets[i] + lengths[i]; or, shared with worker processes, the .npy `path`
    that `opened` memory-maps."""

    features: np.ndarray | None
    offsets: np.ndarray
    lengths: np.ndarray
    path: str = ""

    def seqs(self, rows) -> list[np.ndarray]:
        """The frames of each clip of `rows` (views of `features`)."""
        assert self.features is not None, "FrameRows shared as a file: open it first"
        return [self.features[self.offsets[i]:self.offsets[i] + self.lengths[i]] for i in rows]

    def per_part(self, parts: np.ndarray) -> Standardised:
        """These frames, each clip standardised on the mean and std of every frame of its part (its corpus: `parts`,
        one key per clip; no label read), computed clip by clip in float64."""
        scale = {part: frame_scale(self.seqs(np.flatnonzero(parts == part))) for part in np.unique(parts)}
        return Standardised(self, [scale[p] for p in parts])

    def saved(self, path: Path) -> FrameRows:
        """A copy of these frames that lives in the .npy file `path` (for worker processes)."""
        assert self.features is not None
        np.save(path, self.features)
        return replace(self, features=None, path=str(path))

    def opened(self) -> FrameRows:
        """These frames, memory-mapped (read-only) where they were saved to a file."""
        return replace(self, features=np.load(self.path, mmap_mode="r")) if self.features is None else self


@dataclass
class Standardised:
    """FrameRows whose clip i comes standardised by `scale[i]` (mean, std), one clip at a time when it is read."""

    frames: FrameRows
    scale: list

    def seqs(self, rows) -> _Clips:
        return _Clips(self, list(rows))


@dataclass
class _Clips:
    """The standardised frames of `rows`, as a list the sequence model indexes (computed when indexed)."""

    source: Standardised
    rows: list

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, k: int) -> np.ndarray:
        i = self.rows[k]
        mean, std = self.source.scale[i]
        return (self.source.frames.seqs([i])[0] - mean) / std


def frame_rows(view, sides: list, store: Path) -> FrameRows:
    """The frames of `view` (one family, one layer or all its columns) for the ids of each `sides`
    (train.prepare.Side, in order), read from the FeatureSets each side holds; a clip with a non-finite frame is
    a one-line error naming the store."""
    chunks = [view.of(side.sets[view.family].meta, side.sets[view.family].get(u)) for side in sides for u in side.ids]
    lengths = np.array([len(c) for c in chunks], np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    features = np.concatenate(chunks)
    finite = np.isfinite(features).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(np.add.reduceat(~finite, offsets) > 0)
        ids = [u for side in sides for u in side.ids]
        raise FeatbenchError(f"{store}: '{view.name}' holds non-finite frames for {len(bad)} clip(s) "
                             f"({', '.join(ids[i] for i in bad[:5])}); remove them from the store and extract again")
    return FrameRows(features, offsets, lengths)


def check_run(exp) -> None:
    """One-line errors for a run (train.experiment.Experiment) that attentive pooling cannot serve: a regression
    target, per-speaker normalisation, recording conditions other than clean."""
    if exp.target:
        raise FeatbenchError(f"--pooling attentive learns its attention for classes, not for --target {exp.target}; "
                             "use --pooling mean+std or mean")
    if exp.normalisation.per_speaker:
        raise FeatbenchError("--pooling attentive: per-speaker normalisation is not available with learned pooling; "
                             "use --normalise training or per-corpus")
    if not exp.conditions.clean:
        raise FeatbenchError("--pooling attentive learns its attention on clean frames; train and test under the clean "
                             "condition only (leave out --train-condition and --test-condition)")


def check_view(view, sets: dict) -> None:
    """One-line errors for a view attentive pooling cannot pool: several views ('a+b', an ensemble), a layer choice
    or weighting (@auto, @weighted), a store kept pooled, a raw waveform (utterance-level families are refused
    before, by train.prepare)."""
    if view.parts:
        raise FeatbenchError(f"--pooling attentive learns one attention over one view's frames; '{view.name}' "
                             "combines several: train each view apart")
    if view.multi_layer:
        raise FeatbenchError(f"--pooling attentive pools one layer's frames; '{view.name}' chooses or weights layers "
                             f"pooled apart: name one layer (e.g. {view.family}@L2)")
    meta = sets[view.family].meta
    if meta.pooled:
        raise FeatbenchError(f"--pooling attentive: '{view.family}' was stored pooled (pooled=true), its frames are "
                             "gone; extract it with frames kept, or use --pooling mean+std or mean")
    if meta.rows == RowKind.WAVEFORM.value:
        raise FeatbenchError(f"--pooling attentive pools frames; '{view.family}' holds raw samples (use a frame-level "
                             "family, or --classifiers seq)")


@dataclass(frozen=True)
class Pooled:
    """The utterance matrix a budget's model reads (`X`), by test condition (`matrices`), and what learning the
    pooling added to the row: `note` (to hp_selection) and `seconds` (to fit_seconds)."""

    X: np.ndarray
    matrices: dict
    note: str = ""
    seconds: float = 0.0


def pooled_inputs(context, task, budget, X) -> Pooled:
    """The rows a grid task (train.grid) fits and scores at `budget`: the view's pooled matrix `X` as it is, or,
    for a view with frames (--pooling attentive), every clip pooled by attention fitted on this fold's, budget's
    and seed's training rows. A fit is kept in `context.attentive` while the next budget, fold or task trains on
    the same rows (every fold of a cross-corpus run does)."""
    data, view = context.data, context.data.views[task.view]
    if view.frames is None:
        return Pooled(X, view.matrices)
    picked = task_rows(data, task.fold, budget, task.seed)
    fit_rows, val_rows = sorted(picked.fit_rows), sorted(picked.val_rows)  # one order, whatever the fold drew
    key = (task.view, task.seed, tuple(sorted(picked.train_rows)), tuple(fit_rows), tuple(val_rows))
    if key not in context.attentive:
        context.attentive.clear()
        start = time.perf_counter()
        parts = data.table["part"].to_numpy() if "part" in data.table else np.zeros(len(data.table), dtype=np.int8)
        per_corpus = data.design.normalisation.per_corpus
        frames = view.frames.per_part(parts) if per_corpus else view.frames  # each corpus's frames on its own statistics
        model = AttentivePooling(n_classes=len(data.labels), seed=task.seed, max_epochs=data.seq_epochs,
                                 device=context.device, given_scale=per_corpus)
        y = data.y
        if val_rows and len(set(y[fit_rows])) >= 2:
            model.fit(frames.seqs(fit_rows), y[fit_rows], frames.seqs(val_rows), y[val_rows])
            how = (f"early stopping on held-out speakers ({len(fit_rows)} fit / {len(val_rows)} val), its own val UA "
                   f"{model.val_ua_:.1%}")
        else:
            model.fit(frames.seqs(sorted(picked.train_rows)), y[sorted(picked.train_rows)])
            how = "fixed epochs (too few speakers for validation)"
        pooled = data.design.normalisation.apply(model.pool(frames.seqs(range(len(data.table)))), parts)
        context.attentive[key] = (pooled, f"; attentive pooling: {model.epochs_} epochs, {how}", time.perf_counter() - start)
    pooled, note, seconds = context.attentive[key]
    return Pooled(pooled, {test: pooled for test in task.tests}, note, seconds)
