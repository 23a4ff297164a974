"""Run pretrained speech encoders and return every layer: (n_layers + 1, frames, dim) for one clip.

Layer 0 is the input to the first transformer layer (after the convolutional front end and positional
information); layer k is the output of transformer layer k as that layer returns it. Long clips are
cut into windows of `chunk_seconds` overlapping by `overlap_seconds` on each side, and the frames of
each window's core are stitched, so memory stays bounded whatever the clip length.

Whisper's encoder in transformers only accepts 30 s inputs. Two modes: 'padded' pads every window to
30 s of log-Mel frames exactly as Whisper was trained, then keeps the clip's own frames; 'adaptive'
encodes only the clip's own frames (positional embeddings truncated), about 30 s / clip length faster.
Windows of several clips go through together in both modes (adaptive ones with an attention mask over
their padding, `whisper_states_batch`), as do wav2vec 2.0-style models with a per-frame front end
(`batchable`).

Inputs follow the model (`featbench.device.place_like`: its device and floating-point type, see
``--device`` and ``--precision``) and every layer comes back as float32 numpy (`featbench.device.to_numpy`);
on the CPU in float32 both change nothing.
"""
from __future__ import annotations

import numpy as np

from featbench.device import place_like, to_numpy

HOP = 320  # samples per output frame at 16 kHz for wav2vec 2.0, HuBERT, WavLM, data2vec and Whisper (50 Hz)


