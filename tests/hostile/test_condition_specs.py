"""Surface: recording-condition spellings a user types (`--conditions`, `--test-condition`, `degrade`): random kinds and
arguments, hostile values, huge numbers, nan/inf, Unicode, empty parts, '+' chains, and folders that do not exist,
hold no audio or hold a damaged file.

The contract of a spelling: `parse_condition` refuses it with one FeatbenchError line naming it, or accepts it; an
accepted condition reads back from its canonical text (`parse_condition(c.text).text == c.text`), binds to a corpus
(or refuses in one line) and, applied to a short clip, gives finite float32 audio of the clip's length or raises a
ValueError (the clip's failure, for errors.csv): never another exception, never a hang.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from hostile.contract import HOSTILE_NAMES, Case, Surface, campaign, cases_budget, hostile_value, mutate

RATE = 16000
NUMBERS = (
    "0",
    "-0",
    "1",
    "-1",
    "3",
    "10",
    "20",
    "-20",
    "0.6",
    "1.0",
    ".5",
    "5.",
    "8k",
    "12.2k",
    "32000",
    "1e3",
    "nan",
    "inf",
    "-inf",
    "1e309",
    "99999999999999999999999",
    "0x10",
    "1_000",
    "  7 ",
    "+5",
    "٣",
    "²",
    "",
    "k",
)


def _clip() -> np.ndarray:
    t = np.arange(RATE // 2) / RATE
    return (0.2 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 3 * t) > -0.3)).astype(np.float32)


def _corpus() -> tuple[pd.DataFrame, list]:
    from featbench.train.folds import Fold

    speakers = [f"s{i}" for i in range(6) for _ in range(2)]
    table = pd.DataFrame(
        {
            "id": [f"{s}_{i % 2}" for i, s in enumerate(speakers)],
            "speaker": speakers,
            "group": speakers,
            "duration": 0.5,
        }
    )
    return table, [Fold(0, ("s0", "s1", "s2"), "k-group-folds"), Fold(1, ("s3", "s4", "s5"), "k-group-folds")]


def _folders(workdir: Path, rng: random.Random) -> list[str]:
    """Folder spellings: missing, empty, not audio, damaged audio, good audio, a file instead of a folder."""
    good, bad, empty, other = (workdir / name for name in ("good", "bad", "empty", "other"))
    for folder in (good, bad, empty, other):
        folder.mkdir(exist_ok=True)
    noise = np.random.default_rng(0).standard_normal(RATE // 4) * 0.1
    sf.write(good / "n.wav", noise, RATE)
    buffer = io.BytesIO()
    sf.write(buffer, noise, RATE, format="WAV")
    (bad / "n.wav").write_bytes(mutate(buffer.getvalue(), rng))
    (other / "notes.txt").write_text("no audio here")
    return [
        str(good),
        str(bad),
        str(empty),
        str(other),
        str(workdir / "missing"),
        str(good / "n.wav"),
        "",
        " ",
        f"{good}/../good",
        "~nobody/none",
        str(workdir / "日本語"),
        f"{good}+x",
    ]


SNRS = ("-20", "-5", "0", "5", "10", "20", "60", "0.5", "-20.0", "60.0001", "-21")
PLAUSIBLE = {
    "white": SNRS,
    "pink": SNRS,
    "brown": SNRS,
    "gain": ("-60", "0", "6", "40", "41"),
    "clip": ("0.001", "1", "50", "100"),
    "lowpass": ("50", "300", "4000", "7999", "8000", "192000"),
    "room": ("0.25", "0.3", "0.6", "1", "2", "0.24"),
    "mp3": ("8k", "16k", "144k", "320k", "8000", "320000"),
    "opus": ("6k", "6000", "12.5k", "510k", "128k"),
    "amr-nb": ("4.75k", "5150", "7.95k", "10.2k", "12.2k"),
}


def _plausible(rng: random.Random, folders: list[str]) -> str:
    """A spelling close to a valid one: the real kinds with arguments around their ranges."""
    kind = rng.choice([*PLAUSIBLE, "babble", "noise", "rir", "telephone", "clean"])
    if kind in PLAUSIBLE:
        return f"{kind}:{rng.choice(PLAUSIBLE[kind])}"
    if kind == "babble":
        return f"babble:{rng.choice(SNRS)}" + rng.choice(["", ":1", ":2", ":3", ":4", ":5"])
    if kind in ("noise", "rir"):
        folder = rng.choice(folders[:2] + folders[2:5])
        return f"noise:{rng.choice(SNRS)}:{folder}" if kind == "noise" else f"rir:{folder}"
    return kind


def _spelling(rng: random.Random, folders: list[str]) -> str:
    from featbench.protocol.conditions import KINDS

    if rng.random() < 0.5:
        return _plausible(rng, folders)
    kind = rng.choice([*KINDS, *KINDS, rng.choice(HOSTILE_NAMES), "", "WHITE", "white ", "gsm", "room2"])
    shape = rng.randrange(6)
    if shape == 0:
        args = []
    elif shape == 1:
        args = [str(hostile_value(rng))]
    elif shape == 2:
        args = [rng.choice(NUMBERS) for _ in range(rng.randrange(1, 4))]
    elif shape == 3:
        args = [rng.choice(NUMBERS), rng.choice(folders)]
    elif shape == 4:
        args = [rng.choice(folders)]
    else:
        args = [rng.choice(NUMBERS), str(rng.choice([1, 2, 3, 4, 32, 33, 10**6, -1]))]
    return ":".join([kind, *args])


def spelling_cases(rng: random.Random, workdir: Path):
    from featbench.protocol.conditions.base import shown

    folders = _folders(workdir, rng)
    table, folds = _corpus()
    i = 0
    while True:
        parts = [_spelling(rng, folders) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
        spelling = "+".join(parts)
        if rng.random() < 0.1:
            spelling = rng.choice(["+", "", " ", f"{spelling}+", f"+{spelling}", spelling.replace("+", "++")])
        i += 1
        names = tuple({shown(spelling.strip()), *(shown(part.strip()) for part in spelling.split("+"))} - {""})
        yield Case(
            f"{i}: {spelling[:120]!r}",
            lambda s=spelling: _use(s, table, folds),
            check=_usable,
            names=names or ("condition ''",),
            seconds=30,
        )


def _use(spelling: str, table: pd.DataFrame, folds: list):
    """What featbench does with a spelling: parse, read back, bind, apply to a clip (a ValueError is the clip's)."""
    from featbench.errors import FeatbenchError
    from featbench.protocol.conditions import ConditionClip, parse_condition

    condition = parse_condition(spelling)
    again = parse_condition(condition.text).text
    try:
        bound = condition.bind(table, folds)
    except FeatbenchError as err:
        return condition.text, again, ("refused", str(err))
    clip = _clip()
    audio = {uid: _clip() * (1 + k / 10) for k, uid in enumerate(table.id)}
    try:
        return condition.text, again, bound.apply(clip, RATE, ConditionClip("s0_0", seed=1, load=audio.__getitem__))
    except ValueError as err:
        return condition.text, again, ("failed", str(err))


def _usable(result) -> bool:
    text, again, out = result
    if text != again:
        return False
    if isinstance(out, tuple):  # a refused binding names the condition in one line; a clip's failure says why
        kind, message = out
        return bool(message.strip()) and "\n" not in message and (kind == "failed" or "condition '" in message)
    return out.dtype == np.float32 and out.shape == (RATE // 2,) and bool(np.all(np.isfinite(out)))


SURFACE = Surface("condition specs", spelling_cases)


def test_condition_spellings_are_refused_in_one_line_or_work(tmp_path):
    campaign(SURFACE, cases_budget(60), tmp_path).assert_clean(at_least=60)


def test_a_newline_or_an_empty_chain_part_is_refused_in_one_line():
    import pytest

    from featbench.errors import FeatbenchError
    from featbench.protocol.conditions import parse_condition

    for spelling, shown in [
        ("whi\nte:10", "whi\\nte:10"),
        ("white:10+", "white:10+"),
        ("+white:10", "+white:10"),
        ("white:10++pink:5", "white:10++pink:5"),
        ("\u202ewhite:10", "\\u202ewhite:10"),
    ]:
        with pytest.raises(FeatbenchError) as err:
            parse_condition(spelling)
        assert "\n" not in str(err.value) and f"condition '{shown}'" in str(err.value), str(err.value)
