"""File-name helpers shared by the corpus loaders.

>>> AUDIO_SUFFIXES
('.wav', '.flac', '.ogg', '.mp3')
"""
from __future__ import annotations

from pathlib import Path

from featbench.errors import FeatbenchError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


def rows_from_file_names(root: Path, name: str, parse) -> list[dict]:
    """Utterance rows for a corpus whose labels live in file names: `parse(stem)` returns a dict with
    label and speaker (optionally gender), or None for files that are not part of the corpus."""
    rows = []
    for path in audio_files(root, name):
        info = parse(path.stem)
        if info is not None:
            rows.append(dict(id=path.stem, path=str(path), label=info["label"], speaker=info["speaker"],
                             gender=info.get("gender", "")))
    return rows


def audio_files(root: Path, name: str) -> list[Path]:
    """All audio files below root, sorted; a missing root or no file is a one-line error."""
    if not root.is_dir():
        raise FeatbenchError(f"{root}: not a directory (expected the {name} corpus root)")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not files:
        raise FeatbenchError(f"{root}: no audio files ({', '.join(AUDIO_SUFFIXES)}) found for {name}")
    return files