def windows(n_samples: int, chunk: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """(start, end, keep_from, keep_to) sample bounds; the kept cores tile [0, n_samples) without gaps.

    >>> windows(1000, 2000, 100)
    [(0, 1000, 0, 1000)]
    >>> [w[2:] for w in windows(5000, 2000, 320)]
    [(0, 1680), (1680, 3040), (3040, 4400), (4400, 5000)]
    """
    if n_samples <= chunk:
        return [(0, n_samples, 0, n_samples)]
    step = chunk - 2 * overlap
    out, core = [], 0
    while core < n_samples:
        start = max(core - overlap, 0)
        end = min(start + chunk, n_samples)
        keep_to = n_samples if end == n_samples else end - overlap
        out.append((start, end, core, keep_to))
        core = keep_to
        if end == n_samples:
            break
    assert all(w[3] > w[2] for w in out) and step > 0
    return out


def stitch(n_samples: int, chunk_s: float, overlap_s: float, run) -> np.ndarray:
    """Apply `run(start, end) -> (layers, frames, dim)` per window and keep each window's core frames."""
    chunk = max(int(chunk_s * 16000) // HOP * HOP, 2 * HOP)
    overlap = int(overlap_s * 16000) // HOP * HOP
    overlap = min(overlap, (chunk - HOP) // 2 // HOP * HOP)
    parts = []
    for start, end, keep_from, keep_to in windows(n_samples, chunk, overlap):
        states = run(start, end)
        first = (keep_from - start) // HOP
        last = states.shape[1] if keep_to == n_samples else (keep_to - start) // HOP
        parts.append(states[:, first:last])
    return np.concatenate(parts, axis=1)


def transformer_states(model, wave: np.ndarray) -> np.ndarray:
    """All layers of a wav2vec 2.0-style transformers model for one window: (L + 1, frames, dim)."""
    return transformer_states_batch(model, [wave])[0]


def batchable(model) -> bool:
    """Padding a batch changes no valid frame only for models whose conv front end normalises per frame
    (layer norm) and whose encoder takes an attention mask; group-norm front ends normalise over time."""
    return getattr(model.config, "feat_extract_norm", "group") == "layer"


def transformer_states_batch(model, waves: list[np.ndarray]) -> list[np.ndarray]:
    """All layers for several windows at once, zero-padded with an attention mask: [(L + 1, frames_i, dim)]."""
    import torch

    lengths = [len(w) for w in waves]
    batch = np.zeros((len(waves), max(lengths)), np.float32)
    mask = np.zeros(batch.shape, np.int64)
    for i, wave in enumerate(waves):
        batch[i, :len(wave)], mask[i, :len(wave)] = wave, 1
    captured = {}
    hooks = [layer.register_forward_hook(lambda m, i, o, k=k: captured.__setitem__(k, o[0] if isinstance(o, tuple) else o))
             for k, layer in enumerate(model.encoder.layers)]
    try:
        with torch.no_grad():
            kwargs = {"attention_mask": place_like(torch.from_numpy(mask), model)} if len(waves) > 1 else {}
            out = model(place_like(torch.from_numpy(batch), model), output_hidden_states=True, **kwargs)
    finally:
        for hook in hooks:
            hook.remove()
    layers = to_numpy(torch.stack([out.hidden_states[0]] + [captured[k] for k in range(len(model.encoder.layers))], dim=1))
    frames = model._get_feat_extract_output_lengths(torch.tensor(lengths)).tolist()
    return [layers[i, :, :frames[i]] for i in range(len(waves))]


def whisper_states(encoder, feature_extractor, wave: np.ndarray, mode: str) -> np.ndarray:
    """All layers of a Whisper encoder for one window of at most 30 s: (L + 1, frames, dim)."""
    return whisper_states_batch(encoder, feature_extractor, [wave], mode)[0]


def whisper_states_batch(encoder, feature_extractor, waves: list[np.ndarray], mode: str) -> list[np.ndarray]:
    """Several windows at once, each as it would be alone. 'padded': every window is padded to 30 s anyway.
    'adaptive': each window's own log-Mel frames, zero-padded to the longest (as the convolutions pad each
    one's end), and an attention mask that hides the padded frames from every layer's attention."""
    import torch
    from torch.nn import functional as F

    n_frames = [len(w) // HOP for w in waves]  # complete frames only, in both modes
    if mode == "padded":
        mel, counts = feature_extractor(list(waves), sampling_rate=16000, return_tensors="pt").input_features, None
    else:
        mel, counts = _own_mels(feature_extractor, waves)
    with torch.no_grad():
        h = F.gelu(encoder.conv1(place_like(mel, encoder)))
        h = F.gelu(encoder.conv2(h)).permute(0, 2, 1)
        h = h + encoder.embed_positions.weight[: h.shape[1]]
        mask = _key_mask(counts, h) if counts is not None and len(waves) > 1 else None
        layers = [h]
        for layer in encoder.layers:
            h = layer(h, mask)
            h = h[0] if isinstance(h, tuple) else h
            layers.append(h)
    stacked = to_numpy(torch.stack(layers, dim=1))  # (B, L + 1, frames, dim)
    return [stacked[i, :, :n] for i, n in enumerate(n_frames)]


def _own_mels(feature_extractor, waves: list[np.ndarray]):
    """Each window's own log-Mel frames (zero-padded to an even count, as the stride-2 convolution needs), zero-padded
    to the longest: ((B, mels, frames), each window's count of encoder frames)."""
    import torch

    mels = [feature_extractor(w, sampling_rate=16000, return_tensors="pt", padding="longest").input_features[0]
            for w in waves]
    widths = [m.shape[-1] + m.shape[-1] % 2 for m in mels]
    batch = torch.zeros(len(mels), mels[0].shape[0], max(widths), dtype=mels[0].dtype)
    for i, m in enumerate(mels):
        batch[i, :, :m.shape[-1]] = m
    return batch, [w // 2 for w in widths]


def _key_mask(counts: list[int], h):
    """The additive attention mask (B, 1, T, T) of a batch whose window i holds `counts[i]` real frames: the
    smallest float of `h`'s type on padded keys, so that no real frame attends to padding."""
    import torch

    real = torch.arange(h.shape[1], device=h.device)[None, :] < torch.tensor(counts, device=h.device)[:, None]
    mask = torch.zeros(real.shape, dtype=h.dtype, device=h.device).masked_fill(~real, torch.finfo(h.dtype).min)
    return mask[:, None, None, :].expand(-1, 1, h.shape[1], -1)
