"""Learned layer weighting for utterance-level classifiers (the pooled counterpart of SUPERB's weighted sum).

Input: one row per utterance holding every layer's pooled statistics side by side, `n_layers` blocks of
equal width (`store.meta.layer_blocks`; `FamilyMeta.blocks` makes them). Each block is standardised
(training statistics), then softmax weights over the layers and a class-weighted linear softmax classifier
are fitted jointly (L-BFGS, L2 on the linear weights) on the training rows only. The mixture is re-standardised inside the fit, so its scale (larger for fewer
layers, since layers are not perfectly correlated) cannot make the L2 penalty favour a single layer.
`transform` returns the weighted sum of the standardised blocks: one block-wide
row per utterance, ready for any classifier. The weights are in `weights_`. The fit runs on `device`
(`featbench.device`; the CPU by default), `transform` in numpy. A weighting built with `fixed` weights learns
only the standardisation.

The learned weights minimise the training rows' loss, and so favour the layer that separates the training rows
most easily, which need not be the one that tells new speakers apart (issue 28: on nEMO, 0.7 on L2 and 0.2 on L1,
where validation speakers pick L3 or L4 and L2+L1 lose 8 points of UA). `candidates` therefore offers, beside the
learned weights, uniform weights and each layer alone, and `train.entry` chooses among them on validation speakers.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y = np.repeat([0, 1], 50)
>>> noise, signal = rng.normal(size=(100, 4)), rng.normal(size=(100, 4)) + y[:, None]
>>> w = LayerWeighting(n_layers=2).fit(np.hstack([noise, signal]), y)
>>> int(np.argmax(w.weights_)), w.transform(np.hstack([noise, signal])).shape
(1, (100, 4))
>>> sorted(candidates(2))
['L0', 'L1', 'learned', 'uniform']
>>> candidates(2)["L1"].fit(np.hstack([noise, signal]), y).weights_.tolist()
[0.0, 1.0]
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featbench.device import CPU, Device, place, to_numpy
from featbench.layers import layer_blocks


@dataclass
class LayerWeighting:
    """Softmax layer weights fitted with a linear classifier; `transform` gives the weighted sum of layers."""

    n_layers: int
    l2: float = 1e-3
    max_iter: int = 100
    device: Device = CPU
    fixed: tuple[float, ...] | None = None  # weights given, not learned (`fit` standardises the blocks only)

    def _blocks(self, X: np.ndarray) -> np.ndarray:
        return layer_blocks(np.asarray(X, np.float64), self.n_layers)

    def fit(self, X, y) -> LayerWeighting:
        import torch

        blocks = self._blocks(X)
        self.mean_ = blocks.mean(0)
        self.scale_ = blocks.std(0) + 1e-8
        if self.fixed is not None:
            self.weights_ = np.asarray(self.fixed, np.float64)
            return self
        on = self.device.torch
        z = place(torch.from_numpy(((blocks - self.mean_) / self.scale_).astype(np.float32)), self.device)
        y = np.asarray(y)
        classes, codes = np.unique(y, return_inverse=True)
        counts = np.bincount(codes).astype(np.float32)
        loss_fn = torch.nn.CrossEntropyLoss(weight=place(torch.from_numpy(counts.sum() / counts / len(classes)), self.device))
        target = place(torch.from_numpy(codes.astype(np.int64)), self.device)
        logits = torch.zeros(self.n_layers, device=on, requires_grad=True)  # zero start: equal weights, deterministic
        weight = torch.zeros(z.shape[2], len(classes), device=on, requires_grad=True)
        bias = torch.zeros(len(classes), device=on, requires_grad=True)
        optimiser = torch.optim.LBFGS([logits, weight, bias], max_iter=self.max_iter, line_search_fn="strong_wolfe")

        def closure():
            optimiser.zero_grad()
            mixed = torch.einsum("nld,l->nd", z, torch.softmax(logits, 0))
            mixed = (mixed - mixed.mean(0)) / (mixed.std(0) + 1e-6)  # so the L2 penalty cannot favour one layer
            loss = loss_fn(mixed @ weight + bias, target) + self.l2 * (weight * weight).sum()
            loss.backward()
            return loss

        optimiser.step(closure)
        self.weights_ = to_numpy(torch.softmax(logits.detach(), 0)).astype(np.float64)
        return self

    def transform(self, X) -> np.ndarray:
        """The weighted sum of the standardised layer blocks: (n, block width), float32."""
        z = (self._blocks(X) - self.mean_) / self.scale_
        return np.einsum("nld,l->nd", z, self.weights_).astype(np.float32)


LEARNED, UNIFORM = "learned", "uniform"


def candidates(n_layers: int, device: Device = CPU) -> dict[str, LayerWeighting]:
    """The weightings an ``@weighted`` view chooses among on validation speakers, unfitted, by name: the learned
    weights, uniform weights, and each layer alone ('L0', 'L1', ...: the layer's standardised block)."""
    from featbench.layers import layer_name

    made = {LEARNED: LayerWeighting(n_layers, device=device),
            UNIFORM: LayerWeighting(n_layers, device=device, fixed=(1 / n_layers,) * n_layers)}
    for k in range(n_layers):
        made[layer_name(k)] = LayerWeighting(n_layers, device=device, fixed=tuple(float(j == k) for j in range(n_layers)))
    return made
