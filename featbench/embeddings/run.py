"""`featbench import`: precomputed embeddings into a store, a family that trains, compares, fits and predicts like
an extracted one.

The clips are the store's ``corpus.csv`` (made by `featbench extract`, or written by hand; with `unlabelled`
the imported ids become clips without labels, for `featbench predict --store`). Each clip's array is checked
(one layout for all, numbers, finite) before anything is written, then written through the store's writer,
checksummed as extracted features are. Ids on one side only are listed, both ways. Importing the same
arrays again (same description) is a no-op; other arrays under a family name the store holds are refused.

>>> import tempfile, pandas as pd
>>> from featbench.store import write_corpus
>>> d = Path(tempfile.mkdtemp()); (d / "store").mkdir()
>>> write_corpus(d / "store", pd.DataFrame({"id": ["a", "b", "c"], "path": "", "label": ["x", "y", "x"], "speaker": "s"}))
>>> np.savez(d / "e.npz", a=np.ones((4, 3)), b=np.zeros((2, 3)), z=np.ones((1, 3)))
>>> report = run_import(d / "store", "mine", d / "e.npz", "toy vectors")
>>> report.imported, report.not_in_corpus, report.without_embedding
(2, ['z'], ['c'])
>>> run_import(d / "store", "mine", d / "e.npz", "toy vectors").imported
0
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from featbench.embeddings.budget import MemoryBudget
from featbench.embeddings.files import EmbeddingSource, open_source
from featbench.embeddings.imported import IMPORTED, Layout, Rows, clip_hash, config_hash, content_hash, is_imported
from featbench.embeddings.messages import shown
from featbench.errors import FeatbenchError
from featbench.store import CORPUS_FILE, FamilyIndex, FamilyMeta, StoreWriter, family_path, read_corpus, write_corpus
from featbench.store.reader import pending_files
from featbench.worker_process import InterruptGuard

SHOWN = 10  # ids listed by name in a summary line; the rest are counted


@dataclass
class ImportReport:
    """What an import did: clips written now, clips stored already, and the ids on one side only."""

    store: Path
    family: str
    source: str
    layout: str
    config_hash: str
    imported: int = 0
    already: int = 0
    not_in_corpus: list[str] = field(default_factory=list)
    without_embedding: list[str] = field(default_factory=list)

    def summary(self) -> str:
        head = (f"{self.store}: '{self.family}' ({self.layout}; config hash {self.config_hash}) from {self.source}: "
                + (f"{self.imported} clips imported, {self.already} stored already" if self.imported else
                   f"already imported ({self.already} clips), nothing to do"))
        corpus = self.store / CORPUS_FILE
        lines = [head]
        if self.not_in_corpus:
            lines.append(f"{len(self.not_in_corpus)} id(s) are no clip of {corpus}, not imported: {_names(self.not_in_corpus)}")
        if self.without_embedding:
            lines.append(f"{len(self.without_embedding)} clip(s) of {corpus} have no embedding: {_names(self.without_embedding)}")
        return "\n".join(lines)


def _names(ids: list[str]) -> str:
    """The first SHOWN ids, then how many more.

    >>> _names([str(k) for k in range(12)])
    '0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 2 more'
    """
    more = f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else ""
    return ", ".join(u if u.isprintable() else repr(u) for u in ids[:SHOWN]) + more


def check_name(family: str) -> None:
    """An import's family name: one featbench can spell in views, and no family's that featbench extracts."""
    from featbench.features import all_families
    from featbench.features.plugins import usable_name

    if not usable_name(family):
        raise FeatbenchError(f"--family {shown(family)}: use lower-case letters, digits, '-' and '_' (views write name@L4 "
                             "and a+b)")
    if family in all_families():
        raise FeatbenchError(f"--family '{family}' is a family featbench extracts (see `featbench families`); give the "
                             f"import a name of its own, e.g. {family}-imported")


def run_import(store: str | Path, family: str, source: str | Path, description: str = "", rows: Rows = Rows.AUTO,
               frame_rate: float = 0.0, unlabelled: bool = False, memory_gb: str | float | None = None) -> ImportReport:
    """Import the embeddings at `source` (`featbench.embeddings.files`) into `store` as family `family`, every read
    within the memory budget `memory_gb` (`MemoryBudget.of`); every check (name, options, corpus table, every clip's
    array) runs before anything is written. A Ctrl-C, even one a library swallowed, ends it as KeyboardInterrupt
    (whole clips kept: the same call finishes the import)."""
    check_name(family)
    if not math.isfinite(frame_rate) or frame_rate < 0:
        raise FeatbenchError(f"--frame-rate {frame_rate}: give the frames per second (0: unknown)")
    budget = MemoryBudget.of(memory_gb)
    with InterruptGuard() as guard:
        try:
            embeddings = open_source(source, budget)
            try:
                report = _import(Path(store), family, embeddings, description, rows, frame_rate, unlabelled, guard)
            finally:
                embeddings.close()
        except FeatbenchError:
            guard.check()  # a library's error that the Ctrl-C caused (h5py raises SystemError for one in its lock)
            raise
        guard.check()
    return report


def _import(store: Path, family: str, embeddings: EmbeddingSource, description: str, rows: Rows, frame_rate: float,
            unlabelled: bool, guard: InterruptGuard) -> ImportReport:
    table = _corpus(store, embeddings, unlabelled)
    corpus_ids, held = list(table["id"]), set(embeddings.ids)
    known = set(corpus_ids)
    matched = [u for u in embeddings.ids if u in known]
    if not matched:
        raise FeatbenchError(f"--from {embeddings.path}: none of its {len(embeddings.ids)} ids is a clip of "
                             f"{store / CORPUS_FILE} (e.g. {shown(embeddings.ids[0])} there, {shown(corpus_ids[0])} here)")
    layout, hashes = _scan(embeddings, matched, rows, guard)
    meta = imported_meta(family, description, layout, hashes, frame_rate, embeddings)
    report = ImportReport(store, family, f"{embeddings.form} {embeddings.path}", layout.describe(), meta.config_hash,
                          not_in_corpus=[u for u in embeddings.ids if u not in known],
                          without_embedding=[u for u in corpus_ids if u not in held])
    with StoreWriter(store) as writer:
        _refuse_other(store, meta)
        if unlabelled:
            with InterruptGuard(defer=True):  # never a corpus table half-replaced
                write_corpus(store, table)
        done = writer.prepare(meta)
        todo = [u for u in matched if done.get(u) != hashes[u]]
        for uid, array in embeddings.arrays(todo):
            stored = _checked(embeddings, layout, uid, array, rows)
            if clip_hash(uid, stored) != hashes[uid]:
                raise FeatbenchError(f"{embeddings.path}: clip {shown(uid)} changed while it was imported (read twice, "
                                     "it differs); import it again once nothing writes to it")
            writer.add(family, uid, hashes[uid], stored)
            guard.check()  # a Ctrl-C that h5py or numpy swallowed (a weakref callback) still stops the import here
        writer.consolidate(family, corpus_ids, expected=hashes)
    report.imported, report.already = len(todo), len(matched) - len(todo)
    return report


def _corpus(store: Path, embeddings: EmbeddingSource, unlabelled: bool) -> pd.DataFrame:
    """The clips to match: the store's corpus table, or with `unlabelled` that table (if any, without labels) plus
    the imported ids, without labels."""
    if not unlabelled:
        if not (store / CORPUS_FILE).is_file():
            raise FeatbenchError(f"{store}: no {CORPUS_FILE} to match the ids with; make the store with `featbench extract` "
                                 "(any family; its corpus table is written first), or pass --unlabelled for clips "
                                 "to label with `featbench predict --store`")
        return read_corpus(store)
    earlier = read_corpus(store) if (store / CORPUS_FILE).is_file() else pd.DataFrame({"id": [], "label": []})
    if (earlier["label"] != "").any():
        raise FeatbenchError(f"--unlabelled: {store / CORPUS_FILE} has labelled clips (train reads it); import "
                             "unlabelled clips into a store of their own")
    new = pd.DataFrame({"id": [u for u in embeddings.ids if u not in set(earlier["id"])], "path": "", "label": "",
                        "speaker": "", "group": "", "duration": "", "transcript": ""})
    return pd.concat([earlier, new], ignore_index=True).fillna("")


def _scan(embeddings: EmbeddingSource, ids: list[str], rows: Rows, guard: InterruptGuard) -> tuple[Layout, dict[str, str]]:
    """Every clip's array read and checked (`Layout.check`): (the layout, {id: clip hash}); nothing written yet."""
    layout, hashes = None, {}
    for uid, array in embeddings.arrays(ids):
        try:
            layout = layout or Layout.of(uid, array, rows, embeddings.utterance_only)
        except FeatbenchError as err:
            raise FeatbenchError(f"{embeddings.path}: {err}") from None
        hashes[uid] = clip_hash(uid, _checked(embeddings, layout, uid, array, rows))
        guard.check()
    return layout, hashes


