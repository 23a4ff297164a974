"""A study's record of itself in its output folder: `study.json` (the featbench version, the file's text and
hash, the resolved parts, paths relative to the study file's folder) written by every run, and `.study/state.json` (the live run's pid and step, and the
steps whose last run failed, with the one-line reason), replaced atomically so a kill never leaves half a file.

>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp())
>>> write_state(out, {"step": "train g", "pid": 1})
>>> read_state(out)["step"]
'train g'
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, is_dataclass
from pathlib import Path

STATE = Path(".study") / "state.json"
RECORD = "study.json"


def read_state(out: Path) -> dict:
    """The state of the study writing into `out` ({} when none, or when the file is unreadable: it is rewritten by
    the next run)."""
    path = Path(out) / STATE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def write_state(out: Path, state: dict) -> None:
    path = Path(out) / STATE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.tmp{os.getpid()}")
    temporary.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


def _plain(value, base: Path):
    """JSON-ready data; paths relative to `base` (the study file's folder), as the file writes them."""
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value), base)
    if isinstance(value, dict):
        return {str(k): _plain(v, base) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, base) for v in value]
    if isinstance(value, Path):
        return os.path.relpath(value, base)
    return value


def write_record(study) -> Path:
    """`study.json` in the study's output folder: version, the file's text and hash, and its resolved parts."""
    from featbench import __version__

    text = study.path.read_text(encoding="utf-8")
    base = study.path.resolve().parent
    record = {"featbench_version": __version__, "study_file": study.path.name, "sha256": hashlib.sha256(text.encode()).hexdigest(),
              "text": text, "name": study.name, "jobs": study.jobs, "scheduler": study.scheduler,
              "corpora": _plain(study.corpora, base), "families": study.families,
              "grids": [_plain({k: v for k, v in asdict(g).items() if k != "where"}, base) for g in study.grids],
              "reports": _plain(list(study.reports), base)}
    path = study.out / RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{RECORD}.tmp{os.getpid()}")
    temporary.write_text(json.dumps(record, indent=1), encoding="utf-8")
    os.replace(temporary, path)
    return path
