"""File-name helpers shared by the corpus loaders.

>>> AUDIO_SUFFIXES
('.wav', '.flac', '.ogg', '.mp3')
>>> clip_ids(["Actor_01/x.wav", "Actor_01/x.flac", "Actor_01/y.wav"])
['Actor_01/x.wav', 'Actor_01/x.flac', 'Actor_01/y']
"""
from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from collections.abc import Iterator, Sequence

from featbench.errors import FeatbenchError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


def clip_ids(names: Sequence[str]) -> list[str]:
    """Utterance ids for file names (or relative paths): the name without its extension, except where
    names differ only in their extension (a.wav, a.flac): those keep it, so their ids stay unique.

    Every other id is exactly the extension-less name, as it always was (stores are keyed on it).

    >>> clip_ids(["a.wav", "a.flac", "b.wav", "c/d.mp3"])
    ['a.wav', 'a.flac', 'b', 'c/d']
    """
    bare = [str(Path(name).with_suffix("")) for name in names]
    full = [str(Path(name)) for name in names]
    spellings = defaultdict(set)
    for stem, name in zip(bare, full):
        spellings[stem].add(name)
    return [name if len(spellings[stem]) > 1 else stem for stem, name in zip(bare, full)]


def rows_from_file_names(root: Path, name: str, parse) -> list[dict]:
    """Utterance rows for a corpus whose labels live in file names: `parse(stem)` returns a dict with
    label and speaker (optionally gender), or None for files that are not part of the corpus.
    The id is the stem, or the file name where another file of the corpus has the same stem."""
    kept = [(path, info) for path in audio_files(root, name) if (info := parse(path.stem)) is not None]
    ids = clip_ids([path.name for path, _ in kept])
    return [dict(id=uid, path=str(path), label=info["label"], speaker=info["speaker"], gender=info.get("gender", ""))
            for uid, (path, info) in zip(ids, kept)]


def audio_files(root: Path, name: str) -> list[Path]:
    """All audio files below root, sorted, symbolic links to folders and files followed (each folder once, so
    a link back up the tree ends there); a missing root or no file is a one-line error."""
    if not root.is_dir():
        raise FeatbenchError(f"{root}: not a directory (expected the {name} corpus root)")
    files = sorted(p for p in _walk(root) if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    if not files:
        raise FeatbenchError(f"{root}: no audio files ({', '.join(AUDIO_SUFFIXES)}) found for {name}")
    return files


def _walk(root: Path) -> Iterator[Path]:
    """Every file below root, through symbolic links too; a folder reached twice (a link loop, or two links
    to one folder) is walked once.

    >>> import tempfile
    >>> base = Path(tempfile.mkdtemp())
    >>> (base / "real").mkdir(); (base / "real" / "a.wav").touch()
    >>> (base / "corpus").mkdir(); (base / "corpus" / "A1").symlink_to(base / "real")
    >>> (base / "real" / "loop").symlink_to(base / "corpus")
    >>> [str(p.relative_to(base)) for p in _walk(base / "corpus")]
    ['corpus/A1/a.wav']
    """
    seen = set()
    for folder, dirs, names in os.walk(root, followlinks=True):
        info = os.stat(folder)
        if (info.st_dev, info.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        dirs.sort()
        yield from (Path(folder) / name for name in names)
