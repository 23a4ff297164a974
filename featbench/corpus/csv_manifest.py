"""A generic CSV manifest: one row per utterance, paths relative to the CSV file.

Required columns: path, label (or emotion), speaker. Optional: id (default: path without suffix),
group (default: speaker), gender, duration, transcript.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "m.csv").write_text("path,emotion,speaker\\na.wav,sad,s1\\n")
>>> load(d / "m.csv")[0]["label"], load(d / "m.csv")[0]["path"] == str(d / "a.wav")
('sad', True)
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from featbench.errors import FeatbenchError


def load(manifest: Path) -> list[dict]:
    if manifest.is_dir():
        candidates = sorted(manifest.glob("*.csv"))
        if len(candidates) != 1:
            raise FeatbenchError(f"{manifest}: expected one .csv manifest in the folder, found {len(candidates)}")
        manifest = candidates[0]
    if not manifest.is_file():
        raise FeatbenchError(f"{manifest}: manifest not found")
    try:
        frame = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise FeatbenchError(f"{manifest}: not a readable CSV ({str(err).splitlines()[0]})") from err
    original_columns = list(frame.columns)
    if "label" not in frame and "emotion" in frame:
        frame = frame.rename(columns={"emotion": "label"})
    for column in ("path", "label", "speaker"):
        if column not in frame:
            raise FeatbenchError(f"{manifest}: no column '{column}' (columns: {', '.join(original_columns)})")
    base = manifest.parent
    rows = []
    for record in frame.to_dict("records"):
        path = base / record["path"]
        row = dict(id=record.get("id") or str(Path(record["path"]).with_suffix("")), path=str(path),
                   label=record["label"], speaker=record["speaker"])
        for optional in ("group", "gender", "duration", "transcript"):
            if record.get(optional, "") != "":
                row[optional] = record[optional]
        rows.append(row)
    return rows
