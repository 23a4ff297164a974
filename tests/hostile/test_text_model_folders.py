"""Surface: the text encoder folder a user names (``--set text.model=PATH``): its config.json and tokenizer files.

The contract of building the text family (what extract, train and `study plan` do before any clip): the family with a
sane shape (whole numbers, 1-256 layers of width 1-16,384, its column names and config hash made) and a usable
tokenizer (it encodes a sentence into ids the model has, within `max_tokens`), or one line naming the folder; in
bounded time; and nothing in the folder runs: every case carries a Python file, named by an ``auto_map`` in some
cases, that would write a trap file if it ran.

Generated cases: a tiny BERT's folder (config.json and a word-piece tokenizer; the family is only checked, its
weights never loaded) with one file damaged byte-wise or removed, a JSON field of config.json, tokenizer_config.json or
special_tokens_map.json replaced by a hostile value, huge numbers for the layer count, width, vocabulary and
positions, and code asked for through ``auto_map``.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from hostile.contract import Case, Surface, campaign, cases_budget, hostile_value, mutate

FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
JSON_FIELDS = {
    "config.json": (
        "model_type",
        "num_hidden_layers",
        "hidden_size",
        "vocab_size",
        "max_position_embeddings",
        "pad_token_id",
        "is_encoder_decoder",
    ),
    "tokenizer_config.json": ("tokenizer_class", "model_max_length", "do_lower_case", "unk_token", "cls_token"),
    "special_tokens_map.json": ("cls_token", "sep_token", "pad_token", "unk_token", "mask_token"),
}
HUGE = (10**400, 2**63, 10**9, -(10**18), 0, True, 1.5, "12")
TRAP = "trap-{name}"


def _template(workdir: Path) -> Path:
    """The tiny BERT of tests/test_text_family.py (2 layers, 16 dims, its word-piece vocabulary), with the
    special_tokens_map.json that older saves (all-MiniLM-L6-v2) have."""
    folder = workdir / "template"
    if not folder.is_dir():
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from test_text_family import _save_bert

        _save_bert(folder)
        tokens = {f"{k}_token": f"[{k.upper()}]" for k in ("cls", "sep", "pad", "unk", "mask")}
        (folder / "special_tokens_map.json").write_text(json.dumps(tokens))
    return folder


def _damage(rng: random.Random, folder: Path) -> str:
    name = rng.choice(FILES)
    path = folder / name
    kind = rng.randrange(5)
    if kind == 0 or name == "vocab.txt" and kind > 1:
        data = path.read_bytes()
        for _ in range(rng.randrange(1, 4)):
            data = mutate(data, rng)
        path.write_bytes(data)
        return f"{name} damaged"
    if kind == 1:
        path.unlink()
        return f"{name} removed"
    if name == "tokenizer.json":
        raw = json.loads(path.read_text())
        key = rng.choice(sorted(raw))
        raw[key] = hostile_value(rng) if kind == 2 else {"type": rng.choice(["WordPiece", "BPE", "Unigram", "x"])}
        path.write_text(json.dumps(raw, default=repr))
        return f"tokenizer.json {key}"
    raw = json.loads(path.read_text())
    field = rng.choice(JSON_FIELDS[name])
    if kind == 4:
        raw["auto_map"] = {"AutoConfig": "evil.Config", "AutoTokenizer": ["evil.Tokenizer", "evil.Tokenizer"]}
        return _written(path, raw, f"{name} auto_map")
    raw[field] = rng.choice(HUGE) if kind == 3 and name == "config.json" else hostile_value(rng)
    return _written(path, raw, f"{name} {field}")


def _written(path: Path, raw: dict, what: str) -> str:
    path.write_text(json.dumps(raw, default=repr))
    return what


def _built(folder: Path):
    """The family built from `folder`, and what a check needs; AssertionError (a traceback verdict) if code ran."""
    from featbench.features import build_family

    try:
        family = build_family("text", {"model": str(folder), "layer": "all"})
    finally:
        assert not (folder.parent / TRAP.format(name=folder.name)).exists(), f"{folder}: the folder's code ran"
    ids = family.tokenizer("the kids are talking by the door .")["input_ids"]
    return family, ids


def _sane(result) -> bool:
    family, ids = result
    layers, width = family.shape
    vocab = len(family.tokenizer)
    return (
        type(layers) is int
        and type(width) is int
        and 0 < layers <= 256
        and 0 < width <= 16384
        and len(family.columns) == (layers + 1) * width
        and len(family.config_hash()) == 12
        and 0 < len(ids)
        and all(0 <= i < vocab for i in ids)
        and family.max_tokens >= 2
    )


def text_folder_cases(rng: random.Random, workdir: Path):
    template = _template(workdir)
    i = 0
    while True:
        folder = workdir / f"text{i}"
        shutil.copytree(template, folder)
        trap = folder.parent / TRAP.format(name=folder.name)
        (folder / "evil.py").write_text(
            f"open({str(trap)!r}, 'w').close()\nclass Config: pass\nclass Tokenizer: pass\n"
        )
        what = _damage(rng, folder)
        i += 1
        yield Case(
            f"{folder.name} ({what})",
            lambda folder=folder: _built(folder),
            check=_sane,
            names=(str(folder),),
            seconds=20,
        )


SURFACE = Surface("text model folders", text_folder_cases)


def test_hostile_text_model_folders_give_a_usable_family_or_one_line(tmp_path):
    campaign(SURFACE, cases_budget(60), tmp_path).assert_clean(at_least=60)
