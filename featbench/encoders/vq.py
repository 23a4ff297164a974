"""vq-wav2vec's vector quantizers in plain PyTorch, as fairseq runs them in eval mode (no fairseq needed).

Both split the encoder output z (B, C, T) into `groups` parts per frame and replace each part by one of
`vars` codewords of C / groups values (``combine_groups``: every group draws from one shared codebook):
- gumbel (``vq-wav2vec.pt``): a weight projection (``vq_depth`` Linear layers, hidden width 2 C, the model's
  activation in between) gives logits per group; eval takes the hard argmax (training samples Gumbel noise).
- kmeans (``vq-wav2vec_kmeans.pt``): a grouped 1x1 convolution and a GroupNorm project z; each group takes
  the nearest codeword (Euclidean distance).
`forward(z)` returns (q (B, C, T) the quantized features, codes (B, T, groups) int64 code indices). Codes are
chosen from finite scores only: a non-finite logit or distance (a NaN or inf encoder output, a damaged
checkpoint) raises ValueError, which fails that clip as a non-finite output=c does, instead of picking code 0.

>>> import torch
>>> cfg = VqConfig.from_args({"vq_type": "kmeans", "vq_vars": 4, "vq_groups": 2}, embed=8, source="x.pt")
>>> q, codes = build_quantizer(cfg, embed=8, activation=torch.nn.GELU())(torch.randn(1, 8, 5))
>>> tuple(q.shape), tuple(codes.shape), codes.dtype
((1, 8, 5), (1, 5, 2), torch.int64)
>>> VqConfig.from_args({"vq_type": "gumbel", "vq_dim": 4}, embed=8, source="x.pt")
Traceback (most recent call last):
featbench.errors.FeatbenchError: x.pt: vq-wav2vec option vq_dim=4 (quantized width other than the encoder's 8) is not supported by featbench's wav2vec loader
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from featbench.encoders.fp32_norm import GroupNorm32
from featbench.errors import FeatbenchError

VQ_DEFAULTS = dict(vq_vars=320, vq_groups=2, vq_dim=0, vq_depth=1, combine_groups=False)  # fairseq's Wav2VecConfig


@dataclass(frozen=True)
class VqConfig:
    """What a checkpoint's args say about its quantizer ('gumbel' or 'kmeans')."""

    kind: str
    vars: int
    groups: int
    depth: int
    combine_groups: bool

    @classmethod
    def from_args(cls, args: dict, embed: int, source: str) -> VqConfig:
        """The quantizer of a checkpoint's (flat) args; one-line FeatbenchError for what fairseq could not run either."""
        a = {**VQ_DEFAULTS, **{k: v for k, v in args.items() if v is not None}}
        kind, groups, dim = a["vq_type"], int(a["vq_groups"]), int(a["vq_dim"]) or embed
        refused = [
            (kind not in ("gumbel", "kmeans"), f"vq_type={kind!r}"),
            (dim != embed, f"vq_dim={dim} (quantized width other than the encoder's {embed})"),
            (groups < 1 or embed % groups, f"vq_groups={groups} (must divide the encoder width {embed})"),
            (int(a["vq_vars"]) < 1 or int(a["vq_depth"]) < 1, f"vq_vars={a['vq_vars']}, vq_depth={a['vq_depth']}"),
        ]
        for bad, what in refused:
            if bad:
                raise FeatbenchError(f"{source}: vq-wav2vec option {what} is not supported by featbench's wav2vec loader")
        return cls(kind, int(a["vq_vars"]), groups, int(a["vq_depth"]), bool(a["combine_groups"]))


