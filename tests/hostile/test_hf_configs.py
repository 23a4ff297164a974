"""Surface: the config.json of a Hugging Face model folder (``--set hf.model=PATH``, ``whisper.model=PATH``).

featbench reads a saved model's config.json as JSON to check the family without importing transformers
(`featbench.features.pretrained_options.hf_config`), and hands any other file to transformers' AutoConfig (remote
code refused). The contract of building the family (what extract, train and `study plan` do before any clip): the
family with a sane layer shape (whole numbers, 1-256 layers of width 1-16,384, its column names and config hash
made), or one line naming the folder; in bounded time, never reading more than 1 MiB of configuration.

Generated cases: configs of a tiny Whisper and a tiny wav2vec 2.0 (written by transformers, no weights: the family
is only checked) with a field replaced by a hostile value, a field removed, byte-level damage, JSON of another
shape (a list, a string, deep nesting), huge numbers, and an oversized file.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from hostile.contract import Case, Surface, campaign, cases_budget, hostile_value, mutate

FIELDS = ("model_type", "encoder_layers", "d_model", "num_hidden_layers", "hidden_size", "auto_map", "architectures")


def _configs(workdir: Path) -> dict[str, dict]:
    """A tiny Whisper's and a tiny wav2vec 2.0's config.json as transformers writes them."""
    import transformers as tf

    whisper = tf.WhisperConfig(
        d_model=32,
        encoder_layers=2,
        encoder_attention_heads=2,
        decoder_layers=1,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        vocab_size=64,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=3,
    )
    wav2vec2 = tf.Wav2Vec2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    out = {}
    for name, config in (("whisper", whisper), ("wav2vec2", wav2vec2)):
        config.save_pretrained(workdir / f"template-{name}")
        out[name] = json.loads((workdir / f"template-{name}" / "config.json").read_text())
    return out


def _damaged(rng: random.Random, template: dict) -> tuple[bytes, str]:
    raw = dict(template)
    kind = rng.randrange(7)
    if kind == 0:
        raw[rng.choice(FIELDS)] = hostile_value(rng)
    elif kind == 1:
        raw.pop(rng.choice(FIELDS), None)
    elif kind == 2:
        shape = (
            ("encoder_layers", "d_model")
            if raw.get("model_type") == "whisper"
            else ("num_hidden_layers", "hidden_size")
        )
        raw[rng.choice(shape)] = rng.choice([10**400, 2**63, 10**6, 10**5, -(10**18), 0, True, 1.5, "12"])
    elif kind == 3:
        data = json.dumps(raw, default=repr).encode()
        for _ in range(rng.randrange(1, 4)):
            data = mutate(data, rng)
        return data, "bytes"
    elif kind == 4:
        depth = rng.choice([10, 5000, 200_000])
        return rng.choice([b"[" * depth + b"]" * depth, b"[]", b'"whisper"', b"3", b"null"]), "shape"
    elif kind == 5:
        raw["padding"] = "x" * (1 << 20)  # over the 1 MiB bound
    else:
        raw[rng.choice(FIELDS)] = {"a" * rng.randrange(1, 50): [hostile_value(rng)]}
    return json.dumps(raw, default=repr).encode(), f"kind {kind}"


def _sane(family) -> bool:
    layers, width = family.shape
    return (
        type(layers) is int
        and type(width) is int
        and 0 < layers <= 256
        and 0 < width <= 16384
        and len(family.columns) == (layers + 1) * width
        and len(family.config_hash()) == 12
    )


def hf_config_cases(rng: random.Random, workdir: Path):
    from featbench.features import build_family

    templates = _configs(workdir)
    i = 0
    while True:
        kind = rng.choice(sorted(templates))
        data, what = _damaged(rng, templates[kind])
        folder = workdir / f"model{i}"
        folder.mkdir()
        (folder / "config.json").write_bytes(data)
        i += 1
        yield Case(
            f"{folder.name} ({kind}, {what}, {len(data)} bytes)",
            lambda folder=folder: build_family("hf", {"model": str(folder), "layer": "all"}),
            check=_sane,
            names=(str(folder),),
            seconds=20,
        )


SURFACE = Surface("hf configs", hf_config_cases)


def test_hostile_hf_configs_give_a_sane_family_or_one_line(tmp_path):
    campaign(SURFACE, cases_budget(60), tmp_path).assert_clean(at_least=60)
