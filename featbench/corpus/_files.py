"""File-name helpers shared by the corpus loaders.

>>> AUDIO_SUFFIXES
('.wav', '.flac', '.ogg', '.mp3')
"""
from __future__ import annotations

from pathlib import Path

from featbench.errors import FeatbenchError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


def audio_files(root: Path, name: str) -> list[Path]:
    """All audio files below root, sorted; a missing root or no file is a one-line error."""
    if not root.is_dir():
        raise FeatbenchError(f"{root}: not a directory (expected the {name} corpus root)")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not files:
        raise FeatbenchError(f"{root}: no audio files ({', '.join(AUDIO_SUFFIXES)}) found for {name}")
    return files
