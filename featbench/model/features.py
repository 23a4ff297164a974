"""What a model reads: its families as the manifest records them, checked against the code and stores of today,
and a view's utterance matrix read from a store with the grid's own code (`train.runner.pooled_matrix`).

A family is rebuilt from the manifest (options, storage form, audio settings) and must give the config hash
the model was trained on: a moved checkpoint, a changed model folder or another library version that
changes the features is refused in one line before any clip is touched, as is a store whose family was
extracted with another configuration.

>>> family_spec_differences({"versions": {"opensmile": "2.5"}, "config": {}}, {"versions": {"opensmile": "2.6"}, "config": {}})
'opensmile 2.5 -> 2.6'
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from featbench.errors import FeatbenchError

SPEC_KEYS = ("family", "config", "config_hash", "audio", "versions", "rows", "layers", "dtype", "pooled", "sample_rate",
             "frame_rate")


def family_specs(store: str | Path, view) -> list[dict]:
    """The manifest's record of each family `view` reads from `store` (FamilyMeta fields, columns counted)."""
    from featbench.store import FamilyIndex, family_path

    specs = []
    for leaf in view.leaves:
        meta = FamilyIndex.read(family_path(store, leaf.family)).meta
        specs.append({**{k: getattr(meta, k) for k in SPEC_KEYS}, "dim": meta.dim, "description": meta.description})
    return specs


