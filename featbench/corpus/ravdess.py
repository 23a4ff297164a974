"""RAVDESS speech: Actor_XX/03-01-EE-II-SS-RR-AA.(wav|flac); emotion EE, intensity II, statement SS,
repetition RR, actor AA (odd = male).

Only audio-only speech files (modality 03 or audio-video 01/02 ignored, vocal channel 01) are kept. The
statement code gives the sentence spoken, stored as the utterance's `transcript` (the reference for
`featbench transcribe`'s word error rate): 01 = "Kids are talking by the door", 02 = "Dogs are sitting
by the door".

>>> parse_name("03-01-05-02-01-01-07")
{'label': 'angry', 'speaker': 'ravdess_07', 'gender': 'male', 'intensity': 'strong', 'transcript': 'Kids are talking by the door'}
>>> parse_name("03-01-05-02-02-01-07")["transcript"]
'Dogs are sitting by the door'
"""
from __future__ import annotations

from pathlib import Path

from featbench.corpus._files import rows_from_file_names

EMOTIONS = {
    "01": "neutral", "02": "calm", "03": "happy", "04": "sad",
    "05": "angry", "06": "fearful", "07": "disgust", "08": "surprised",
}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}


def parse_name(stem: str) -> dict | None:
    """Labels from a RAVDESS file stem, or None when it is not an audio-only speech file. An unknown
    statement code gives an empty transcript."""
    parts = stem.split("-")
    if len(parts) != 7 or parts[0] != "03" or parts[1] != "01" or parts[2] not in EMOTIONS:
        return None
    actor = int(parts[6])
    return {
        "label": EMOTIONS[parts[2]],
        "speaker": f"ravdess_{actor:02d}",
        "gender": "male" if actor % 2 else "female",
        "intensity": "normal" if parts[3] == "01" else "strong",
        "transcript": STATEMENTS.get(parts[4], ""),
    }


def load(root: Path) -> list[dict]:
    rows = rows_from_file_names(root, "RAVDESS", parse_name)
    for row in rows:  # the shared helper keeps label, speaker and gender; the sentence comes from the name too
        row["transcript"] = parse_name(Path(row["path"]).stem)["transcript"]
    return rows
