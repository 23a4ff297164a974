"""EmoDB (Berlin): wav/SSTTTEV.wav; speaker SS, text TTT, emotion letter E, version V.

>>> parse_name("03a01Fa")
{'label': 'happy', 'speaker': 'emodb_03', 'text': 'a01', 'gender': 'male'}
"""
from __future__ import annotations

from pathlib import Path

from featbench.corpus._files import rows_from_file_names

GENDER = {"03": "male", "08": "female", "09": "female", "10": "male", "11": "male", "12": "male",
          "13": "female", "14": "female", "15": "male", "16": "female"}
EMOTIONS = {"W": "angry", "L": "bored", "E": "disgust", "A": "fearful", "F": "happy", "T": "sad", "N": "neutral"}


def parse_name(stem: str) -> dict | None:
    if len(stem) != 7 or not stem[:2].isdigit() or stem[5] not in EMOTIONS:
        return None
    return {"label": EMOTIONS[stem[5]], "speaker": f"emodb_{stem[:2]}", "text": stem[2:5], "gender": GENDER.get(stem[:2], "")}


def load(root: Path) -> list[dict]:
    return rows_from_file_names(root, "EmoDB", parse_name)
