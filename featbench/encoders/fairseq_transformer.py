"""fairseq wav2vec 2.0 and HuBERT checkpoints mapped onto `transformers` models (no fairseq needed).

The checkpoint's own config (2020 ``args`` or Hydra ``cfg``) becomes a Wav2Vec2Config / HubertConfig;
the state dict is renamed onto the transformers model and loaded strictly (training-only heads:
quantizer, project_q, final_proj and label embeddings are dropped; mask_emb becomes masked_spec_embed). Options the mapping does
not cover (other layer types, positional conv depth > 1, non-GELU activations, ...) are refused by name.

>>> fairseq_key_to_hf("encoder.layers.3.self_attn.k_proj.weight")
'encoder.layers.3.attention.k_proj.weight'
>>> fairseq_key_to_hf("feature_extractor.conv_layers.0.2.1.weight")
'feature_extractor.conv_layers.0.layer_norm.weight'
"""
from __future__ import annotations

import re

from featbench.errors import FeatbenchError
from featbench.encoders.checkpoint import safe_eval_layers
from featbench.encoders.fit import check_fits

_DROP = ("quantizer.", "project_q.", "final_proj.", "label_embs_concat", "target_glu.")
_RENAMES = [
    (r"^mask_emb$", "masked_spec_embed"),
    (r"^feature_extractor\.conv_layers\.(\d+)\.0\.", r"feature_extractor.conv_layers.\1.conv."),
    (r"^feature_extractor\.conv_layers\.(\d+)\.2\.1\.", r"feature_extractor.conv_layers.\1.layer_norm."),
    (r"^feature_extractor\.conv_layers\.(\d+)\.2\.", r"feature_extractor.conv_layers.\1.layer_norm."),
    (r"^layer_norm\.", "feature_projection.layer_norm."),
    (r"^post_extract_proj\.", "feature_projection.projection."),
    (r"^encoder\.pos_conv\.0\.weight_g$", "encoder.pos_conv_embed.conv.parametrizations.weight.original0"),
    (r"^encoder\.pos_conv\.0\.weight_v$", "encoder.pos_conv_embed.conv.parametrizations.weight.original1"),
    (r"^encoder\.pos_conv\.0\.bias$", "encoder.pos_conv_embed.conv.bias"),
    (r"\.self_attn_layer_norm\.", ".layer_norm."),
    (r"\.self_attn\.", ".attention."),
    (r"\.fc1\.", ".feed_forward.intermediate_dense."),
    (r"\.fc2\.", ".feed_forward.output_dense."),
]


def fairseq_key_to_hf(key: str) -> str:
    for pattern, replacement in _RENAMES:
        key = re.sub(pattern, replacement, key)
    return key


def kind_of(model_cfg: dict, source: str = "checkpoint") -> str:
    name = str(model_cfg.get("_name") or model_cfg.get("arch") or "")
    if name.startswith("hubert"):
        return "hubert"
    if name.startswith("wav2vec2"):
        return "wav2vec2"
    raise FeatbenchError(f"{source}: checkpoint model {name[:80]!r} is neither wav2vec 2.0 nor HuBERT")


def hf_config(model_cfg: dict, source: str = "checkpoint"):
    """A transformers config equivalent to the fairseq model config; unsupported options are refused."""
    from transformers import HubertConfig, Wav2Vec2Config

    c = model_cfg
    checks = [
        (c.get("layer_type", "transformer") not in (None, "transformer"), f"layer_type={c.get('layer_type')!r}"),
        ((c.get("pos_conv_depth") or 1) != 1, f"pos_conv_depth={c.get('pos_conv_depth')!r}"),
        ((c.get("activation_fn") or "gelu") != "gelu", f"activation_fn={c.get('activation_fn')!r}"),
        (c.get("extractor_mode", "default") not in ("default", "layer_norm"), f"extractor_mode={c.get('extractor_mode')!r}"),
        (bool(c.get("conv_pos_batch_norm", False)), "conv_pos_batch_norm=True"),
    ]
    for bad, what in checks:
        if bad:
            raise FeatbenchError(f"{source}: option {what} is not supported by featbench's fairseq loader")
    layers = safe_eval_layers(c.get("conv_feature_layers") or "[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512,2,2)] * 2",
                              source)
    kind = kind_of(c, source)
    common = dict(
        hidden_size=int(c.get("encoder_embed_dim", 768)), num_hidden_layers=int(c.get("encoder_layers", 12)),
        num_attention_heads=int(c.get("encoder_attention_heads", 12)), intermediate_size=int(c.get("encoder_ffn_embed_dim", 3072)),
        hidden_act="gelu", conv_dim=[c[0] for c in layers], conv_kernel=[c[1] for c in layers], conv_stride=[c[2] for c in layers],
        conv_bias=bool(c.get("conv_bias", False)),
        feat_extract_norm="layer" if c.get("extractor_mode") == "layer_norm" else "group",
        num_conv_pos_embeddings=int(c.get("conv_pos", 128)), num_conv_pos_embedding_groups=int(c.get("conv_pos_groups", 16)),
        do_stable_layer_norm=bool(c.get("layer_norm_first", False)), layer_norm_eps=1e-5,
        hidden_dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, feat_proj_dropout=0.0, layerdrop=0.0,
        apply_spec_augment=False,
    )
    if kind == "hubert":
        return HubertConfig(**common, feat_proj_layer_norm=True)
    return Wav2Vec2Config(**common)


def build_hf_model(state: dict, model_cfg: dict, source: str = "checkpoint"):
    """The transformers model with the checkpoint's weights (float32, eval mode, eager attention)."""
    import torch
    from transformers import HubertModel, Wav2Vec2Model

    config = hf_config(model_cfg, source)
    config._attn_implementation = "eager"
    held = len({k.split(".")[2] for k in state if k.startswith("encoder.layers.") and k.count(".") > 2})
    if config.num_hidden_layers != held:  # before building even on the meta device: a config may claim 10**9
        raise FeatbenchError(f"{source}: weights do not fit the architecture its config describes "
                             f"({config.num_hidden_layers} transformer layers, the file holds {held})")
    architecture = HubertModel if kind_of(model_cfg) == "hubert" else Wav2Vec2Model
    weights = {fairseq_key_to_hf(k): v for k, v in state.items() if not k.startswith(_DROP)}
    norm = weights.get("feature_projection.layer_norm.weight")
    if "feature_projection.projection.weight" not in weights and norm is not None and norm.dim() == 1:  # conv dim == model dim: fairseq
        weights["feature_projection.projection.weight"] = torch.eye(norm.shape[0])  # has no projection (sized by the
        weights["feature_projection.projection.bias"] = torch.zeros(norm.shape[0])  # file, not by its config)
    check_fits(lambda: architecture(config), weights, source, "its config describes")
    model = architecture(config)
    weights = {k: v.float() for k, v in weights.items()}
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as err:
        first = str(err).splitlines()[0]
        raise FeatbenchError(f"{source}: weights do not fit the architecture its config describes ({first})") from err
    return model.eval()
