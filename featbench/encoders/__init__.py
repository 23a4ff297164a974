"""Pretrained speech encoders as networks: opening fairseq checkpoints without fairseq, the wav2vec (v1)
model and vq-wav2vec's quantizers in plain PyTorch, fairseq wav2vec 2.0 / HuBERT mapped onto transformers,
and running any of them over long clips (every layer, windowed and stitched). The feature families that use them live in
`featbench.features.pretrained_families`.

Public surface (imported lazily, so that importing featbench does not import torch):
`load_checkpoint`, `model_config` (checkpoint), `Wav2VecV1`, `Wav2VecV1Config` (wav2vec1),
`build_hf_model` (fairseq_transformer), `stitch`, `windows` (runtime).

>>> from featbench.encoders import windows
>>> windows(1000, 2000, 100)
[(0, 1000, 0, 1000)]
"""
from __future__ import annotations

import importlib

_SURFACE = {
    "load_checkpoint": "checkpoint", "model_config": "checkpoint", "Wav2VecV1": "wav2vec1",
    "Wav2VecV1Config": "wav2vec1", "build_hf_model": "fairseq_transformer", "stitch": "runtime", "windows": "runtime",
}
__all__ = sorted(_SURFACE)


def __getattr__(name: str):
    if name in _SURFACE:
        return getattr(importlib.import_module(f"featbench.encoders.{_SURFACE[name]}"), name)
    raise AttributeError(f"module 'featbench.encoders' has no attribute '{name}'")
