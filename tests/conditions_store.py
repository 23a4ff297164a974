"""Stores with features under recording conditions, written directly (no audio is degraded): a condition's features
are the clean family's rows plus seeded noise, stored under the condition's stored name with a conditions.json
record, as `featbench extract --conditions` stores them (featbench.store.conditions)."""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np

from featbench.protocol.conditions import parse_condition, stored_name
from featbench.protocol.conditions.base import slug


def add_condition(store: Path, text: str, families=("egemaps-func",), noise: float = 1.0, seed: int = 0,
                  skip=(), folds=(), sources=None, affine: tuple[float, float] | None = None) -> None:
    """Store each of `families` under condition `text`: its clean rows plus N(0, noise) per value, or (`affine`
    (a, b)) a * rows + b (clips in `skip` left out, as extract's errors.csv leaves them), and record the condition
    (`folds`, `sources`: a babble record)."""
    from featbench.store import StoreWriter, read_family
    from featbench.store.conditions import StoredCondition, read_conditions, write_conditions

    condition = parse_condition(text)
    rng = np.random.default_rng(seed)
    for family in families:
        clean = read_family(store, family)
        name = stored_name(family, condition)
        meta = replace(clean.meta, family=name, config_hash=f"{clean.meta.config_hash}~{condition.config_hash[:8]}")
        kept = [u for u in clean.ids if u not in skip]
        with StoreWriter(store) as writer:
            writer.prepare(meta)
            for uid in kept:
                x = np.asarray(clean.get(uid), dtype=np.float32)
                y = x * affine[0] + affine[1] if affine else x + noise * rng.standard_normal(x.shape)
                writer.add(name, uid, "h" + uid, y.astype(np.float32))
            writer.consolidate(name, kept)
    old = read_conditions(store).get(slug(condition.text))
    record = StoredCondition(condition.text, slug(condition.text), condition.config_hash, seed,
                             tuple(tuple(f) for f in folds), tuple(sorted({*families, *(old.families if old else ())})),
                             dict(sources or {}))
    write_conditions(store, [record])


def conditioned_copy(store: Path, folder: Path, conditions: dict) -> Path:
    """A copy of `store` in `folder` with each {condition text: noise} added to its egemaps-func."""
    copy = folder / "store"
    shutil.copytree(store, copy)
    for text, noise in conditions.items():
        add_condition(copy, text, noise=noise)
    return copy
