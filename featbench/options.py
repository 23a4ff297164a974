"""Parsing of command-line option strings shared by the commands.

>>> parse_list("egemaps-lld, fbank")
['egemaps-lld', 'fbank']
>>> parse_settings(["fbank.n_mels=64", "fbank.hop_ms=20"])
{'fbank': {'n_mels': '64', 'hop_ms': '20'}}
"""
from __future__ import annotations

from featbench.errors import FeatbenchError


def parse_list(spec: str | None, what: str = "the list") -> list[str]:
    """Comma-separated names, blanks dropped, order kept; a name given twice is refused.

    >>> parse_list("a,b,a", "--features")
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: --features names 'a' twice
    """
    seen = []
    for item in (s.strip() for s in (spec or "").split(",")):
        if item in seen:
            raise FeatbenchError(f"{what} names '{item}' twice")
        if item:
            seen.append(item)
    return seen


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