class _Codebook(nn.Module):
    """Shared by both quantizers: look the chosen codewords up and put the groups side by side."""

    def __init__(self, cfg: VqConfig, embed: int):
        super().__init__()
        self.cfg, self.var_dim = cfg, embed // cfg.groups

    def lookup(self, codebooks: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """codebooks (groups or 1, vars, var_dim), codes (B, T, groups) -> q (B, groups * var_dim, T)."""
        shared = codebooks.size(0) == 1
        parts = [codebooks[0 if shared else g][codes[..., g]] for g in range(self.cfg.groups)]
        return torch.cat(parts, dim=-1).transpose(1, 2)

    @staticmethod
    def choose(scores: torch.Tensor, what: str, best) -> torch.Tensor:
        """`best(scores)` (argmax or argmin over the codewords), only when every score is finite."""
        if not bool(torch.isfinite(scores).all()):
            bad = int((~torch.isfinite(scores)).any(-1).any(-1).sum())
            raise ValueError(f"non-finite vq-wav2vec {what} in {bad} of {scores.shape[0] * scores.shape[1]} "
                             "frames (a NaN/inf encoder output or codebook): no code can be chosen")
        return best(scores)


class GumbelQuantizer(_Codebook):
    """fairseq's GumbelVectorQuantizer in eval mode (time_first=False, weight_proj_factor=2)."""

    def __init__(self, cfg: VqConfig, embed: int, activation: nn.Module):
        super().__init__(cfg, embed)
        self.vars = nn.Parameter(torch.zeros(1, (1 if cfg.combine_groups else cfg.groups) * cfg.vars, self.var_dim))
        inner = 2 * embed
        if cfg.depth > 1:
            blocks = [nn.Sequential(nn.Linear(embed if i == 0 else inner, inner), activation) for i in range(cfg.depth - 1)]
            self.weight_proj = nn.Sequential(*blocks, nn.Linear(inner, cfg.groups * cfg.vars))
        else:
            self.weight_proj = nn.Linear(embed, cfg.groups * cfg.vars)

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        """(B, C, T) -> (B, T, groups, vars)."""
        b, c, t = z.shape
        return self.weight_proj(z.transpose(1, 2).reshape(-1, c)).view(b, t, self.cfg.groups, self.cfg.vars)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        codes = self.choose(self.logits(z), "logits", lambda x: x.max(-1)[1])  # fairseq's x.max(-1): the hard argmax
        return self.lookup(self.vars.view(-1, self.cfg.vars, self.var_dim), codes), codes


class KmeansQuantizer(_Codebook):
    """fairseq's KmeansVectorQuantizer in eval mode (time_first=False)."""

    def __init__(self, cfg: VqConfig, embed: int):
        super().__init__(cfg, embed)
        self.embedding = nn.Parameter(torch.zeros(cfg.vars, 1 if cfg.combine_groups else cfg.groups, self.var_dim))
        self.projection = nn.Sequential(nn.Conv1d(embed, embed, 1, groups=cfg.groups, bias=False),
                                        GroupNorm32(cfg.groups, embed))

    def distances(self, z: torch.Tensor) -> torch.Tensor:
        """(B, C, T) -> (B, T, groups, vars): Euclidean distance of each projected group to each codeword."""
        ze = self.projection(z)
        b, _, t = ze.shape
        parts = ze.view(b, self.cfg.groups, self.var_dim, t).permute(1, 0, 3, 2)  # (groups, B, T, var_dim)
        books = self.embedding.transpose(0, 1).expand(self.cfg.groups, -1, -1)  # (groups, vars, var_dim)
        d = [torch.cdist(parts[g], books[g].unsqueeze(0), compute_mode="donot_use_mm_for_euclid_dist")
             for g in range(self.cfg.groups)]
        return torch.stack(d, dim=2)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        codes = self.choose(self.distances(z), "distances", lambda d: d.argmin(-1))
        return self.lookup(self.embedding.transpose(0, 1), codes), codes


def build_quantizer(cfg: VqConfig, embed: int, activation: nn.Module) -> nn.Module:
    """The quantizer a VqConfig describes (weights still to be loaded)."""
    return GumbelQuantizer(cfg, embed, activation) if cfg.kind == "gumbel" else KmeansQuantizer(cfg, embed)
