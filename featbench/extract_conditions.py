"""Extraction under recording conditions: each clip decoded once, degraded by every condition, and every family
extracted from every version; a family's features under condition C are stored as `stored_name(family, C)`.

`plan_conditions` checks the conditions against the corpus (before any clip), binds them to the fold scheme
training uses (`featbench.protocol.folds`: babble for a test clip is drawn from speakers outside its training
folds) and derives each stored family's `FamilyMeta`: its config is the family's plus the condition's config,
the condition seed and, for a condition that mixes in other clips, the folds' test groups; its config hash
derives from the family's and those. A clip's per-clip hash under a condition that mixes in other clips adds
their files' hashes, so a changed talker file degrades the clip again. `clean` alone is no plan at all:
extraction is then exactly what it was before conditions existed.

The degradation of a clip is timed and shared among the stored families it feeds (timings.csv), so their cost
includes it; a clip a condition cannot degrade (no active speech for an SNR) is that stored family's failure in
errors.csv, and the rest goes on.

>>> import pandas as pd
>>> from featbench.extract import check_families
>>> from featbench.audio import AudioConfig
>>> table = pd.DataFrame({"id": ["a"], "path": ["a.wav"], "label": ["x"], "group": ["g"]})
>>> plan = plan_conditions("clean,white:20", table, check_families([("fbank", {})], AudioConfig()), {}, 0)
>>> sorted(plan.metas), plan.metas["fbank~white_20"].config["condition_seed"]
(['fbank', 'fbank~white_20'], 0)
>>> plan_conditions("clean", table, {}, {}, 0) is None
True
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from featbench.audio import AudioConfig, AudioProblem, file_hash, load
from featbench.device import Device
from featbench.errors import FeatbenchError
from featbench.features import InputKind
from featbench.protocol.conditions import (CLEAN, Condition, ConditionClip, parse_condition, parse_conditions,
                                          stored_name)
from featbench.protocol.conditions.base import refuse, slug
from featbench.protocol.folds import default_n_folds, make_folds
from featbench.store import FamilyMeta
from featbench.extract_steps import build_families, extract_family, per_clip
from featbench.store.conditions import StoredCondition, read_conditions


def needs_corpus(condition: Condition) -> bool:
    """Whether `condition` (or a part of a chain) binds itself to a corpus and its folds (babble does).

    >>> from featbench.protocol.conditions import parse_condition
    >>> needs_corpus(parse_condition("white:20")), needs_corpus(parse_condition("gain:-6+lowpass:3000"))
    (False, False)
    """
    return bool(condition.needs_corpus)


def as_conditions(conditions) -> list[Condition]:
    """A comma list, or a list of spellings or Conditions, as Conditions, each once (each refused in one line)."""
    if isinstance(conditions, str):
        return parse_conditions(conditions)
    chosen = [parse_condition(c) for c in conditions]
    texts = [c.text for c in chosen]
    if not chosen:
        raise refuse("", "no condition given")
    if len(set(texts)) < len(texts):
        raise refuse(next(t for t in texts if texts.count(t) > 1), "given twice; name each condition once")
    return chosen


@dataclass(frozen=True)
class ConditionPlan:
    """What a run extracts under its conditions. `conditions`: (slug, bound condition), in the order given;
    `units`: (stored name, family, slug) of every family under every condition; `paths`: (id, path) of the clips
    other clips mix in (the talkers; empty where no condition reads other clips); `folds`: each fold's test groups
    (empty where no condition depends on folds). `metas` is for the parent only (not sent to workers)."""

    seed: int
    conditions: tuple[tuple[str, Condition], ...]
    units: tuple[tuple[str, str, str], ...]
    paths: tuple[tuple[str, str], ...] = ()
    folds: tuple[tuple[str, ...], ...] = ()
    metas: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def bound(self, key: str) -> Condition:
        return dict(self.conditions)[key]

    def hashes(self, table: pd.DataFrame, base: dict, file_hashes: dict) -> dict[str, dict[str, str]]:
        """{stored name: {id: per-clip hash}}: the family's own (`base`), and for a condition that mixes in other
        clips a hash of it and their files' hashes."""
        paths = dict(zip(table["id"], table["path"]))
        out = {}
        for stored, family, key in self.units:
            condition = self.bound(key)
            if key == CLEAN or not needs_corpus(condition):
                out[stored] = base[family]
                continue
            out[stored] = {uid: _with_sources(own, [_hash_of(paths[s], file_hashes) for s in condition.sources(uid)])
                           for uid, own in base[family].items()}
        return out

    def records(self, table: pd.DataFrame, store) -> list[StoredCondition]:
        """conditions.json records of this run's non-clean conditions (families of an earlier record of the same
        condition, seed and folds kept)."""
        earlier = read_conditions(store)
        records = []
        for key, condition in self.conditions:
            if key == CLEAN:
                continue
            families = tuple(f for s, f, k in self.units if k == key)
            corpus = needs_corpus(condition)
            folds = self.folds if corpus else ()
            sources = {uid: tuple(condition.sources(uid)) for uid in table["id"]} if corpus else {}
            old = earlier.get(key)
            if old and (old.config_hash, old.seed, old.folds) == (condition.config_hash, self.seed, folds):
                families = tuple(dict.fromkeys([*old.families, *families]))
            records.append(StoredCondition(condition.text, key, condition.config_hash, self.seed, folds,
                                           families, {k: v for k, v in sources.items() if v}))
        return records