def family_spec_differences(saved: dict, now: dict) -> str:
    """What differs between two family records (library versions, then options), as one short phrase."""
    changes = []
    for part in ("versions", "config"):
        a, b = saved.get(part, {}), now.get(part, {})
        changes += [f"{k} {a.get(k, '-')} -> {b.get(k, '-')}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return ", ".join(changes) or "the audio settings or storage form"


def build_metas(model, folder: str | Path) -> dict:
    """{family: FamilyMeta} of the model's families as built now (options validated, models opened, as
    `extract` checks them), each checked to hash as the manifest says."""
    from featbench.audio import AudioConfig
    from featbench.extract import check_families

    metas = {}
    for spec in extracted_specs(model):
        name = spec["family"]
        try:
            audio = AudioConfig(**spec["audio"]) if spec["audio"] else AudioConfig()
            meta = check_families([(name, family_options(name, spec["config"]))], audio)[name]
        except FeatbenchError as err:
            raise FeatbenchError(f"{folder}: the model's family '{name}' cannot be built: {err}") from None
        if meta.config_hash != spec["config_hash"]:
            now = {"versions": meta.versions, "config": meta.config}
            raise FeatbenchError(f"{folder}: family '{name}' now has config hash {meta.config_hash}, the model was trained "
                                 f"on {spec['config_hash']} ({family_spec_differences(spec, now)}); its features would "
                                 "differ: fit the model again")
        metas[name] = meta
    return metas


def family_options(name: str, config: dict) -> dict:
    """The options to build family `name` with, from its recorded config (FamilyMeta.config also holds settings a
    family describes itself with, such as openSMILE's feature set, which are not options).

    >>> family_options("egemaps-func", {"feature_set": "eGeMAPSv02", "feature_level": "Functionals"})
    {}
    >>> family_options("fbank", {"n_mels": 40, "dtype": "float16"})
    {'n_mels': 40, 'dtype': 'float16'}
    """
    import dataclasses

    from featbench.features import family_class
    from featbench.features.storage import Storage

    try:
        cls = family_class(name)  # a built-in, else a plug-in (found only then)
    except FeatbenchError:
        return dict(config)  # build_family names the problem
    names = {f.name for f in dataclasses.fields(cls.Config)} | set(Storage.OPTIONS)
    return {k: v for k, v in config.items() if k in names}


def extracted_specs(model) -> list[dict]:
    """The manifest's records of the families predict extracts: all but the imported ones (`featbench import`)."""
    from featbench.embeddings import is_imported

    return [spec for spec in model.record.families if not is_imported(spec["config"])]


def imported_specs(model) -> list[dict]:
    """The manifest's records of the families the model's store imported (read from a store, never extracted)."""
    from featbench.embeddings import is_imported

    return [spec for spec in model.record.families if is_imported(spec["config"])]


def check_imported(model, folder: str | Path, store: str | Path | None) -> None:
    """A model reading an imported family labels only clips whose embeddings were imported into `store`: without
    one, a one-line FeatbenchError saying how to import them."""
    imported = imported_specs(model)
    if imported and store is None:
        spec = imported[0]
        raise FeatbenchError(f"{folder}: the model reads '{spec['family']}', embeddings imported with `featbench import` "
                             f"({spec.get('description') or 'no description'!r}), which featbench cannot extract: import the "
                             f"new clips' embeddings into a store (featbench import STORE --family {spec['family']} --from "
                             "PATH --describe TEXT, as for the model's store; --unlabelled for a new store) and pass --store STORE")


def missing_imported(model, store: str | Path, ids: list[str]) -> dict[str, str]:
    """{id: reason} of the clips among `ids` without embeddings of a family the model imported."""
    from featbench.store.reader import latest_records, sources

    missing: dict[str, str] = {}
    for spec in imported_specs(model):
        held = set(latest_records(sources(Path(store), spec["family"])))
        missing.update({uid: f"{spec['family']}: no imported embedding in {store}" for uid in ids
                        if uid not in held and uid not in missing})
    return missing


def check_store(model, store: str | Path) -> None:
    """A store given for prediction must hold the model's families in the model's configuration (or none yet); an
    imported family must be there, imported with the model's description, rows, layers, columns and frame rate."""
    from featbench.embeddings import identity_differences
    from featbench.store import FamilyIndex, family_path

    imported = imported_specs(model)
    for spec in model.record.families:
        path = family_path(store, spec["family"])
        if spec in imported:
            if not path.is_file():
                raise FeatbenchError(f"{store}: no '{spec['family']}' embeddings; import them first (featbench import "
                                     f"{store} --family {spec['family']} --from PATH)")
            changed = identity_differences(spec, FamilyIndex.read(path).meta)
            if changed:
                raise FeatbenchError(f"{path}: '{spec['family']}' is not imported as the model's was ({changed})")
        elif path.is_file():
            have = FamilyIndex.read(path).meta.config_hash
            if have != spec["config_hash"]:
                raise FeatbenchError(f"{path}: family '{spec['family']}' has config hash {have}, the model needs "
                                     f"{spec['config_hash']}; give another --store (or none: a temporary one)")


def view_matrix(model, store: str | Path, ids: list[str], condition=None, seed: int = 0) -> np.ndarray:
    """The utterance matrix (len(ids), view columns) of the model's view, read from `store` as a grid task reads
    it; every family must hold the model's configuration. Under a `condition` (a Condition; None: clean) the
    families are read as stored under it (`stored_name`), made from the model's configuration with `seed`."""
    from featbench.store import read_family
    from featbench.train.runner import pooled_matrix

    check_store(model, store)
    sets = {leaf.family: _read_under(model, store, leaf.family, condition, seed) if condition is not None
            else read_family(store, leaf.family) for leaf in model.view.leaves}
    for fs in sets.values():
        missing = [u for u in ids if u not in fs.position]
        if missing:
            raise FeatbenchError(f"{store}: no '{fs.meta.family}' features for {len(missing)} clip(s) (e.g. {missing[0]})")
    return pooled_matrix(model.view, sets, list(ids), {})


def _read_under(model, store: str | Path, family: str, condition, seed: int):
    """Family `family` as stored under `condition`, refused in one line unless made from the model's configuration."""
    from featbench.extract_conditions import stored_config_hash
    from featbench.protocol.conditions import stored_name
    from featbench.store import read_family

    fs = read_family(store, stored_name(family, condition))
    spec = next(s for s in model.record.families if s["family"] == family)
    expected = stored_config_hash(spec["config_hash"], condition, seed)
    if fs.meta.config_hash != expected:
        raise FeatbenchError(f"{store}: '{fs.meta.family}' has config hash {fs.meta.config_hash}, the model under "
                             f"{condition.text} (seed {seed}) needs {expected}; give another --store (or none)")
    return fs
