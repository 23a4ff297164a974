"""fairseq's Fp32GroupNorm, shared by the wav2vec (v1) encoder and the k-means quantizer of vq-wav2vec.

>>> import torch
>>> norm = GroupNorm32(2, 4)
>>> norm(torch.ones(1, 4, 3, dtype=torch.float64)).dtype
torch.float64
"""
from __future__ import annotations

from torch import nn


class GroupNorm32(nn.GroupNorm):
    """A GroupNorm computed in float32 whatever the input's dtype (output in the input's dtype)."""

    def forward(self, x):
        out = nn.functional.group_norm(x.float(), self.num_groups, self.weight.float() if self.weight is not None else None,
                                       self.bias.float() if self.bias is not None else None, self.eps)
        return out.type_as(x)
