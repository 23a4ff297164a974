"""TESS (Toronto): <folder>/SSS_word_emotion.wav; speaker OAF or YAF, 'ps' = pleasant surprise.

TESS has two speakers only: speaker-independent folds are two-fold at most.

>>> parse_name("OAF_back_ps")
{'label': 'surprised', 'speaker': 'tess_OAF', 'word': 'back', 'gender': 'female'}
>>> parse_name("YAF_germ_angry")["label"]
'angry'
"""
from __future__ import annotations

from pathlib import Path

from featbench.corpus._files import rows_from_file_names

EMOTIONS = {"angry": "angry", "disgust": "disgust", "fear": "fearful", "happy": "happy",
            "neutral": "neutral", "ps": "surprised", "sad": "sad"}


def parse_name(stem: str) -> dict | None:
    parts = stem.split("_")
    if len(parts) < 3 or parts[0].upper() not in ("OAF", "YAF") or parts[-1].lower() not in EMOTIONS:
        return None
    return {"label": EMOTIONS[parts[-1].lower()], "speaker": f"tess_{parts[0].upper()}", "word": "_".join(parts[1:-1]),
            "gender": "female"}


def load(root: Path) -> list[dict]:
    return rows_from_file_names(root, "TESS", parse_name)
