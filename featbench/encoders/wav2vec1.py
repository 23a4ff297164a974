"""wav2vec (v1, Schneider et al. 2019) and vq-wav2vec (Baevski et al. 2019) in plain PyTorch: feature encoder
(z), vector quantizer (q and its codes, vq-wav2vec only) and context aggregator (c, run on q when there is one).

Every architectural choice is read from the checkpoint's own args (conv layer specs, log compression,
skip connections in encoder and aggregator, residual scale, zero or replication padding, conv bias,
affine GroupNorm, ReLU/GELU, CNN or GRU aggregator, the gumbel or k-means quantizer: featbench.encoders.vq);
fields absent from a checkpoint's args take the defaults of fairseq's current Wav2VecConfig, as fairseq
does when it loads one. The state dict is loaded strictly and float16 weights are cast to float32.
Checkpoints with options this code does not implement (a non-CNN encoder, projected features) are
refused by name. The training-only parts (the prediction heads, and with them `offset`) are not built.

>>> cfg = Wav2VecV1Config.from_args({"conv_feature_layers": "[(8, 10, 5)]", "conv_aggregator_layers": "[(8, 2, 1)]"})
>>> import torch
>>> z, c = Wav2VecV1(cfg)(torch.zeros(1, 1000))
>>> tuple(z.shape), tuple(c.shape)
((1, 8, 199), (1, 8, 199))
>>> vq = Wav2VecV1(Wav2VecV1Config.from_args({"conv_feature_layers": "[(8, 10, 5)]", "conv_aggregator_layers": "[(8, 2, 1)]",
...                                           "vq_type": "gumbel", "vq_vars": 4}))
>>> {k: tuple(v.shape) for k, v in vq.encode(torch.zeros(1, 1000)).items()}
{'z': (1, 8, 199), 'q': (1, 8, 199), 'codes': (1, 199, 2), 'c': (1, 8, 199)}
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from torch import nn

from featbench.errors import FeatbenchError
from featbench.encoders.checkpoint import safe_eval_layers
from featbench.encoders.fit import check_fits
from featbench.encoders.fp32_norm import GroupNorm32
from featbench.encoders.vq import VqConfig, build_quantizer

DEFAULTS = dict(  # fairseq's current Wav2VecConfig defaults, which fairseq gives fields a checkpoint's args lack
    conv_feature_layers="[(512, 10, 5), (512, 8, 4), (512, 4, 2), (512, 4, 2), (512, 4, 2), (512, 1, 1), (512, 1, 1), (512, 1, 1)]",
    conv_aggregator_layers="[(512, 2, 1), (512, 3, 1), (512, 4, 1), (512, 5, 1), (512, 6, 1), (512, 7, 1), (512, 8, 1), (512, 9, 1), (512, 10, 1), (512, 11, 1), (512, 12, 1), (512, 13, 1)]",
    aggregator="cnn", encoder="cnn", gru_dim=512, no_conv_bias=False, agg_zero_pad=False,
    skip_connections_feat=False, skip_connections_agg=True, residual_scale=0.5, log_compression=True,
    non_affine_group_norm=False, activation="relu", vq_type="none", project_features="none",
)


@dataclass(frozen=True)
class Wav2VecV1Config:
    feature_layers: tuple
    aggregator_layers: tuple
    aggregator: str
    gru_dim: int
    conv_bias: bool
    zero_pad: bool
    skip_feat: bool
    skip_agg: bool
    residual_scale: float
    log_compression: bool
    affine_norm: bool
    activation: str
    vq: VqConfig | None = None  # vq-wav2vec's quantizer; None for wav2vec

    @classmethod
    def from_args(cls, args: dict, source: str = "checkpoint") -> Wav2VecV1Config:
        a = {**DEFAULTS, **{k: v for k, v in args.items() if v is not None}}
        unsupported = [
            (a["encoder"] != "cnn", f"encoder={a['encoder']!r}"),
            (a["project_features"] != "none", f"project_features={a['project_features']!r}"),
            (a["aggregator"] not in ("cnn", "gru"), f"aggregator={a['aggregator']!r}"),
            (a["activation"] not in ("relu", "gelu"), f"activation={a['activation']!r}"),
        ]
        for bad, what in unsupported:
            if bad:
                raise FeatbenchError(f"{source}: wav2vec option {what} is not supported by featbench's wav2vec loader")
        feature_layers = tuple(safe_eval_layers(a["conv_feature_layers"], source))
        vq = None if a["vq_type"] == "none" else VqConfig.from_args(a, feature_layers[-1][0], source)
        return cls(feature_layers, tuple(safe_eval_layers(a["conv_aggregator_layers"], source)),
                   a["aggregator"], int(a["gru_dim"]), not a["no_conv_bias"], bool(a["agg_zero_pad"]),
                   bool(a["skip_connections_feat"]), bool(a["skip_connections_agg"]), float(a["residual_scale"]),
                   bool(a["log_compression"]), not a["non_affine_group_norm"], a["activation"], vq)


class _ZeroPad1d(nn.Module):
    def __init__(self, left: int):
        super().__init__()
        self.left = left

    def forward(self, x):
        return nn.functional.pad(x, (self.left, 0))


class _FeatureEncoder(nn.Module):
    def __init__(self, cfg: Wav2VecV1Config):
        super().__init__()
        act = nn.ReLU() if cfg.activation == "relu" else nn.GELU()
        layers, in_d = [], 1
        for dim, k, stride in cfg.feature_layers:
            layers.append(nn.Sequential(nn.Conv1d(in_d, dim, k, stride=stride, bias=False), nn.Dropout(0.0),
                                        GroupNorm32(1, dim, affine=cfg.affine_norm), act))
            in_d = dim
        self.conv_layers = nn.ModuleList(layers)
        self.cfg = cfg
        self.scale = math.sqrt(cfg.residual_scale)

    def forward(self, x):
        x = x.unsqueeze(1)
        for conv in self.conv_layers:
            residual = x
            x = conv(x)
            if self.cfg.skip_feat and x.size(1) == residual.size(1):
                t, rt = x.size(2), residual.size(2)
                residual = residual[..., :: rt // t][..., :t]
                x = (x + residual) * self.scale
        if self.cfg.log_compression:
            x = (x.abs() + 1).log()
        return x


class _ConvAggregator(nn.Module):
    def __init__(self, cfg: Wav2VecV1Config, embed: int):
        super().__init__()
        act = nn.ReLU() if cfg.activation == "relu" else nn.GELU()
        layers, projections, in_d = [], [], embed
        for dim, k, stride in cfg.aggregator_layers:
            ka = k // 2
            kb = ka - 1 if k % 2 == 0 else ka
            pad = _ZeroPad1d(ka + kb) if cfg.zero_pad else nn.ReplicationPad1d((ka + kb, 0))
            projections.append(nn.Conv1d(in_d, dim, 1, bias=False) if in_d != dim and cfg.skip_agg else None)
            layers.append(nn.Sequential(pad, nn.Conv1d(in_d, dim, k, stride=stride, bias=cfg.conv_bias), nn.Dropout(0.0),
                                        GroupNorm32(1, dim, affine=cfg.affine_norm), act))
            in_d = dim
        self.conv_layers = nn.Sequential(*layers)
        self.residual_proj = nn.ModuleList(projections)
        self.cfg = cfg
        self.scale = math.sqrt(cfg.residual_scale)

    def forward(self, x):
        for projection, conv in zip(self.residual_proj, self.conv_layers):
            residual = x
            x = conv(x)
            if self.cfg.skip_agg:
                if projection is not None:
                    residual = projection(residual)
                x = (x + residual) * self.scale
        return x


class _GruAggregator(nn.Module):
    """fairseq's GRU aggregator, kept exactly: a (B, T, C) tensor enters a time-first GRU."""

    def __init__(self, embed: int, hidden: int):
        super().__init__()
        self.gru = nn.GRU(input_size=embed, hidden_size=hidden, num_layers=1)

    def forward(self, x):
        return self.gru(x.transpose(-2, -1))[0].transpose(-2, -1)


