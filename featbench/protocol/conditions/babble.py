"""`babble:SNR[:TALKERS]`: other speakers of the same corpus talking at once (3 by default), mixed at SNR dB on active
speech, drawn so that the babble cannot leak a speaker across the protocol's folds.

`bind(table, folds)` picks every clip's TALKERS talker clips among the speakers who are *tested in the clip's own
fold* (the fold whose test groups hold its group), never its own speaker, and never a speaker who also has clips
outside that fold: one clip from each of TALKERS distinct speakers where the fold has that many others, else the
fold's other speakers in turn, each clip once (RAVDESS's ten default folds hold 2 or 3 speakers: babble of 3 talkers
there is 3 clips of the one or two other speakers of the fold). A test clip therefore never hears a speaker who
trains the model that scores it, and a training clip never hears a speaker who is tested against it. The choice is a
deterministic hash of (clip id, condition text), the same on every machine and independent of the condition seed, so
that one talker table (recorded in the store) serves every seed; the seed draws each talker's offset. `check`/`bind`
refuse in one line a corpus whose fold has no other speaker (leave-one-speaker-out folds) or fewer other clips than
TALKERS.

`apply` reads the talkers through `ConditionClip.load`, scales each to the same active-speech power, loops or trims
it to the clip's length from a seeded offset, sums them and mixes the sum at SNR dB.

>>> import numpy as np, pandas as pd
>>> from featbench.protocol.conditions import parse_condition, ConditionClip
>>> from featbench.train.folds import Fold
>>> speakers = list("aabbcddeef")
>>> table = pd.DataFrame({"id": [s + str(speakers[:i].count(s) + 1) for i, s in enumerate(speakers)],
...                       "speaker": speakers, "group": speakers, "duration": [1.0] * 10})
>>> folds = [Fold(0, ("a", "b", "c"), "k-group-folds"), Fold(1, ("d", "e", "f"), "k-group-folds")]
>>> bound = parse_condition("babble:10:2").bind(table, folds)
>>> sorted(talker[0] for talker in bound.sources("a1")), sorted(talker[0] for talker in bound.sources("d1"))
(['b', 'c'], ['e', 'f'])
>>> t = np.arange(16000) / 16000
>>> audio = {u: (0.2 * np.sin(2 * np.pi * f * t)).astype(np.float32) for u, f in zip(table.id, range(200, 1200, 100))}
>>> noisy = bound.apply(audio["a1"], 16000, ConditionClip("a1", load=audio.__getitem__))
>>> round(float(snr_db(audio["a1"], noisy - audio["a1"], 16000)), 2)
10.0
>>> sorted(parse_condition("babble:10").bind(table, folds).sources("c1"))  # 3 talkers, 2 other speakers
['a2', 'b1', 'b2']
>>> parse_condition("babble:10").bind(table, [Fold(i, (g,), "leave-one-group-out") for i, g in enumerate("abcdef")])
Traceback (most recent call last):
featbench.errors.FeatbenchError: condition 'babble:10': clip 'a1' (speaker 'a') has 0 other speakers with 0 clips in ...
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from featbench.protocol.conditions.base import Condition, ConditionClip, number, refuse, register, short
from featbench.protocol.conditions.folder import looped
from featbench.protocol.conditions.noise import SNR_RANGE, active_speech, mix_at_snr, snr_db  # noqa: F401

DEFAULT_TALKERS = 3
MAX_TALKERS = 32
_COLUMNS = ("id", "speaker", "group")


def _draw(pool: dict[str, list[str]], others: list[str], count: int, rng: np.random.Generator) -> list[str]:
    """Up to `count` clips: the speakers `others` in a seeded order, one clip each, round after round (each speaker's
    clips in a seeded order, each once) until `count` are drawn or every clip is."""
    order = [others[i] for i in rng.permutation(len(others))]
    shuffled: dict[str, np.ndarray] = {}
    drawn: list[str] = []
    for turn in range(count):
        before = len(drawn)
        for name in order:
            if len(drawn) == count:
                return drawn
            if name not in shuffled:
                shuffled[name] = rng.permutation(len(pool[name]))
            if turn < len(pool[name]):
                drawn.append(pool[name][int(shuffled[name][turn])])
        if len(drawn) == before:
            break
    return drawn


@register
@dataclass(frozen=True, eq=False)
class Babble(Condition):
    """`talkers` clips of other speakers of the clip's own test fold at `snr` dB on active speech (once bound)."""

    snr: float
    talkers: int = DEFAULT_TALKERS
    chosen: dict[str, tuple[str, ...]] | None = field(default=None, repr=False)  # clip id -> talker ids, read-only
    kind, forms, axis = "babble", ("babble:SNR", "babble:SNR:TALKERS"), "SNR (dB)"
    needs_corpus = True

    @classmethod
    def parse(cls, args: list[str], text: str) -> Babble:
        if len(args) not in (1, 2):
            raise refuse(text, "babble takes an SNR in dB and optionally a number of talkers (babble:SNR[:TALKERS])")
        snr = number(args[0], text, "SNR in dB", *SNR_RANGE)
        talkers = number(args[1], text, "number of talkers", 1, MAX_TALKERS) if len(args) == 2 else DEFAULT_TALKERS
        if talkers != int(talkers):
            raise refuse(text, f"number of talkers {args[1]} is not a whole number")
        return cls(snr, int(talkers))

    @property
    def text(self) -> str:
        suffix = "" if self.talkers == DEFAULT_TALKERS else f":{self.talkers}"
        return f"babble:{short(self.snr)}{suffix}"

    @property
    def severity(self) -> float:
        return self.snr

    def check(self, table: pd.DataFrame) -> None:
        missing = [column for column in _COLUMNS if column not in table.columns]
        if missing:
            raise refuse(self.text, f"babble needs the corpus's {', '.join(missing)} column(s)")
        speakers = table["speaker"].astype(str).nunique()
        if speakers < 2:
            raise refuse(self.text, f"babble needs speakers other than the clip's own; the corpus has {speakers}")

    def bind(self, table: pd.DataFrame, folds: list) -> Babble:
        """This condition with every clip's talkers chosen in its own test fold (see the module docstring)."""
        self.check(table)
        ids, speakers, groups = (table[column].astype(str).to_numpy() for column in _COLUMNS)
        fold_of = {group: fold.index for fold in folds for group in fold.test_groups}
        unfolded = sorted(set(groups) - set(fold_of))
        if unfolded:
            raise refuse(self.text, f"group '{unfolded[0]}' is in no test fold; babble draws talkers per fold")
        clip_fold = np.array([fold_of[group] for group in groups])
        chosen = {}
        for index in sorted(set(clip_fold.tolist())):
            chosen.update(self._bind_fold(ids, speakers, clip_fold == index))
        return replace(self, chosen=chosen)

    def _bind_fold(self, ids: np.ndarray, speakers: np.ndarray, inside: np.ndarray) -> dict[str, tuple[str, ...]]:
        outside = set(speakers[~inside].tolist())  # a speaker with clips outside the fold trains its models
        pool: dict[str, list[str]] = {}
        for uid, speaker in sorted(zip(ids[inside].tolist(), speakers[inside].tolist())):
            if speaker not in outside:
                pool.setdefault(speaker, []).append(uid)
        names = sorted(pool)
        chosen = {}
        for uid, speaker in zip(ids[inside].tolist(), speakers[inside].tolist()):
            others = [name for name in names if name != speaker]
            rng = np.random.default_rng([zlib.crc32(uid.encode()), zlib.crc32(self.text.encode())])
            talkers = _draw(pool, others, self.talkers, rng)
            if len(talkers) < self.talkers:
                raise refuse(self.text, f"clip '{uid}' (speaker '{speaker}') has {len(others)} other speaker"
                                        f"{'' if len(others) == 1 else 's'} with {sum(len(pool[n]) for n in others)} "
                                        f"clips in its test fold, babble needs {self.talkers} clips of other speakers: "
                                        "use fewer folds or fewer talkers")
            chosen[uid] = tuple(talkers)
        return chosen

    def sources(self, uid: str) -> tuple[str, ...]:
        return () if self.chosen is None else self.chosen.get(uid, ())

    def apply(self, signal: np.ndarray, rate: int, clip: ConditionClip) -> np.ndarray:
        if self.chosen is None:
            raise ValueError(f"{self.text} is not bound to a corpus: its talkers are chosen by bind(table, folds)")
        talkers = self.sources(clip.id)
        if not talkers:
            raise ValueError(f"{self.text} has no talkers for clip '{clip.id}' (not in the corpus it was bound to)")
        if clip.load is None:
            raise ValueError(f"{self.text} needs the talkers' audio, and no loader was given for clip '{clip.id}'")
        rng = clip.rng(self.text)
        babble = np.zeros(signal.size, dtype=np.float64)
        for uid in talkers:
            talker = np.asarray(clip.load(uid), dtype=np.float64)
            level = np.sqrt(np.mean(np.square(active_speech(talker, rate))))
            babble += looped(talker / level, signal.size, int(rng.integers(max(talker.size, 1))))
        return mix_at_snr(signal, babble, self.snr, rate)
