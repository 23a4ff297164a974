"""Recording conditions: named, deterministic transformations of a clip's audio before any feature family sees it
(noise at an SNR on active speech, rooms, codecs and channels, and chains of them).

`parse_condition` reads one spelling ('white:20', 'room:0.6+babble:10', 'clean'), `parse_conditions` a comma list;
each kind lives in one module (`noise`, `babble`, `folder`, `room`, `codecs`, `channel`) and registers itself.
`stored_name` is where a family's features under a condition live in a store: the family's own name for `clean`
(stores and hashes as before), 'family~slug' for any other.

>>> [c.text for c in parse_conditions("clean, white:20, gain:-6+white:10")]
['clean', 'white:20', 'gain:-6+white:10']
>>> stored_name("egemaps-func", parse_condition("white:20")), stored_name("mfcc", parse_condition("clean"))
('egemaps-func~white_20', 'mfcc')
>>> parse_condition("white")
Traceback (most recent call last):
featbench.errors.FeatbenchError: condition 'white': white takes SNR in dB (white:SNR); valid forms: ...
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# each module registers its kinds
from featbench.protocol.conditions import babble, channel, codecs, folder, noise, room  # noqa: F401
from featbench.protocol.conditions.base import (CLEAN, KINDS, SEPARATOR, Condition, ConditionClip, refuse, register,
                                                slug)

__all__ = ["CLEAN", "Chain", "Clean", "Condition", "ConditionClip", "KINDS", "parse_condition", "parse_conditions",
           "stored_name", "split_stored_name"]


@register
class Clean(Condition):
    """The recording as it is: changes nothing, stores and hashes as before conditions existed."""

    kind, forms = CLEAN, (CLEAN,)

    @classmethod
    def parse(cls, args: list[str], text: str) -> Clean:
        if args:
            raise refuse(text, "clean takes no arguments")
        return cls()

    @property
    def text(self) -> str:
        return CLEAN

    def apply(self, signal: np.ndarray, rate: int, clip: ConditionClip) -> np.ndarray:
        return signal


class Chain(Condition):
    """Conditions applied one after the other ('room:0.6+babble:10': the room, then babble at 10 dB)."""

    kind = "chain"

    def __init__(self, parts: tuple[Condition, ...]):
        self.parts = parts

    @property
    def text(self) -> str:
        return "+".join(part.text for part in self.parts)

    @property
    def needs_corpus(self) -> bool:  # type: ignore[override]
        return any(part.needs_corpus for part in self.parts)

    @property
    def severity(self) -> float | None:
        return self.parts[-1].severity

    @property
    def group(self) -> str:
        return "+".join(part.group for part in self.parts)

    def config(self) -> dict:
        return {"chain": [part.config() for part in self.parts]}

    def check(self, table: pd.DataFrame) -> None:
        for part in self.parts:
            part.check(table)

    def bind(self, table: pd.DataFrame, folds: list) -> Chain:
        return Chain(tuple(part.bind(table, folds) for part in self.parts))

    def sources(self, uid: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for part in self.parts for s in part.sources(uid)))

    def apply(self, signal: np.ndarray, rate: int, clip: ConditionClip) -> np.ndarray:
        for part in self.parts:
            signal = part.apply(signal, rate, clip)
        return signal


def _one(text: str) -> Condition:
    kind, *args = text.split(":")
    if kind not in KINDS:
        raise refuse(text, f"unknown kind '{kind}'")
    return KINDS[kind].parse(args, text)


def parse_condition(text: str | Condition) -> Condition:
    """One condition from its spelling (a chain 'A+B' applies A then B); a one-line FeatbenchError naming the
    spelling and the valid forms for anything else."""
    if isinstance(text, Condition):
        return text
    text = str(text).strip()
    if not text:
        raise refuse(text, "empty")
    if any(not part.strip() for part in text.split("+")):
        raise refuse(text, "an empty part ('+' at an end or twice)")
    parts = [_one(part.strip()) for part in text.split("+")]
    if len(parts) == 1:
        return parts[0]
    if any(isinstance(part, Clean) for part in parts):
        raise refuse(text, "clean cannot be chained")
    return Chain(tuple(parts))


def parse_conditions(spec: str) -> list[Condition]:
    """A comma list of conditions, each once, in the order given."""
    conditions = [parse_condition(item) for item in str(spec).split(",") if item.strip()]
    if not conditions:
        raise refuse(spec, "no condition given")
    texts = [c.text for c in conditions]
    repeated = sorted({t for t in texts if texts.count(t) > 1})
    if repeated:
        raise refuse(repeated[0], "given twice; name each condition once")
    return conditions


def stored_name(family: str, condition: Condition) -> str:
    """The name a family's features under `condition` are stored as: the family's own for clean."""
    return family if isinstance(condition, Clean) else f"{family}{SEPARATOR}{slug(condition.text)}"


def split_stored_name(name: str) -> tuple[str, str]:
    """(family, condition slug; '' for clean) of a stored name.

    >>> split_stored_name("egemaps-func~white_20"), split_stored_name("mfcc")
    (('egemaps-func', 'white_20'), ('mfcc', ''))
    """
    family, _, condition_slug = name.partition(SEPARATOR)
    return family, condition_slug
