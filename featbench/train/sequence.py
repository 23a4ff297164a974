"""The sequence-level classifier: one small PyTorch architecture for every frame-level family.

Frames (standardised with training statistics) -> [learned softmax weights over the layers of an
all-layer family, SUPERB's weighted sum, for `@weighted` views] -> two 1-D convolutions -> attention pooling ->
linear layer; class-weighted cross-entropy, Adam, early stopping on a validation split of held-out
training speakers (by UA). With `regression=True` (a dimensional target) the same body ends in one linear
output: mean squared error on the standardised target, early stopping by CCC, predictions on the
target's own scale. The raw waveform gets a learnable front end (a strided convolution with a 25 ms
window and 10 ms hop, then log compression), so it enters the same body at a 100 Hz frame rate.
CPU-friendly: about 30k parameters plus the front end. The network and its batches live on `device`
(`featbench.device`; the CPU by default); predictions come back as numpy.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> seqs = [rng.normal(size=(30, 4)).astype(np.float32) + (i % 2) for i in range(40)]
>>> y = np.array([i % 2 for i in range(40)])
>>> model = SequenceClassifier(n_classes=2, max_epochs=15, seed=0).fit(seqs[:30], y[:30], seqs[30:], y[30:])
>>> float((model.predict(seqs[30:]) == y[30:]).mean()) >= 0.9
True
>>> values = np.array([3.0 + 2 * (i % 2) for i in range(40)])
>>> reg = SequenceClassifier(n_classes=1, max_epochs=15, seed=0, regression=True)
>>> reg = reg.fit(seqs[:30], values[:30], seqs[30:], values[30:])
>>> reg.val_ua_ > 0.8, 2.0 < float(reg.predict(seqs[30:]).mean()) < 6.0
(True, True)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featbench.device import CPU, Device, place, to_numpy


def _torch():
    import torch

    return torch


def _build_network(input_dim: int, n_classes: int, hidden: int, raw: bool, layers: int = 1):
    from featbench.layers import layer_blocks

    torch = _torch()
    nn = torch.nn

    class LogCompress(nn.Module):
        def forward(self, x):
            return torch.log1p(torch.abs(x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = layers
            if layers > 1:  # SUPERB's weighted sum: softmax weights over the layers, learned with the rest
                self.layer_logits = nn.Parameter(torch.zeros(layers))
                input_dim_ = input_dim // layers
            else:
                input_dim_ = input_dim
            if raw:  # learnable filterbank: 25 ms windows, 10 ms hop at 16 kHz
                self.front = nn.Sequential(nn.Conv1d(1, 64, kernel_size=400, stride=160), LogCompress(),
                                           nn.GroupNorm(1, 64))
                width = 64
            else:
                self.front, width = nn.Identity(), input_dim_
            self.body = nn.Sequential(
                nn.Conv1d(width, hidden, 5, padding=2), nn.ReLU(), nn.Dropout(0.2),
                nn.Conv1d(hidden, hidden, 5, padding=2), nn.ReLU(),
            )
            self.attention = nn.Linear(hidden, 1)
            self.out = nn.Sequential(nn.Dropout(0.2), nn.Linear(2 * hidden, n_classes))
            self.raw = raw

        def forward(self, x, mask):  # x (B, T, D), mask (B, T) True on real frames
            if self.layers > 1:  # (B, T, layers * D) -> (B, T, D)
                x = torch.einsum("btld,l->btd", layer_blocks(x, self.layers), torch.softmax(self.layer_logits, 0))
            h = self.front(x.transpose(1, 2))
            if self.raw:
                t = h.shape[-1]
                lengths = mask.sum(1)
                frames = torch.clamp((lengths - 400) // 160 + 1, min=1)
                mask = torch.arange(t, device=mask.device)[None, :] < frames[:, None]
            h = self.body(h).transpose(1, 2)  # (B, T', H)
            return self.out(attentive_statistics(h, self.attention(h).squeeze(-1), mask))

    return Net()


def attentive_statistics(h, score, mask):
    """Attention pooling: the softmax of `score` (B, T) over each sequence's real rows (`mask` (B, T) True) weights
    the mean and the standard deviation of `h` (B, T, H); returns (B, 2H), the means then the stds. The sequence
    model, the fusion model and `train.attentive` (`--pooling attentive`) pool with it."""
    torch = _torch()
    weight = torch.softmax(score.masked_fill(~mask, -1e9), dim=1).unsqueeze(-1)
    mean = (weight * h).sum(1)
    std = torch.sqrt(torch.clamp((weight * h * h).sum(1) - mean * mean, min=1e-6))
    return torch.cat([mean, std], dim=1)


@dataclass
class SequenceClassifier:
    """Fit on lists of (frames, dim) arrays; predict class indices."""

    n_classes: int
    raw: bool = False
    hidden: int = 64
    max_epochs: int = 30
    patience: int = 5
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4  # Adam's L2 on every parameter but the layer weights
    max_frames: int = 800  # random training crops; 8 s at 100 Hz
    seed: int = 0
    layers: int = 1  # > 1: frames hold that many layers side by side, combined by learned softmax weights
    regression: bool = False  # one output for a dimensional target (y: floats); n_classes is then unused
    device: Device = CPU  # where the network trains and predicts (a resolved featbench.device.Device)

    @property
    def layer_weights_(self) -> list[float]:
        """The learned softmax weight of each layer (empty for a single-layer input)."""
        if self.layers < 2:
            return []
        return _torch().softmax(self.net_.layer_logits.detach(), 0).tolist()

    def _standardise(self, seqs) -> None:
        self.mean_, self.std_ = standardisation(seqs)

    def _network(self, seqs):
        return _build_network(seqs[0].shape[1], 1 if self.regression else self.n_classes, self.hidden, self.raw,
                              self.layers)

    def _batch(self, seqs, indices, rng=None) -> tuple:
        """Network inputs for `indices`: (frames, mask); random crops of long clips when `rng` is given."""
        limit = self.max_frames * (160 if self.raw else 1)
        return padded([seqs[i] for i in indices], self.mean_, self.std_, limit, rng, 400 if self.raw else 1)

    def _on_device(self, seqs, indices, rng=None) -> list:
        """`_batch`'s tensors on the network's device."""
        return [place(t, self.device) for t in self._batch(seqs, indices, rng)]

    def fit(self, seqs, y, val_seqs=None, val_y=None):
        torch = _torch()
        from featbench.train.metrics import headline

        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        self._standardise(seqs)
        if self.regression:
            loss_fn, y_t = self._regression_loss(y)
        else:
            counts = np.bincount(y, minlength=self.n_classes).astype(np.float32)
            weights = torch.tensor(np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / self.n_classes, 0.0), dtype=torch.float32)
            loss_fn = torch.nn.CrossEntropyLoss(weight=place(weights, self.device))
            y_t = torch.as_tensor(np.asarray(y), dtype=torch.long)
        y_t = place(y_t, self.device)
        self.net_ = place(self._network(seqs), self.device)
        layer_logits = [p for n, p in self.net_.named_parameters() if n == "layer_logits"]
        rest = [p for n, p in self.net_.named_parameters() if n != "layer_logits"]
        groups = [{"params": rest}] + ([{"params": layer_logits, "lr": 10 * self.lr, "weight_decay": 0.0}] if layer_logits else [])
        optimiser = torch.optim.Adam(groups, lr=self.lr, weight_decay=self.weight_decay)  # 7 layer weights move 10x faster
        best, best_state, stale = -1.0, None, 0
        self.epochs_ = 0
        for epoch in range(self.max_epochs):
            self.net_.train()
            order = rng.permutation(len(seqs))
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                inputs = self._on_device(seqs, idx, rng)
                optimiser.zero_grad()
                out = self.net_(*inputs)
                loss = loss_fn(out[:, 0] if self.regression else out, y_t[idx])
                loss.backward()
                optimiser.step()
            self.epochs_ = epoch + 1
            if val_seqs is None or not len(val_seqs):
                continue
            score = headline(val_y, self.predict(val_seqs), self.regression)
            if score > best:
                best, stale = score, 0
                best_state = {k: v.detach().clone() for k, v in self.net_.state_dict().items()}
            else:
                stale += 1
                if stale >= self.patience:
                    break
        if best_state is not None:
            self.net_.load_state_dict(best_state)
        self.val_ua_ = best
        return self

    def _regression_loss(self, y) -> tuple:
        """(mean squared error, the target standardised with its training mean and std, kept for predict)."""
        torch = _torch()
        y = np.asarray(y, np.float64)
        self.y_mean_, self.y_std_ = float(y.mean()), float(y.std()) or 1.0
        return torch.nn.MSELoss(), torch.as_tensor((y - self.y_mean_) / self.y_std_, dtype=torch.float32)

    def _outputs(self, seqs):
        """The network's outputs for `seqs`, batch by batch, as one tensor (n, outputs)."""
        torch = _torch()
        self.net_.eval()
        with torch.no_grad():
            return torch.cat([self.net_(*self._on_device(seqs, range(start, min(start + self.batch_size, len(seqs)))))
                              for start in range(0, len(seqs), self.batch_size)])

    def _values(self, seqs) -> np.ndarray:
        """Regression: predictions on the target's scale, (n,)."""
        return to_numpy(self._outputs(seqs)[:, 0]).astype(np.float64) * self.y_std_ + self.y_mean_

    def predict_proba(self, seqs) -> np.ndarray:
        """Class probabilities, (n, n_classes)."""
        return to_numpy(_torch().softmax(self._outputs(seqs), 1))

    def predict(self, seqs) -> np.ndarray:
        """Class indices, or values of the target with `regression`."""
        return self._values(seqs) if self.regression else self.predict_proba(seqs).argmax(1)


def standardisation(seqs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and std (+1e-5) over every row of `seqs` (computed in float64, returned float32)."""
    stacked = np.concatenate(seqs).astype(np.float64)
    return stacked.mean(0).astype(np.float32), (stacked.std(0) + 1e-5).astype(np.float32)


def padded(chunks: list[np.ndarray], mean: np.ndarray, std: np.ndarray, limit: int, rng=None, min_length: int = 1):
    """Standardised sequences (float32 or float16, as stored) zero-padded into one float32 batch: (x (B, T, D),
    mask (B, T) True on real rows).
    With `rng`, a sequence longer than `limit` rows is randomly cropped to `limit` (training)."""
    torch = _torch()
    cut = []
    for s in chunks:
        if rng is not None and len(s) > limit:
            start = int(rng.integers(0, len(s) - limit + 1))
            s = s[start:start + limit]
        cut.append(s)
    longest = max(max(len(c) for c in cut), min_length)
    x = np.zeros((len(cut), longest, cut[0].shape[1]), np.float32)
    mask = np.zeros((len(cut), longest), bool)
    for k, c in enumerate(cut):
        x[k, :len(c)] = (c - mean) / std
        mask[k, :len(c)] = True
    return torch.from_numpy(x), torch.from_numpy(mask)
