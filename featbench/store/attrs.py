"""Typed reads of a store file's attributes: a value of another type, or one featbench never writes (an unknown
format version, row kind or dtype, a negative rate), is one line naming the file and the attribute.

Such a value is refused, not taken as damage: in a file of format 3 the attributes pass their checksum
before they are read here, so they were written that way (by another featbench, or by hand); `repair`
leaves such a file where it is.

>>> attrs = Attrs({"sample_rate": 16000, "rows": b"frames", "frame_rate": -1.0}, "s/toy.h5")
>>> attrs.integer("sample_rate", minimum=1), attrs.choice("rows", ["frames", "utterance"])
(16000, 'frames')
>>> attrs.number("frame_rate")
Traceback (most recent call last):
featbench.errors.FeatbenchError: s/toy.h5: metadata 'frame_rate' is -1.0, not a finite number >= 0 (written by another featbench, or by hand?)
"""
from __future__ import annotations

import json
import math

import numpy as np

from featbench.errors import FeatbenchError


class Attrs:
    """The attributes `attrs` (a mapping: h5py's AttributeManager) of the store file `where`, read typed."""

    def __init__(self, attrs, where):
        self.attrs, self.where = attrs, where

    def fail(self, name: str, value, wanted: str) -> FeatbenchError:
        shown = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        shown = shown.item() if isinstance(shown, np.generic) else shown
        text = repr(shown)
        text = text if len(text) <= 60 else text[:57] + "..."
        return FeatbenchError(f"{self.where}: metadata '{name}' is {text}, not {wanted} (written by another featbench, "
                              "or by hand?)")

    def raw(self, name: str, default=None):
        if name in self.attrs:
            return self.attrs[name]
        if default is None:
            raise FeatbenchError(f"{self.where}: metadata '{name}' is missing (not a featbench store file?)")
        return default

    def text(self, name: str, default: str | None = None) -> str:
        value = self.raw(name, default)
        if isinstance(value, np.ndarray) and value.shape == ():
            value = value[()]
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                raise self.fail(name, value, "UTF-8 text") from None
        if not isinstance(value, str):
            raise self.fail(name, value, "text")
        return value

    def choice(self, name: str, choices, default: str | None = None) -> str:
        value = self.text(name, default)
        if value not in choices:
            raise self.fail(name, value, "one of " + ", ".join(choices))
        return value

    def json_object(self, name: str) -> dict:
        value = self.text(name)
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise self.fail(name, value, "a JSON object")
        return parsed

    def integer(self, name: str, minimum: int, default: int | None = None) -> int:
        value = self.raw(name, default)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise self.fail(name, value, f"a whole number >= {minimum}")
        return int(value)

    def number(self, name: str) -> float:
        value = self.raw(name)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not math.isfinite(value) or value < 0:
            raise self.fail(name, value, "a finite number >= 0")
        return float(value)

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw(name, np.bool_(default))
        if not isinstance(value, (bool, np.bool_)):
            raise self.fail(name, value, "true or false")
        return bool(value)