class Wav2VecV1(nn.Module):
    """forward(wave (B, samples)) -> (z (B, C, T), c (B, C', T)); `encode` also gives vq-wav2vec's q and codes."""

    def __init__(self, cfg: Wav2VecV1Config):
        super().__init__()
        self.feature_extractor = _FeatureEncoder(cfg)
        embed = cfg.feature_layers[-1][0]
        act = nn.ReLU() if cfg.activation == "relu" else nn.GELU()
        self.vector_quantizer = build_quantizer(cfg.vq, embed, act) if cfg.vq else None
        self.feature_aggregator = (_ConvAggregator(cfg, embed) if cfg.aggregator == "cnn" else _GruAggregator(embed, cfg.gru_dim))
        self.cfg = cfg

    def encode(self, wave) -> dict:
        """{'z': (B, C, T), 'q': (B, C, T), 'codes': (B, T, groups) int64, 'c': (B, C', T)}; q and codes for
        vq-wav2vec only, whose context network runs on q (as fairseq's Wav2VecModel.forward)."""
        out = {"z": self.feature_extractor(wave)}
        if self.vector_quantizer is not None:
            out["q"], out["codes"] = self.vector_quantizer(out["z"])
        out["c"] = self.feature_aggregator(out.get("q", out["z"]))
        return out

    def forward(self, wave):
        out = self.encode(wave)
        return out["z"], out["c"]

    @property
    def dims(self) -> dict[str, int]:
        """Width of each output this model has (q and codes: vq-wav2vec only)."""
        embed = self.cfg.feature_layers[-1][0]
        dims = {"z": embed, "c": self.cfg.aggregator_layers[-1][0] if self.cfg.aggregator == "cnn" else self.cfg.gru_dim}
        return dims | ({"q": embed, "codes": self.cfg.vq.groups} if self.cfg.vq else {})

    @classmethod
    def from_fairseq(cls, cfg: Wav2VecV1Config, state: dict, source: str = "checkpoint") -> Wav2VecV1:
        """The model `cfg` describes with the checkpoint's weights, in eval mode; weights that do not fit `cfg` are
        refused before the model is built (`featbench.encoders.fit`: a config may claim any size)."""
        check_fits(lambda: cls(cfg), _weights(cfg, state), source, "its args describe")
        model = cls(cfg)
        model.load_fairseq_state(state, source)
        return model.eval()

    def load_fairseq_state(self, state: dict, source: str = "checkpoint") -> None:
        """Load the checkpoint's model weights strictly (training-only heads are dropped), as float32."""
        weights = {key: value.float() for key, value in _weights(self.cfg, state).items()}
        try:
            self.load_state_dict(weights, strict=True)
        except RuntimeError as err:
            raise FeatbenchError(f"{source}: weights do not fit the architecture its args describe ({str(err).splitlines()[0]}"
                                 f"{' ...' if len(str(err).splitlines()) > 1 else ''})") from err


def _weights(cfg: Wav2VecV1Config, state: dict) -> dict:
    """The checkpoint's tensors under this model's names: training-only heads dropped, the GRU renamed."""
    weights = {}
    for key, value in state.items():
        if key.startswith(("wav2vec_predictions.", "project_features.")):
            continue
        if key.startswith("feature_aggregator.") and cfg.aggregator == "gru":
            key = key.replace("feature_aggregator.1.", "feature_aggregator.gru.")
        weights[key] = value
    return weights
