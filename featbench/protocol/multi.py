"""The recording condition a model trains under (`train --train-condition`, `fit --train-condition`): one condition
(featbench.protocol.conditions), or `MultiCondition`, multi-condition training ('multi:white:10,babble:10'): each
training and validation clip heard under one of its conditions, chosen by (seed, clip id) alone, so that the same
seed draws the same mix for every view, classifier, budget and worker count.

`parse_training_condition` reads either spelling once at the edge; both kinds name themselves (`text`, written to
results rows' `train_condition`), list the conditions whose features they read (`conditions`) and say which
condition each clip is heard under (`pick`).

>>> multi = parse_training_condition("multi: white:10, clean")
>>> multi.text, multi.label, [c.text for c in multi.conditions]
('multi:white:10,clean', 'multi-condition: white:10, clean', ['white:10', 'clean'])
>>> multi.pick(["u1", "u2", "u3", "u4"], seed=0).tolist() == multi.pick(["u1", "u2", "u3", "u4"], seed=0).tolist()
True
>>> training_label("babble:10"), training_label("clean")
('trained on babble:10', '')
>>> parse_training_condition("multi:white:10")
Traceback (most recent call last):
featbench.errors.FeatbenchError: --train-condition multi:white:10: multi-condition training takes two or more different conditions (multi:C1,C2[,...]), e.g. multi:clean,white:10,babble:10
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from featbench.errors import FeatbenchError
from featbench.protocol.conditions import CLEAN, Condition, parse_condition

MULTI = "multi"
_FORM = f"{MULTI}:C1,C2[,...]), e.g. {MULTI}:clean,white:10,babble:10"


@dataclass(frozen=True)
class SingleCondition:
    """Training under one condition (clean by default): every clip heard under it."""

    condition: Condition

    @property
    def text(self) -> str:
        return self.condition.text

    @property
    def label(self) -> str:
        return training_label(self.text)

    @property
    def conditions(self) -> tuple[Condition, ...]:
        return (self.condition,)

    @property
    def default_test(self) -> Condition:
        """The test condition when none is given: the training condition (matched, or clean)."""
        return self.condition

    def pick(self, ids, seed: int) -> np.ndarray:
        """The index (into `conditions`) each clip is heard under: 0 for every clip."""
        return np.zeros(len(ids), dtype=np.int64)


@dataclass(frozen=True)
class MultiCondition:
    """Multi-condition training: each training and validation clip heard under one of `parts`, drawn uniformly by
    (seed, clip id)."""

    parts: tuple[Condition, ...]

    @classmethod
    def parse(cls, text: str) -> MultiCondition:
        """'multi:C1,C2[,...]' (two or more different conditions, none of them itself multi), or a one-line error."""
        body = str(text).strip()[len(MULTI) + 1:]
        items = [item.strip() for item in body.split(",") if item.strip()]
        if len(items) < 2 or any(item.split(":")[0] == MULTI for item in items):
            raise FeatbenchError(f"--train-condition {text}: multi-condition training takes two or more different "
                                 f"conditions ({_FORM}")
        parts = tuple(within(parse_condition, item, "--train-condition") for item in items)
        texts = [p.text for p in parts]
        if len(set(texts)) < len(texts):
            repeated = next(t for t in texts if texts.count(t) > 1)
            raise FeatbenchError(f"--train-condition {text}: '{repeated}' is named twice; name each condition once "
                                 f"({_FORM}")
        return cls(parts)

    @property
    def text(self) -> str:
        return f"{MULTI}:" + ",".join(p.text for p in self.parts)

    @property
    def label(self) -> str:
        return training_label(self.text)

    @property
    def conditions(self) -> tuple[Condition, ...]:
        return self.parts

    @property
    def default_test(self) -> Condition:
        return parse_condition(CLEAN)

    def pick(self, ids, seed: int) -> np.ndarray:
        """The index (into `parts`) each clip of `ids` is heard under: a function of (seed, id) only."""
        n = len(self.parts)
        return np.array([zlib.crc32(f"{seed}\0{u}".encode()) % n for u in ids], dtype=np.int64)


TrainingCondition = SingleCondition | MultiCondition


def parse_training_condition(text: str | Condition | TrainingCondition) -> TrainingCondition:
    """A training condition from its spelling: 'multi:C1,C2' or one condition ('clean', 'babble:10'); a refusal
    names the option and the whole spelling.

    >>> parse_training_condition("+1+2")
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: --train-condition '+1+2': condition '+1+2': an empty part ('+' at an end or twice); valid forms: ...
    """
    if isinstance(text, (SingleCondition, MultiCondition)):
        return text
    if isinstance(text, Condition):
        return SingleCondition(text)
    text = spelling(text, "--train-condition")
    if text.strip().split(":")[0] == MULTI:
        return MultiCondition.parse(text)
    return SingleCondition(within(parse_condition, text, "--train-condition"))


def spelling(text, option: str) -> str:
    """`text` as a condition spelling: a string of printable characters, or a one-line error naming `option`."""
    if not isinstance(text, str) or not text.isprintable():
        raise FeatbenchError(f"{option} {str(text)!r}: not a condition spelling (printable text, e.g. clean, white:20 "
                             f"or {MULTI}:C1,C2)")
    return text


def within(parse, text: str, option: str):
    """`parse(text)`, its refusal prefixed with the option and the whole spelling (a part may be what it names)."""
    try:
        return parse(text)
    except FeatbenchError as err:
        if str(err).startswith(f"{option} "):
            raise
        raise FeatbenchError(f"{option} '{text}': {err}") from None


def training_label(text: str) -> str:
    """How an entry's display name says its training condition ('' for clean; see results.Setup.label)."""
    if text == CLEAN:
        return ""
    if text.startswith(f"{MULTI}:"):
        return "multi-condition: " + ", ".join(text[len(MULTI) + 1:].split(","))
    return f"trained on {text}"
