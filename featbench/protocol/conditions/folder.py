"""A user's folder of audio a condition draws from, and `noise:SNR:FOLDER`: one noise file per clip (MUSAN, ESC-50,
WHAM!, DEMAND, any folder of recordings), decoded at the clip's rate, from a seeded offset, looped where shorter than
the clip, mixed at SNR dB on active speech.

The folder is read when the condition is parsed: its audio files (.wav, .flac, .ogg, .mp3 by suffix, recursively,
regular files only, at most `MAX_FILES` among at most `MAX_ENTRIES` files), sorted by relative path; a folder that
does not exist or holds no audio is refused in one line naming it. The condition's text names the folder as an
absolute path; its `config` carries a hash of the files' names, sizes and contents (computed on first use: a large
folder is read once), so a changed folder is a changed condition (its features are extracted again).
A file that cannot be decoded fails the clip that drew it (a ValueError, to errors.csv), not the run.

>>> import tempfile, numpy as np, soundfile as sf
>>> from featbench.protocol.conditions import parse_condition, ConditionClip
>>> folder = tempfile.mkdtemp()
>>> sf.write(f"{folder}/hum.wav", 0.1 * np.sin(np.arange(4000) / 5), 16000)
>>> condition = parse_condition(f"noise:10:{folder}")
>>> condition.folder.files
('hum.wav',)
>>> speech = (0.3 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000)).astype(np.float32)
>>> noisy = condition.apply(speech, 16000, ConditionClip("u1"))
>>> round(float(snr_db(speech, noisy - speech, 16000)), 2)
10.0
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from featbench.protocol.conditions.base import Condition, ConditionClip, refuse, register, short
from featbench.protocol.conditions.noise import _snr, mix_at_snr, snr_db  # noqa: F401 (snr_db: the example)

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
MAX_FILES = 100_000
MAX_ENTRIES = 1_000_000
"""Files of any kind looked at before giving up: `noise:10:/` must not walk a whole disk."""


@dataclass(frozen=True)
class AudioFolder:
    """A folder's audio files (relative paths, sorted), found once; `digest` hashes their names, sizes, contents."""

    root: Path
    files: tuple[str, ...]

    @classmethod
    def scan(cls, given: str, text: str) -> AudioFolder:
        """The audio files under `given`, or the condition's one-line refusal naming the folder."""
        if not given.strip():
            raise refuse(text, "no folder given")
        try:
            root = Path(given).expanduser().resolve()
            if not root.is_dir():
                raise refuse(text, f"folder '{given}' does not exist or is not a folder")
            if set("+,") & set(str(root)):  # the condition's text could not be read back from a list or a chain
                raise refuse(text, f"folder '{root}' has '+' or ',' in its path, which separate conditions; "
                                   "link it from a plain path")
            files = _audio_files(root, text, given)
        except (OSError, ValueError) as err:  # unreadable folders, names the file system cannot hold
            raise refuse(text, f"folder '{given}' cannot be read ({type(err).__name__}: {err})") from err
        if not files:
            raise refuse(text, f"folder '{given}' holds no audio files ({', '.join(AUDIO_SUFFIXES)})")
        return cls(root, files)

    def path(self, index: int) -> Path:
        return self.root / self.files[index]

    @functools.cached_property
    def digest(self) -> str:
        """A hash of every file's relative path, size and content hash (computed once, on first use)."""
        from featbench.audio import file_hash

        listing = [[name, os.path.getsize(self.root / name), file_hash(self.root / name)] for name in self.files]
        return hashlib.sha256(json.dumps(listing).encode()).hexdigest()[:16]

    def pick(self, clip: ConditionClip, text: str) -> tuple[Path, np.random.Generator]:
        """The file drawn for `clip` (seeded) and the clip's random source, to draw on from."""
        rng = clip.rng(text)
        return self.path(int(rng.integers(len(self.files)))), rng


def _audio_files(root: Path, text: str, given: str) -> tuple[str, ...]:
    found, seen = [], 0
    for folder, _, names in os.walk(root):
        seen += len(names)
        if seen > MAX_ENTRIES:
            raise refuse(text, f"folder '{given}' holds more than {MAX_ENTRIES:,} files; name the folder of the audio")
        for name in names:
            path = Path(folder) / name
            if path.suffix.lower() in AUDIO_SUFFIXES and path.is_file() and not path.is_symlink():
                found.append(path.relative_to(root).as_posix())
                if len(found) > MAX_FILES:
                    raise refuse(text, f"folder '{given}' holds more than {MAX_FILES:,} audio files; "
                                       "name a smaller one")
    return tuple(sorted(found))


@functools.lru_cache(maxsize=8)
def decoded(path: Path, rate: int, stamp: tuple[int, int]) -> np.ndarray:
    """A file decoded to mono float32 at `rate` (featbench.audio.load), kept for the process; `stamp` (size, mtime)
    makes a changed file decode again. AudioProblem (a ValueError) where it cannot be used."""
    from featbench.audio import AudioConfig, load

    signal = load(path, AudioConfig(sample_rate=rate, min_duration=0.0))
    signal.setflags(write=False)
    return signal


def read(path: Path, rate: int) -> np.ndarray:
    """`path` decoded at `rate` (through the process cache)."""
    try:
        info = path.stat()
    except OSError as err:
        raise ValueError(f"{path.name} cannot be read ({err})") from err
    return decoded(path, rate, (info.st_size, info.st_mtime_ns))


def looped(source: np.ndarray, size: int, offset: int) -> np.ndarray:
    """`size` samples of `source` from `offset`, wrapping round to its start as often as needed.

    >>> looped(np.arange(3.0), 7, 2).tolist()
    [2.0, 0.0, 1.0, 2.0, 0.0, 1.0, 2.0]
    """
    if not source.size:
        raise ValueError("an empty source cannot be looped")
    return np.take(source, (offset + np.arange(size)) % source.size)


@register
@dataclass(frozen=True, eq=False)
class NoiseFolder(Condition):
    """Noise from a user's folder at `snr` dB on active speech: one file per clip, seeded."""

    snr: float
    folder: AudioFolder
    kind, forms, axis = "noise", ("noise:SNR:FOLDER",), "SNR (dB)"

    @classmethod
    def parse(cls, args: list[str], text: str) -> NoiseFolder:
        if len(args) < 2:
            raise refuse(text, "noise takes an SNR in dB and a folder of noise recordings (noise:SNR:FOLDER)")
        snr = _snr(args[:1], text, cls.kind)
        return cls(snr, AudioFolder.scan(":".join(args[1:]), text))

    @property
    def text(self) -> str:
        return f"noise:{short(self.snr)}:{self.folder.root}"

    @property
    def severity(self) -> float:
        return self.snr

    def config(self) -> dict:
        return {"condition": self.text, "files": self.folder.digest}

    def apply(self, signal: np.ndarray, rate: int, clip: ConditionClip) -> np.ndarray:
        path, rng = self.folder.pick(clip, self.text)
        noise = read(path, rate)
        start = int(rng.integers(noise.size))
        return mix_at_snr(signal, looped(noise, signal.size, start).astype(np.float64), self.snr, rate)