def _checked(embeddings: EmbeddingSource, layout: Layout, uid: str, array: np.ndarray, rows: Rows) -> np.ndarray:
    """Clip `uid`'s stored rows (`Layout.check`), a refusal naming the source."""
    try:
        return layout.check(uid, array, rows, embeddings.utterance_only)
    except FeatbenchError as err:
        raise FeatbenchError(f"{embeddings.path}: {err}") from None


def imported_meta(family: str, description: str, layout: Layout, hashes: dict[str, str], frame_rate: float,
                  embeddings: EmbeddingSource) -> FamilyMeta:
    """The FamilyMeta an import is stored with: its config marks it imported (`is_imported`)."""
    import h5py

    from featbench import __version__

    content = content_hash(hashes)
    config = {IMPORTED: True, "content_sha256": content, "clips": len(hashes), "source": embeddings.form}
    versions = {"featbench": __version__, "numpy": np.__version__, "h5py": h5py.__version__}
    return FamilyMeta(family, description, config, config_hash(content, description, layout, frame_rate), {}, versions, 0,
                      frame_rate, layout.columns, rows=layout.rows.value, layers=layout.layers)


def _refuse_other(store: Path, meta: FamilyMeta) -> None:
    """A family of that name in the store must be this very import (or an unfinished run of it)."""
    for path in [p for p in [family_path(store, meta.family)] if p.is_file()] + pending_files(store, meta.family):
        old = FamilyIndex.read(path).meta
        if old.config_hash == meta.config_hash:
            continue
        if not is_imported(old.config):
            raise FeatbenchError(f"{path}: '{meta.family}' was extracted there, not imported; import under another "
                                 "--family name")
        raise FeatbenchError(f"{path}: '{meta.family}' holds other imported embeddings (config hash {old.config_hash}, "
                             f"{shown(old.description)}), not these ({meta.config_hash}: other arrays or another description); "
                             f"import them under another --family name, or remove {path.name} first")
