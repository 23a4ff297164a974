"""What every recording condition is: a named, deterministic transformation of a clip's decoded audio, seeded per
clip, applied before any feature family sees it.

A kind subclasses `Condition`, sets `kind` (the name before the first ':'), `forms` (its valid spellings, for
messages) and `axis` (what its severity is, for the report's x axis), implements `parse` (its arguments after the
kind, each refused in one line) and `apply`, and registers itself with `register`. It must not read global random
state: `ConditionClip.rng(text)` is the one source of randomness, fixed by (seed, clip id, condition text), so the
same clip, condition and seed give the same audio on any machine and worker count.

>>> import numpy as np
>>> clip = ConditionClip("u1", seed=0)
>>> a, b = clip.rng("white:20").standard_normal(3), ConditionClip("u1", seed=0).rng("white:20").standard_normal(3)
>>> bool(np.array_equal(a, b))
True
"""
from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError

CLEAN = "clean"
SEPARATOR = "~"
"""Between a family's name and its condition's slug in a store ('egemaps-func~white_20'): never in a family name."""


@dataclass(frozen=True)
class ConditionClip:
    """What a condition may know of the clip it degrades: its id, the condition seed, and `load` (another clip's
    decoded signal by id, at the same rate: babble reads its talkers through it; None where no other clip may be read)."""

    id: str
    seed: int = 0
    load: Callable[[str], np.ndarray] | None = field(default=None, compare=False)

    def rng(self, text: str) -> np.random.Generator:
        """The one random source of condition `text` on this clip: fixed by (seed, id, text)."""
        return np.random.default_rng([self.seed, zlib.crc32(self.id.encode()), zlib.crc32(text.encode())])


class Condition(ABC):
    """One recording condition. Subclasses set `kind`, `forms`, `axis`, and implement `parse` and `apply`.

    `text` is the canonical spelling (what `parse_condition` reads back to an equal condition, what rows and
    stores record); `severity` the x value of the report's robustness figure (None: one point); `config` what
    identifies its output (folders by their files' content) and `config_hash` its hash; `check(table)` refuses a
    corpus the condition cannot serve; `bind(table, folds)` returns the condition ready for that corpus (babble
    picks its talkers there); `sources(uid)` the clips whose audio a bound condition mixes into `uid`.
    """

    kind: ClassVar[str] = ""
    forms: ClassVar[tuple[str, ...]] = ()
    axis: ClassVar[str] = ""
    needs_corpus: ClassVar[bool] = False
    """True for a kind that binds itself to a corpus and its fold scheme (babble: talkers from the clip's fold)."""

    @classmethod
    def parse(cls, args: list[str], text: str) -> Condition:
        """The condition of a spelling's arguments (after the kind); a kind with a spelling overrides it."""
        raise refuse(text, f"a {cls.__name__} condition has no spelling of its own")

    @property
    @abstractmethod
    def text(self) -> str:
        """The canonical spelling, which `parse_condition` reads back to an equal condition."""

    @property
    def severity(self) -> float | None:
        return None

    @property
    def group(self) -> str:
        """The report's small-multiples panel this condition is drawn in (one per kind by default)."""
        return self.kind

    def config(self) -> dict:
        return {"condition": self.text}

    @property
    def config_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.config(), sort_keys=True).encode()).hexdigest()[:16]

    def check(self, table: pd.DataFrame) -> None:
        """Refuse (FeatbenchError, one line) a corpus this condition cannot serve; most serve any."""
        return None

    def bind(self, table: pd.DataFrame, folds: list) -> Condition:
        return self

    def sources(self, uid: str) -> tuple[str, ...]:
        return ()

    @abstractmethod
    def apply(self, signal: np.ndarray, rate: int, clip: ConditionClip) -> np.ndarray:
        """`signal` (float32, at `rate`) under this condition, as long as it; a ValueError for a clip it cannot
        degrade (the clip's failure)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Condition) and self.config() == other.config()

    def __hash__(self) -> int:
        return hash(self.config_hash)


KINDS: dict[str, type[Condition]] = {}


def register(cls: type[Condition]) -> type[Condition]:
    """Class decorator: `cls` is the kind parsed for the name `cls.kind`."""
    KINDS[cls.kind] = cls
    return cls


def valid_forms() -> str:
    return ", ".join(form for cls in KINDS.values() for form in cls.forms)


def shown(text: str) -> str:
    """`text` as a one-line message shows it: control and formatting characters (a newline, a right-to-left
    override) escaped.

    >>> shown("white:10"), shown("white:\\n10")
    ('white:10', 'white:\\\\n10')
    """
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def refuse(text: str, problem: str) -> FeatbenchError:
    """The one-line refusal of a condition spelling, naming it and the valid forms."""
    return FeatbenchError(f"condition '{shown(text)}': {shown(problem)}; valid forms: {valid_forms()}, "
                          "and A+B for A then B")


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def number(value: str, text: str, what: str, low: float, high: float, *, low_open: bool = False) -> float:
    """`value` as a finite float in [low, high] ((low, high] with low_open), or the condition's one-line refusal.

    >>> number("20", "white:20", "SNR in dB", -20, 60)
    20.0
    >>> number("abc", "white:abc", "SNR in dB", -20, 60)
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: condition 'white:abc': SNR in dB 'abc' is not a number; valid forms: ...
    """
    if not _NUMBER.fullmatch(value.strip()):
        raise refuse(text, f"{what} '{value}' is not a number")
    got = float(value)
    if not (low < got if low_open else low <= got) or got > high:
        bracket = "(" if low_open else "["
        raise refuse(text, f"{what} {value} is outside {bracket}{low:g}, {high:g}]")
    return got


def short(value: float) -> str:
    """A number as conditions spell it: '20', '0.6', '-5'.

    >>> short(20.0), short(0.60), short(-5)
    ('20', '0.6', '-5')
    """
    return f"{value:g}"


def slug(text: str) -> str:
    """A file-name-safe spelling of a condition's text, one per text: ':' becomes '_', anything outside
    [a-z0-9._+-] is dropped and a hash of the text keeps two texts apart.

    >>> slug("white:20"), slug("room:0.6+babble:10")
    ('white_20', 'room_0.6+babble_10')
    >>> slug("noise:10:/data/MUSAN noise")[:14]
    'noise_10_datam'
    """
    plain = text.replace(":", "_")
    kept = re.sub(r"[^a-z0-9._+-]", "", plain.lower())
    if kept == plain and len(kept) <= 60:
        return kept
    return f"{kept[:40]}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
