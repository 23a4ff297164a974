"""Feature views: what `train --features` names. A view is a stored family, or one layer of an
all-layer family ('whisper@L4'); 'whisper@all' expands to every layer it holds; 'whisper@auto' lets
each fold choose its layer on validation speakers; 'whisper@weighted' learns softmax weights over all
layers (SUPERB's weighted sum); 'whisper@L4+text' combines views of two families (late fusion for the
utterance-level classifiers: pooled vectors side by side; the `fusion` classifier: cross-modal attention
over both sequences); 'ensemble(whisper@L3,egemaps-func)' averages its member views' class probabilities
with weights chosen on validation speakers (train.ensemble). Views are read from the store's metadata (row
kind, the layers a family holds: `FamilyMeta.layer_numbers`), never from column names. A layer is spelled `Lk` (`store.meta.layer_name`),
whatever the family holds: a family extracted with `layer=4` alone is `whisper@L4` too.

>>> View("fbank", "fbank").layer is None
True
>>> View("whisper@auto", "whisper", mode=AUTO, layers=7).multi_layer
True
>>> layer_view("whisper@L04 [+b]"), layer_view("whisper@auto")
(('whisper', 4), None)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from featbench.errors import FeatbenchError
from featbench.layers import layer_name, layer_number, layer_view  # noqa: F401 (layer_view re-exported)


AUTO = "auto"
WEIGHTED = "weighted"
ENSEMBLE = "ensemble"  # the mode of an ensemble view, `ensemble(a,b,...)` (train.ensemble)
MAX_MEMBERS = 6


@dataclass(frozen=True)
class View:
    """One feature view: `name` as written in results rows, the stored `family`, a layer (or None), and a
    mode: "" (the columns as they are), AUTO or WEIGHTED (every layer of `layers`, chosen or weighted)."""

    name: str
    family: str
    layer: int | None = None
    mode: str = ""
    layers: int = 0
    parts: tuple = ()  # a combined view ('a+b'): its single views, in order; an ensemble's members
    widths: tuple = ()  # an ensemble: each member's columns of its utterance matrix (train.ensemble.with_widths)

    @property
    def leaves(self) -> tuple:
        """The single views this view reads: its parts, or itself."""
        return self.parts or (self,)

    @property
    def multi_layer(self) -> bool:
        """True when the view keeps every layer apart (AUTO, WEIGHTED)."""
        return self.mode in (AUTO, WEIGHTED)

    def of(self, meta, X: np.ndarray) -> np.ndarray:
        """This view's columns of `X`, a matrix of its family (frames or pooled rows, see `FamilyMeta.slice`)."""
        return X if self.layer is None else meta.slice(X, self.layer)


def _combined(store: str | Path, name: str, stored=None) -> View:
    """'a+b' -> one view whose parts are single views (one layer each, no @all/@auto/@weighted)."""
    parts = []
    for part in name.split("+"):
        if not part:
            raise FeatbenchError(f"'{name}': an empty part; combine views as a+b, e.g. whisper@L4+text")
        resolved = resolve_views(store, [part], stored)
        if len(resolved) != 1 or resolved[0].multi_layer:
            raise FeatbenchError(f"'{name}': each part of a combination is one view (a family or one layer); "
                                 f"'{part}' is not")
        parts.append(resolved[0])
    if len({p.family for p in parts}) < len(parts):
        raise FeatbenchError(f"'{name}': combine different families")
    return View(name, "+".join(p.family for p in parts), parts=tuple(parts))


def is_ensemble(name: str) -> bool:
    """True for a view name spelled `ensemble(...)`."""
    return name.startswith(ENSEMBLE + "(")


def member_names(name: str) -> list[str]:
    """The member names of `ensemble(a,b,...)`, or a one-line error for a spelling that names no usable list."""
    inner = name[len(ENSEMBLE) + 1:]
    if not inner.endswith(")"):
        raise FeatbenchError(f"'{name}': close the list of members, e.g. ensemble(whisper@L3,egemaps-func)")
    members = [m.strip() for m in inner[:-1].split(",")]
    if members == [""]:
        raise FeatbenchError(f"'{name}': an empty ensemble; name its members, e.g. ensemble(whisper@L3,egemaps-func)")
    if len(members) > MAX_MEMBERS:
        raise FeatbenchError(f"'{name}': {len(members)} members; an ensemble takes at most {MAX_MEMBERS}")
    for member in members:
        if not member:
            raise FeatbenchError(f"'{name}': an empty member; separate members by single commas")
        if "(" in member or ")" in member:
            raise FeatbenchError(f"'{name}': '{member}' cannot be a member (an ensemble holds views, not ensembles)")
        if "+" in member:
            raise FeatbenchError(f"'{name}': '{member}' cannot be a member (no combination a+b in an ensemble; name "
                                 "its parts as members)")
    twice = sorted({m for m in members if members.count(m) > 1})
    if twice:
        raise FeatbenchError(f"'{name}': member '{twice[0]}' is named twice")
    return members


