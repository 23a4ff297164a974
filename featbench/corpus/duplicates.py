"""Clips that are one clip once decoded (`featbench.clip_fingerprint`), within a corpus or across two: what
`featbench corpus` reports before any extraction. Within a corpus, a pair of two speaker groups would be tested in
one fold while its twin is trained on; across two corpora, a `train --add-store`/`--test-store` of their stores
is refused for them.

>>> import pandas as pd, numpy as np, soundfile as sf, tempfile, os
>>> d = tempfile.mkdtemp(); clip = np.random.default_rng(0).normal(0, 0.1, 16000)
>>> for name in ("a.wav", "b.flac"): sf.write(os.path.join(d, name), clip, 16000)
>>> paths = [os.path.join(d, n) for n in ("a.wav", "b.flac")]
>>> t = pd.DataFrame({"id": ["a", "b"], "path": paths, "group": ["s1", "s2"]})
>>> print("\\n".join(duplicate_lines(t)))  # doctest: +NORMALIZE_WHITESPACE
near-duplicate clips (the same signal once decoded): 1 pair(s), 1 across speaker groups
  (one is tested while its twin trains)
  'a' (group s1) ~ 'b' (group s2)
"""
from __future__ import annotations

import pandas as pd

from featbench.clip_fingerprint import Fingerprints, near_duplicates

SHOWN = 5  # example pairs listed


def _prints(table: pd.DataFrame) -> Fingerprints:
    return Fingerprints.of_files(table["id"].astype(str), table["path"].astype(str))


def duplicate_lines(table: pd.DataFrame, prints: Fingerprints | None = None) -> list[str]:
    """Lines on the clips of one corpus (columns id, path, group) that sound the same; clips that cannot be decoded
    are left out (the problems list names them)."""
    prints = prints or _prints(table)
    group = dict(zip(table["id"].astype(str), table["group"].astype(str)))
    matches = near_duplicates(prints)
    pairs = [(prints.ids[m.left], prints.ids[m.right]) for m in matches]
    across = [p for p in pairs if group[p[0]] != group[p[1]]]
    head = "near-duplicate clips (the same signal once decoded): "
    if not pairs:
        return [head + "none"]
    lines = [head + f"{len(pairs)} pair(s), {len(across)} across speaker groups (one is tested while its twin trains)"]
    shown = (across + [p for p in pairs if p not in across])[:SHOWN]
    lines += [f"  '{a}' (group {group[a]}) ~ '{b}' (group {group[b]})" for a, b in shown]
    if len(pairs) > SHOWN:
        lines.append(f"  ... and {len(pairs) - SHOWN} more")
    return lines


def shared_lines(table: pd.DataFrame, other: pd.DataFrame, names: tuple[str, str]) -> list[str]:
    """Lines on the clips of `table` that are clips of `other` once decoded (both with columns id, path)."""
    prints = _prints(table), _prints(other)
    matches = near_duplicates(*prints)
    mine = sorted({m.left for m in matches})
    head = f"clips of {names[0]} that are clips of {names[1]} (the same signal once decoded): "
    if not mine:
        return [head + f"none of {len(prints[0].ids)} (against {len(prints[1].ids)})"]
    path = [dict(zip(t["id"].astype(str), t["path"].astype(str))) for t in (table, other)]
    lines = [head + f"{len(mine)} of {len(prints[0].ids)}; train --add-store or --test-store refuses stores of both"]
    for m in matches[:SHOWN]:
        a, b = prints[0].ids[m.left], prints[1].ids[m.right]
        lines.append(f"  '{a}' ({path[0][a]}) ~ '{b}' ({path[1][b]})")
    if len(matches) > SHOWN:
        lines.append(f"  ... and {len(matches) - SHOWN} more pair(s)")
    return lines
