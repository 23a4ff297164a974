"""The protocol's kinds that act: each kind checks itself against a corpus, applies itself, names itself, and is
written to results rows by value. Today: recording conditions (`featbench.protocol.conditions`) and normalisation
(`featbench.protocol.normalisation`).

>>> from featbench.protocol import parse_condition
>>> parse_condition("white:20").text
'white:20'
"""
from __future__ import annotations

from featbench.protocol.conditions import (CLEAN, Condition, ConditionClip, parse_condition, parse_conditions,
                                           stored_name)
from featbench.protocol.normalisation import Normalisation

__all__ = ["CLEAN", "Condition", "ConditionClip", "Normalisation", "parse_condition", "parse_conditions", "stored_name"]