def _hash_of(path: str, file_hashes: dict) -> str:
    if path not in file_hashes:
        try:
            file_hashes[path] = file_hash(path)
        except OSError:
            file_hashes[path] = "missing"
    return file_hashes[path]


def _with_sources(own: str, talkers: list[str]) -> str:
    return own if not talkers else hashlib.sha256("+".join([own, *talkers]).encode()).hexdigest()[:16]


def plan_conditions(conditions, table: pd.DataFrame, metas: dict, transcripts: dict, seed: int,
                    n_folds: int | None = None) -> ConditionPlan | None:
    """The plan of a run under `conditions` (a comma list, or spellings/Conditions); None for clean alone (or
    None). Every refusal is one line, before any clip: a bad spelling, a corpus a condition cannot serve, a fold
    scheme that cannot be made, a text family under a condition other than clean (transcripts do not change
    with the recording)."""
    if conditions is None:
        return None
    chosen = as_conditions(conditions)
    if [c.text for c in chosen] == [CLEAN]:
        return None
    text_families = sorted(transcripts)
    if text_families and any(c.text != CLEAN for c in chosen):
        raise FeatbenchError(f"family '{text_families[0]}' reads transcripts, which no recording condition changes: "
                             "extract text families without --conditions (or with clean alone)")
    bound, folds = bind_all(chosen, table, n_folds, seed)
    units = tuple((stored_name(family, c), family, key) for key, c in bound for family in metas)
    test_groups = tuple(tuple(f.test_groups) for f in folds)
    talkers = {s for key, c in bound if needs_corpus(c) for uid in table["id"] for s in c.sources(uid)}
    paths = tuple((uid, path) for uid, path in zip(table["id"], table["path"]) if uid in talkers)
    stored = {name: _stored_meta(metas[family], c, int(seed), test_groups if needs_corpus(c) else None)
              for (name, family, key), c in zip(units, [dict(bound)[k] for _, _, k in units])}
    return ConditionPlan(int(seed), tuple(bound), units, paths, test_groups, stored)


