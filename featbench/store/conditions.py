"""``conditions.json``: the recording conditions a store holds features under, one record per condition (its
canonical text, slug, config hash, seed, the fold scheme its babble talkers were drawn from, the families stored
under it, and the clips whose audio each clip's degraded audio mixes in). `extract --conditions` writes it;
`train` reads it to find a condition's features and to refuse folds that differ from a babble condition's.

A record replaces an earlier one of the same slug (a re-extraction with another seed or fold scheme); records of
other conditions stay. The file is bounded (`MAX_BYTES`) and checked field by field: anything featbench never
writes is one line naming the file.

>>> import tempfile
>>> d = tempfile.mkdtemp()
>>> record = StoredCondition("white:20", "white_20", "0123456789abcdef", 0, (), ("mfcc",))
>>> write_conditions(d, [record])
>>> read_conditions(d)["white_20"] == record
True
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from featbench.errors import FeatbenchError

CONDITIONS_FILE = "conditions.json"
SEPARATOR = "~"  # between a family and its condition's slug (featbench.protocol.conditions.SEPARATOR)
FORMAT = 1
MAX_BYTES = 64 << 20


@dataclass(frozen=True)
class StoredCondition:
    """One condition of a store. `folds`: the test groups of each fold its babble talkers were drawn from (empty
    where the condition does not depend on folds); `sources`: {clip id: ids of the clips mixed into it}."""

    text: str
    slug: str
    config_hash: str
    seed: int
    folds: tuple[tuple[str, ...], ...] = ()
    families: tuple[str, ...] = ()
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict:
        d = asdict(self)
        d["folds"], d["families"] = [list(f) for f in self.folds], list(self.families)
        d["sources"] = {k: list(v) for k, v in self.sources.items()}
        return d


def _fail(path: Path, problem: str) -> FeatbenchError:
    return FeatbenchError(f"{path}: {problem}; featbench never writes that (remove the file and extract the "
                          "conditions again)")


def _strings(value, path: Path, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, f"{what} is not a list of strings")
    return tuple(value)


_SLUG = re.compile(r"[a-z0-9._+-]{1,80}")
_HASH = re.compile(r"[0-9a-f]{8,64}")
MAX_SEED = 2 ** 32


def _line(value, path: Path, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or not value.isprintable() or len(value) > 1000:
        raise _fail(path, f"{what} is not one printable line of at most 1000 characters")
    return value


def _record(item, path: Path) -> StoredCondition:
    if not isinstance(item, dict):
        raise _fail(path, "a condition record is not an object")
    text = _line(item.get("text"), path, "a condition's text")
    for key, pattern in (("slug", _SLUG), ("config_hash", _HASH)):
        if not isinstance(item.get(key), str) or not pattern.fullmatch(item[key]):
            raise _fail(path, f"condition '{text}' has no valid '{key}'")
    seed = item.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < MAX_SEED:
        raise _fail(path, f"condition '{text}' has no valid 'seed' (a whole number in [0, 2^32))")
    folds = item.get("folds", [])
    if not isinstance(folds, list):
        raise _fail(path, f"condition '{text}': folds is not a list")
    sources = item.get("sources", {})
    if not isinstance(sources, dict):
        raise _fail(path, f"condition '{text}': sources is not an object")
    families = _strings(item.get("families", []), path, "families")
    for family in families:
        _line(family, path, f"a family of condition '{text}'")
    return StoredCondition(text, item["slug"], item["config_hash"], seed,
                           tuple(_strings(f, path, "a fold's test groups") for f in folds), families,
                           {str(k): _strings(v, path, f"the sources of clip '{k}'") for k, v in sources.items()})


def read_conditions(store: str | Path) -> dict[str, StoredCondition]:
    """{slug: StoredCondition} of a store ({} when it holds clean features only)."""
    path = Path(store) / CONDITIONS_FILE
    if not path.exists():
        return {}
    if not path.is_file():
        raise FeatbenchError(f"{path}: not a regular file")
    if path.stat().st_size > MAX_BYTES:
        raise FeatbenchError(f"{path}: {path.stat().st_size} bytes, more than the {MAX_BYTES >> 20} MB featbench "
                             "writes; not read")
    try:
        document = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as err:
        raise _fail(path, f"not JSON ({str(err).splitlines()[0]})") from None
    except RecursionError:
        raise _fail(path, "not JSON (nested too deeply)") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT or not isinstance(document.get("conditions"), list):
        raise _fail(path, f"not a conditions file of format {FORMAT}")
    records = [_record(item, path) for item in document["conditions"]]
    slugs = [r.slug for r in records]
    if len(set(slugs)) < len(slugs):
        raise _fail(path, f"condition '{next(s for s in slugs if slugs.count(s) > 1)}' is recorded twice")
    return {r.slug: r for r in records}


def write_conditions(store: str | Path, records: list[StoredCondition]) -> None:
    """Add (or replace, by slug) `records` in the store's conditions.json, atomically."""
    path = Path(store) / CONDITIONS_FILE
    merged = {**read_conditions(store), **{r.slug: r for r in records}}
    document = {"format": FORMAT, "conditions": [merged[k].to_json() for k in sorted(merged)]}
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(document, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def held_lines(store: str | Path) -> list[str]:
    """What `corpus --store` and `verify` say of the conditions a store holds: one line per condition (clean, then
    each recorded one) with its families and their clip counts; [] for a store of clean features only.

    >>> import tempfile
    >>> held_lines(tempfile.mkdtemp())
    []
    """
    from featbench.store.reader import FamilyIndex, family_path, list_families

    names = list_families(store)
    records = read_conditions(store)
    if not records and not any(SEPARATOR in n for n in names):
        return []
    counts = {n: len(FamilyIndex.read(family_path(store, n)).ids) for n in names
              if family_path(store, n).is_file()}
    by_slug: dict[str, list[str]] = {}
    for name in names:
        family, _, key = name.partition(SEPARATOR)
        by_slug.setdefault(key, []).append(family)
    lines = ["conditions held:"]
    for key in sorted(by_slug, key=lambda k: (k != "", k)):
        said = _said(key, records.get(key))
        families = ", ".join(f"{f} {counts.get(f + SEPARATOR + key if key else f, 0)} clips" for f in by_slug[key])
        lines.append(f"  {said}: {families}")
    lines += [f"  {r.text}: recorded in {CONDITIONS_FILE}, no features stored yet" for k, r in sorted(records.items())
              if k not in by_slug]
    return lines


def _said(key: str, record: StoredCondition | None) -> str:
    if not key:
        return "clean"
    if record is None:
        return f"{key} (no record in {CONDITIONS_FILE})"
    folds = f", talkers outside the training speakers of {len(record.folds)} folds" if record.folds else ""
    return f"{record.text} (seed {record.seed}, config {record.config_hash}{folds})"
