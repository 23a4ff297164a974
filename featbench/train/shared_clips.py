"""The two stores of a run share no clip: a clip of the target's test speakers in the other store would be trained on.

Three comparisons, each of the clips the run reads, with the audio families of both stores (a text family's rows
and hashes come from transcripts, which two corpora may share without sharing a clip):

1. file bytes: an equal audio hash (`audio.file_hash`, kept per clip in every store file);
2. feature rows: a clip's pooled rows of some family equal to another's, within ROW_TOLERANCE of each column's
   spread (the same samples extracted twice, on another device or batch size); a family in which more than
   DEGENERATE of a store's clips have a twin in the same store tells clips apart too poorly to be compared;
3. the decoded signal: clips whose fingerprints match (`featbench.clip_fingerprint`: the same clip re-encoded,
   renamed, resampled or at another gain). Fingerprints are taken on demand from the audio files named in each
   store's corpus.csv (about 4 ms a clip); a store written before fingerprints existed needs nothing more. A clip
   whose file cannot be read (a store moved without its corpus) is compared by 1 and 2 only, and a note says
   how many.

A shared clip is one line naming both stores, how many clips, and an example pair.

>>> from types import SimpleNamespace as Set
>>> meta = Set(rows="utterance", family="f")
>>> a = Set(ids=["u1", "u2"], hashes=["h1", "h2"], meta=meta, texts=None)
>>> b = Set(ids=["x1", "x2"], hashes=["h2", ""], meta=meta, texts=None)
>>> shared_by_hash(({"f": a}, {"f": b}), (["u1", "u2"], ["x1", "x2"]))
[('u2', 'x1', 'the same file bytes')]
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError
from featbench.row_kinds import RowKind
from featbench.train.pooling import utterance_matrix

UNHASHED = ("", "missing")  # audio hashes that name no audio (a store written before hashes, a missing file)
ROW_TOLERANCE = 1e-3  # of a column's standard deviation over both stores
DEGENERATE = 0.05  # share of a store's clips with a twin in the same store beyond which a family is not compared
_PROJECTIONS = 4


def check_disjoint(sets: tuple[dict, dict], tables: tuple[pd.DataFrame, pd.DataFrame], names: tuple[str, str],
                   caches: tuple[dict, dict] = ({}, {})) -> list[str]:
    """Refuse two stores that share a clip (see the module's docstring); `sets` {family: FeatureSet} per store,
    `tables` the run's rows of each (columns id, path), `caches` each store's pooled frames by family (filled).
    Returns notes (clips compared without their audio)."""
    ids = tuple(list(t["id"]) for t in tables)
    pairs = shared_by_hash(sets, ids)
    for family in sorted(set(sets[0]) & set(sets[1])):
        if _from_audio(sets[0][family]):
            pairs += shared_by_rows(family, (sets[0][family], sets[1][family]), ids, caches)
    found, notes = shared_by_signal(tables, names)
    shared = {a for a, _, _ in pairs + found}
    if shared:
        a, b, how = sorted(pairs + found)[0]
        raise FeatbenchError(f"{names[0]} and {names[1]} share {len(shared)} clip(s) (the same audio: e.g. '{a}' of "
                             f"{names[0]} is '{b}' of {names[1]}, {how}): the test speakers' clips would be trained "
                             "on; give two different corpora, or leave the shared clips out of one")
    return notes


def _from_audio(fs) -> bool:
    """Whether a family's rows come from the audio (not from transcripts)."""
    return fs.texts is None and fs.meta.rows != RowKind.TOKENS.value


def shared_by_hash(sets: tuple[dict, dict], ids: tuple) -> list[tuple[str, str, str]]:
    """[(id of the first store, id of the second, how)] of clips with an equal audio hash in some audio family."""
    def hashed(family_sets: dict, keep) -> list[tuple[str, str]]:
        keep = set(keep)
        return [(str(uid), str(audio)) for fs in family_sets.values() if _from_audio(fs)
                for uid, audio in zip(fs.ids, fs.hashes) if uid in keep and str(audio) not in UNHASHED]

    theirs = {audio: uid for uid, audio in reversed(hashed(sets[1], ids[1]))}
    mine = {uid: audio for uid, audio in hashed(sets[0], ids[0]) if audio in theirs}
    return [(uid, theirs[audio], "the same file bytes") for uid, audio in sorted(mine.items())]


def shared_by_rows(family: str, sets: tuple, ids: tuple, caches: tuple[dict, dict]) -> list[tuple[str, str, str]]:
    """[(id, id, how)] of clips whose pooled rows of `family` are equal within ROW_TOLERANCE (see the module)."""
    matrices = []
    for fs, keep, cache in zip(sets, ids, caches):
        keep = [u for u in keep if u in fs.position]
        if fs.meta.rows != RowKind.UTTERANCE.value and family not in cache:
            from featbench.pooling import pool

            cache[family] = pool(fs.features, fs.offsets, fs.lengths)
        matrices.append((keep, utterance_matrix(fs, keep, None, cache.get(family)) if keep else None))
    (ids_a, A), (ids_b, B) = matrices
    if A is None or B is None or A.shape[1] != B.shape[1]:
        return []
    n = len(A) + len(B)
    mean = (A.sum(axis=0, dtype=np.float64) + B.sum(axis=0, dtype=np.float64)) / n
    square = (np.square(A, dtype=np.float64).sum(axis=0) + np.square(B, dtype=np.float64).sum(axis=0)) / n
    scale = np.sqrt(np.maximum(square - mean ** 2, 0.0))
    scale[~(scale > 0)] = 1.0
    A, B = (X / scale.astype(np.float32) for X in (A, B))
    if any(with_twin(X) > DEGENERATE * len(X) for X in (A, B)):
        return []
    return [(ids_a[i], ids_b[j], f"identical '{family}' rows") for i, j in twins(A, B)]


def _projected(X: np.ndarray) -> tuple[np.ndarray, float]:
    """(X on a few random unit directions, the radius there of ROW_TOLERANCE in every column: |projection of
    x - y| <= max |x - y| * sqrt(dim))."""
    direction = np.random.default_rng(0).normal(size=(X.shape[1], _PROJECTIONS))
    direction /= np.linalg.norm(direction, axis=0)
    return X @ direction, ROW_TOLERANCE * float(np.sqrt(X.shape[1]))


def twins(A: np.ndarray, B: np.ndarray) -> list[tuple[int, int]]:
    """Pairs (i, j) of a row of A and a row of B that differ by at most ROW_TOLERANCE in every column: candidates
    from a few random projections (a k-d tree, max distance), checked on every column.

    >>> twins(np.array([[0.0, 1.0], [5.0, 5.0]]), np.array([[5.0, 5.0001], [0.0, 2.0]]))
    [(1, 0)]
    """
    from scipy.spatial import cKDTree

    if not len(A) or not len(B):
        return []
    (PA, radius), (PB, _) = _projected(A), _projected(B)
    found = cKDTree(PA).sparse_distance_matrix(cKDTree(PB), radius, p=np.inf, output_type="ndarray")
    return sorted((int(i), int(j)) for i, j in zip(found["i"], found["j"])
                  if np.max(np.abs(A[i] - B[j])) <= ROW_TOLERANCE)


def with_twin(X: np.ndarray) -> int:
    """How many rows of X have another row within ROW_TOLERANCE in every column (the nearest candidate of each
    row checked: memory in rows, not in pairs).

    >>> with_twin(np.array([[0.0, 1.0], [5.0, 5.0], [0.0, 1.0]]))
    2
    """
    from scipy.spatial import cKDTree

    if len(X) < 2:
        return 0
    P, radius = _projected(X)
    distance, index = cKDTree(P).query(P, k=2, p=np.inf, distance_upper_bound=radius)
    rows = np.arange(len(X))
    other = np.where(index[:, 0] != rows, index[:, 0], index[:, 1])  # an equal row may come before the row itself
    near = np.isfinite(distance[:, 1]) & (other < len(X))
    return int(sum(np.max(np.abs(X[i] - X[j])) <= ROW_TOLERANCE for i, j in zip(rows[near], other[near])))


def shared_by_signal(tables: tuple[pd.DataFrame, pd.DataFrame], names: tuple[str, str]) -> tuple[list, list[str]]:
    """([(id, id, how)] of clips whose decoded signals match, notes on clips that could not be fingerprinted)."""
    from featbench.clip_fingerprint import Fingerprints, near_duplicates

    prints = [Fingerprints.of_files(t["id"].astype(str), t["path"].astype(str) if "path" in t else [""] * len(t))
              for t in tables]
    notes = []
    for name, table, fp in zip(names, tables, prints):
        if fp.problems:
            uid, reason = next(iter(fp.problems.items()))
            notes.append(f"{name}: {len(fp.problems)} of {len(table)} clips could not be read to compare their "
                         f"decoded audio with the other store's (e.g. '{uid}', {reason}); they were compared by file "
                         "hash and feature rows only")
    found = [(prints[0].ids[m.left], prints[1].ids[m.right],
              f"the same signal once decoded ({m.distance:.2f} dB apart)") for m in near_duplicates(*prints)]
    return found, notes