def bind_all(chosen: list[Condition], table: pd.DataFrame, n_folds: int | None, seed: int) -> tuple[list, list]:
    """([(slug, condition bound to `table` and its folds)], the folds: [] where no condition draws talkers from
    them); the seed, each condition's check of the corpus and the fold scheme refused in one line."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2 ** 32:
        raise FeatbenchError(f"condition seed {seed!r}: must be a whole number in [0, 2^32)")
    for condition in chosen:
        condition.check(table)
    folds = _folds(chosen, table, n_folds)
    return [(slug(c.text), c.bind(table, folds) if needs_corpus(c) else c) for c in chosen], folds


def _folds(chosen: list[Condition], table: pd.DataFrame, n_folds: int | None) -> list:
    """The fold scheme training uses, where a condition draws its talkers from it ([] where none does)."""
    corpus = [c for c in chosen if needs_corpus(c)]
    if not corpus:
        return []
    try:
        return make_folds(table, n_folds or default_n_folds(table))
    except FeatbenchError as err:
        raise FeatbenchError(f"condition '{corpus[0].text}' draws its talkers outside each test clip's training "
                             f"folds, and the fold scheme cannot be made: {err}") from None


def _stored_meta(meta: FamilyMeta, condition: Condition, seed: int, folds) -> FamilyMeta:
    """The FamilyMeta of `meta`'s family under `condition`: the family's own for clean."""
    if condition.text == CLEAN:
        return meta
    extra = condition_config(condition, seed, folds)
    return dataclasses.replace(meta, family=stored_name(meta.family, condition), config={**meta.config, **extra},
                               config_hash=stored_config_hash(meta.config_hash, condition, seed, folds))


def condition_config(condition: Condition, seed: int, folds=None) -> dict:
    """What a stored family's config adds for its condition: the condition's config, the seed, and the folds' test
    groups of a condition that draws talkers from them (`folds` not None)."""
    extra = {"condition": condition.config(), "condition_seed": int(seed)}
    if folds is not None:
        extra["condition_folds"] = [list(f) for f in folds]
    return extra


def stored_config_hash(family_hash: str, condition: Condition, seed: int, folds=None) -> str:
    """The config hash of a family (hash `family_hash`) stored under `condition` (`family_hash` itself for clean).

    >>> from featbench.protocol.conditions import parse_condition
    >>> stored_config_hash("877bfa4d7bd3", parse_condition("clean"), 0)
    '877bfa4d7bd3'
    >>> stored_config_hash("877bfa4d7bd3", parse_condition("white:20"), 0) != stored_config_hash("877bfa4d7bd3", parse_condition("white:20"), 1)
    True
    """
    if condition.text == CLEAN:
        return family_hash
    identity = json.dumps([family_hash, condition.config_hash, condition_config(condition, seed, folds)], sort_keys=True)
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


@dataclass
class Workshop:
    """A worker's context under conditions: its families (built once) and the run's plan."""

    families: dict
    plan: ConditionPlan


def build_workshop(specs: list, audio: AudioConfig, device: Device, plan: ConditionPlan) -> Workshop:
    """The setup of a worker under conditions (`featbench.executors`): its families built once, and the plan."""
    return Workshop(build_families(specs, audio, device), plan)


class Talkers:
    """Other clips' decoded audio by id (the run's AudioConfig), each decoded once per batch; a clip that cannot be
    decoded is a ValueError naming it (the failure of the clip that mixes it in)."""

    def __init__(self, paths: dict, audio: AudioConfig):
        self.paths, self.audio, self.cache = paths, audio, {}

    def load(self, uid: str) -> np.ndarray:
        if uid not in self.cache:
            if uid not in self.paths:
                raise ValueError(f"clip '{uid}' is not a talker this run may read")
            try:
                self.cache[uid] = load(self.paths[uid], self.audio)
            except AudioProblem as err:
                raise ValueError(f"talker clip '{uid}': {err}") from None
        return self.cache[uid]


def degrade(condition: Condition, signal: np.ndarray, rate: int, clip: ConditionClip) -> np.ndarray:
    """`condition` applied to a copy of `signal`, checked: finite float32 samples, one channel, not empty (else a
    ValueError, the clip's failure)."""
    out = np.asarray(condition.apply(signal.copy(), rate, clip))
    if out.ndim != 1 or not out.size:
        raise ValueError(f"condition '{condition.text}' returned audio of shape {out.shape}")
    if out.dtype.kind != "f" or not np.all(np.isfinite(out)):
        raise ValueError(f"condition '{condition.text}' returned non-finite or non-float samples")
    return out.astype(np.float32, copy=False)


def extract_conditioned(workshop: Workshop, batch) -> list[tuple[str, str, tuple]]:
    """`featbench.extract.extract_batch` under conditions: each clip decoded once, degraded once per condition,
    and every stored family that still needs it extracted from that version (the batch's items name stored
    families). The seconds a clip's degradation took are shared among the stored families it feeds."""
    families, plan = workshop.families, workshop.plan
    family_of = {stored: family for stored, family, _ in plan.units}
    signals, results, seconds = {}, {}, {}
    spent: dict[str, dict[str, float]] = {uid: {} for uid, _, _ in batch.items}
    for uid, path, needed in batch.items:
        results[uid] = ({}, {}, {})
        audio_needed = [n for n in needed if families[family_of[n]].input is InputKind.AUDIO]
        if not audio_needed:
            continue
        try:
            signals[uid] = load(path, batch.audio)
            seconds[uid] = signals[uid].size / batch.audio.sample_rate
        except AudioProblem as err:
            results[uid][1].update({name: str(err) for name in audio_needed})
    texts = {(uid, name): (text, problem) for uid, name, text, problem in batch.texts}
    talkers = Talkers(dict(plan.paths), batch.audio)
    for key, condition in plan.conditions:
        units = [(s, f) for s, f, k in plan.units if k == key and any(s in needed for _, _, needed in batch.items)]
        if not units:
            continue
        degraded = signals if key == CLEAN else _degraded(condition, plan.seed, batch, signals, talkers,
                                                          [s for s, _ in units], results, spent)
        for stored, family in units:
            start = time.perf_counter()
            extract_family(families[family], stored, batch, degraded, texts, results)
            done = [uid for uid, _, _ in batch.items if stored in results[uid][0]]
            for uid in done:
                spent[uid][stored] = spent[uid].get(stored, 0.0) + (time.perf_counter() - start) / len(done)
    took = {uid: {n: t for n, t in spent[uid].items() if n in results[uid][0]} for uid in spent}  # extracted only
    return [(uid, path, (results[uid][0], results[uid][1], seconds.get(uid, 0.0), results[uid][2], took[uid]))
            for uid, path, _ in batch.items]


def _degraded(condition: Condition, seed: int, batch, signals: dict, talkers: Talkers, stored: list[str],
              results: dict, spent: dict) -> dict:
    """{id: degraded signal} of the batch's clips that some of `stored` still needs; a clip the condition cannot
    degrade is the failure of each of them (its reason in errors.csv)."""
    out = {}
    for uid, _, needed in batch.items:
        wanted = [s for s in stored if s in needed]
        if not wanted or uid not in signals:
            continue
        start = time.perf_counter()
        try:
            out[uid] = degrade(condition, signals[uid], batch.audio.sample_rate, ConditionClip(uid, seed, talkers.load))
        except Exception as err:  # the clip's failure under this condition; configuration errors go up
            results[uid][1].update(dict.fromkeys(wanted, f"condition '{condition.text}': {per_clip(err)}"))
        for name in wanted:
            spent[uid][name] = spent[uid].get(name, 0.0) + (time.perf_counter() - start) / len(wanted)
    return out