def parts_of(name: str) -> list[str]:
    """The single view names a view name is made of: an ensemble's members, a combination's parts, or itself.

    >>> parts_of("ensemble(a@L1, b)"), parts_of("a@L1+b")
    (['a@L1', 'b'], ['a@L1', 'b'])
    """
    return member_names(name) if is_ensemble(name) else name.split("+")


def _ensemble(store, name: str, stored=None) -> View:
    """The view `ensemble(...)` names (train.ensemble fits it), each member resolved as a view."""
    parts = []
    for member in member_names(name):
        try:
            resolved = resolve_views(store, [member], stored)
        except FeatbenchError as err:
            raise FeatbenchError(f"'{name}': {err}") from None
        if len(resolved) != 1:
            raise FeatbenchError(f"'{name}': '{member}' names {len(resolved)} views; name one (a layer, @auto or "
                                 "@weighted)")
        parts.append(resolved[0])
    family = "+".join(dict.fromkeys(p.family for p in parts))  # one spelling per ensemble: rows name it so
    return View(f"{ENSEMBLE}({','.join(p.name for p in parts)})", family, mode=ENSEMBLE, parts=tuple(parts))


def _layer_views(name: str, base: str, layer: str, meta) -> list[View]:
    """The views 'base@layer' names in a family described by `meta`, or a one-line error."""
    number = layer_number(layer)
    if not meta.layers and meta.layer is not None:  # a family extracted with layer=k holds that layer alone
        if number == meta.layer:
            return [View(f"{base}@{layer_name(number)}", base, number)]
        asked = (layer_name(number) if number is not None else
                 "all layers (layer=all)" if layer in ("all", AUTO, WEIGHTED) else f"'{layer}'")
        raise FeatbenchError(f"'{name}': family '{base}' holds {meta.held_layers}, not {asked}")
    if not meta.layers:
        raise FeatbenchError(f"'{name}': family '{base}' was not extracted with all layers (layer=all)")
    if layer == "all":
        return [View(f"{base}@{layer_name(k)}", base, k) for k in meta.layer_numbers]
    if layer in (AUTO, WEIGHTED):
        return [View(name, base, mode=layer, layers=meta.layers)]
    if number in meta.layer_numbers:
        return [View(f"{base}@{layer_name(number)}", base, number)]
    raise FeatbenchError(f"'{name}': choose a layer of {base} from {layer_name(0)} to {layer_name(meta.layers - 1)}, "
                         "or @all, @auto (chosen on validation speakers), @weighted (learned weights)")


def resolve_views(store: str | Path, names: list[str], stored=None) -> list[View]:
    """Feature names -> views, checked against the store (a layer must be one the family holds; @all, @auto and
    @weighted need an all-layer family). `stored`: the name a family's metadata is read under (a recording
    condition's stored name, train.conditions; default the family's own)."""
    from featbench.store import FamilyIndex, family_path, list_families

    views: list[View] = []
    for name in names:
        if is_ensemble(name):
            views.append(_ensemble(store, name, stored))
            continue
        if "+" in name:
            views.append(_combined(store, name, stored))
            continue
        base, at, layer = name.partition("@")
        if not at:
            views.append(View(name, name))
            continue
        path = family_path(store, stored(base) if stored else base)
        if not path.is_file():
            have = ", ".join(list_families(store)) or "none"
            raise FeatbenchError(f"{store}: no '{base}' features in this store (asked for '{name}'; families present: {have})")
        views += _layer_views(name, base, layer, FamilyIndex.read(path).meta)
    repeated = sorted({v.name for v in views if [w.name for w in views].count(v.name) > 1})
    if repeated:
        raise FeatbenchError(f"feature '{repeated[0]}' is named twice")
    return views
