"""Parsing of command-line option strings shared by the commands.

>>> parse_list("egemaps-lld, fbank")
['egemaps-lld', 'fbank']
>>> parse_settings(["fbank.n_mels=64", "fbank.hop_ms=20"])
{'fbank': {'n_mels': '64', 'hop_ms': '20'}}
>>> parse_int(" 16 ", "budget", minimum=1)
16
"""
from __future__ import annotations

import math
from typing import Any

from featbench.errors import FeatbenchError


def parse_list(spec: str | None, what: str = "the list") -> list[str]:
    """Comma-separated names, blanks dropped, order kept; a name given twice is refused. A comma within
    parentheses belongs to its name (`ensemble(a,b)`, train.ensemble).

    >>> parse_list("ensemble(a, b),c")
    ['ensemble(a, b)', 'c']
    >>> parse_list("a,b,a", "--features")
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: --features names 'a' twice
    """
    seen = []
    for item in (s.strip() for s in _top_level(spec or "")):
        if item in seen:
            raise FeatbenchError(f"{what} names '{item}' twice")
        if item:
            seen.append(item)
    return seen


def _top_level(spec: str) -> list[str]:
    """`spec` split at the commas outside parentheses.

    >>> _top_level("e(a,f(b,c)),d")
    ['e(a,f(b,c))', 'd']
    """
    items, depth, start = [], 0, 0
    for i, char in enumerate(spec):
        depth += (char == "(") - (char == ")")
        if char == "," and depth <= 0:
            items.append(spec[start:i])
            start = i + 1
    return items + [spec[start:]]


def parse_settings(items: list[str] | None) -> dict[str, dict[str, str]]:
    """'family.option=value' items into {family: {option: value}}."""
    settings: dict[str, dict[str, str]] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        family, dot, option = key.strip().partition(".")
        if not sep or not dot or not family or not option:
            raise FeatbenchError(f"--set '{item}' is not of the form family.option=value")
        settings.setdefault(family, {})[option] = value.strip()
    return settings


def is_whole(text: str) -> bool:
    """Whether `text` is a whole number in the digits 0-9: str.isdigit() also takes '²' or '٣', which int()
    then refuses or reads as another number.

    >>> is_whole("12"), is_whole("\u00b2"), is_whole("-1"), is_whole("")
    (True, False, False, False)
    """
    return text.isascii() and text.isdigit()


def parse_int(text: str, what: str, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole number option value (digits 0-9) within [minimum, maximum], else a one-line FeatbenchError
    naming `what`: the one parser of the integers that option strings hold (seeds, budgets, ...).

    >>> parse_int("\u00b2", "seed")
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: seed '²' is not a non-negative integer
    >>> parse_int("4294967296", "seed", maximum=2 ** 32 - 1)
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: seed 4294967296 is above 4294967295
    """
    text = str(text).strip()
    if not is_whole(text):
        kind = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
        raise FeatbenchError(f"{what} '{text}' is not {kind}")
    value = int(text)
    if value < minimum:
        raise FeatbenchError(f"{what} {value} is below {minimum}")
    if maximum is not None and value > maximum:
        raise FeatbenchError(f"{what} {value} is above {maximum}")
    return value


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def coerce_option(family: str, option: str, value: Any, to_type: type) -> Any:
    """An option value (usually text from ``--set``) as the option's type; a one-line error otherwise.

    >>> coerce_option("fbank", "n_mels", "64", int), coerce_option("fbank", "center", "no", bool)
    (64, False)
    >>> coerce_option("fbank", "n_mels", "40.5", int)
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: fbank.n_mels='40.5': not a whole number
    """
    text = str(value).strip()
    if to_type is bool:
        if isinstance(value, bool):
            return value
        if text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise FeatbenchError(f"{family}.{option}={text!r}: not a yes/no value (true/false, yes/no, on/off, 1/0)")
    if to_type is int:
        try:
            return int(text)
        except ValueError:
            raise FeatbenchError(f"{family}.{option}={text!r}: not a whole number") from None
    if to_type is float:
        try:
            number = float(text)
        except ValueError:
            raise FeatbenchError(f"{family}.{option}={text!r}: not a number") from None
        if not math.isfinite(number):
            raise FeatbenchError(f"{family}.{option}={text!r}: not a finite number")
        return number
    return text if isinstance(value, str) else value
