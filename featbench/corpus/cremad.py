"""CREMA-D: AudioWAV/AAAA_SSS_EEE_LL.wav; actor AAAA, sentence SSS, emotion EEE, level LL.

>>> parse_name("1001_DFA_ANG_XX")
{'label': 'angry', 'speaker': 'cremad_1001', 'sentence': 'DFA', 'level': 'XX'}
"""
from __future__ import annotations

from pathlib import Path

from featbench.corpus._files import rows_from_file_names

EMOTIONS = {"ANG": "angry", "DIS": "disgust", "FEA": "fearful", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}


def parse_name(stem: str) -> dict | None:
    parts = stem.split("_")
    if len(parts) != 4 or not parts[0].isdigit() or parts[2] not in EMOTIONS:
        return None
    return {"label": EMOTIONS[parts[2]], "speaker": f"cremad_{parts[0]}", "sentence": parts[1], "level": parts[3]}


def load(root: Path) -> list[dict]:
    return rows_from_file_names(root, "CREMA-D", parse_name)
