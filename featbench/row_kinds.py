"""What one row of a stored feature matrix is; shared by the families (which say it) and the store (which records it).

>>> RowKind("frames") is RowKind.FRAMES
True
"""
from __future__ import annotations

from enum import Enum


class RowKind(str, Enum):
    """What one row of a family's feature matrix is.

    - FRAMES: one analysis frame (``frame_rate`` frames per second)
    - UTTERANCE: a whole utterance (one row per utterance; ``frame_rate`` 0)
    - WAVEFORM: one audio sample (for learnable front ends)
    - TOKENS: one text token
    """

    FRAMES = "frames"
    UTTERANCE = "utterance"
    WAVEFORM = "waveform"
    TOKENS = "tokens"
