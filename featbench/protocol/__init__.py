"""The protocol's kinds that act: each kind checks itself against a corpus, applies itself, names itself, and is
written to results rows by value. Today: recording conditions (`featbench.protocol.conditions`), normalisation
(`featbench.protocol.normalisation`), pooling (`featbench.protocol.pooling`), the two-corpus designs
(`featbench.protocol.designs`) and the budgets they draw (`featbench.protocol.budgets`).

>>> from featbench.protocol import parse_condition
>>> parse_condition("white:20").text
'white:20'
"""
from __future__ import annotations

from featbench.protocol.conditions import (CLEAN, Condition, ConditionClip, parse_condition, parse_conditions,
                                           stored_name)
from featbench.protocol.designs import Design
from featbench.protocol.normalisation import Normalisation
from featbench.protocol.pooling import Pooling

__all__ = ["CLEAN", "Condition", "ConditionClip", "Design", "Normalisation", "Pooling", "parse_condition", "parse_conditions", "stored_name"]
