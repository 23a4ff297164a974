"""IEMOCAP: Session1..5 tree; labels from dialog/EmoEvaluation, transcripts from dialog/transcriptions.

Audio: SessionN/sentences/wav/<dialog>/<utterance>.wav. Speaker = session + the utterance's own
speaker letter (Ses01F_impro01_M003 -> Ses01M); group = session, for leave-one-session-out folds.
Labels are the majority categories: neutral, happy, sad, angry, excited, frustrated, fearful,
surprised, disgust, other, and 'xxx' (no majority). The standard 4-class set is
``--classes neutral,happy,sad,angry --merge excited=happy`` (5531 utterances). The dimensional labels
of the same lines (mean ratings, 1 to 5) are the columns valence, arousal and dominance, for
``featbench train --target arousal``.

>>> parse_evaluation_line("[6.2901 - 8.2357]\\tSes01F_impro01_F000\\tneu\\t[2.5000, 2.5000, 2.5000]")
('Ses01F_impro01_F000', 'neutral')
>>> parse_dimensions("[6.2901 - 8.2357]\\tSes01F_impro01_F000\\tneu\\t[2.5000, 3.0000, 3.5000]")
{'valence': 2.5, 'arousal': 3.0, 'dominance': 3.5}
>>> speaker_of("Ses03M_script01_1_F012")
'Ses03F'
"""
from __future__ import annotations

import re
from pathlib import Path

from featbench.errors import FeatbenchError

CODES = {
    "neu": "neutral", "hap": "happy", "sad": "sad", "ang": "angry", "exc": "excited",
    "fru": "frustrated", "fea": "fearful", "sur": "surprised", "dis": "disgust", "oth": "other", "xxx": "xxx",
}
_EVAL = re.compile(r"^\[\s*[\d.]+\s*-\s*[\d.]+\s*\]\s+(\S+)\s+(\w+)\s+\[")
_TRANS = re.compile(r"^(Ses\S+)\s+\[[^\]]*\]:\s?(.*)$")
_DIMENSIONS = re.compile(r"\[\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\]$")
DIMENSIONS = ("valence", "arousal", "dominance")  # the order of the "[V, A, D]" field


def parse_evaluation_line(line: str) -> tuple[str, str] | None:
    match = _EVAL.match(line.strip())
    if not match:
        return None
    return match.group(1), CODES.get(match.group(2), match.group(2))


def parse_dimensions(line: str) -> dict[str, float]:
    """The "[V, A, D]" field of an evaluation line as {valence, arousal, dominance}; empty when it has none."""
    match = _DIMENSIONS.search(line.strip())
    return dict(zip(DIMENSIONS, (float(v) for v in match.groups()))) if match else {}


def speaker_of(utterance: str) -> str:
    return utterance[:5] + utterance.split("_")[-1][0]


def _text_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.txt") if not p.name.startswith("."))


def load(root: Path) -> list[dict]:
    sessions = sorted(p for p in root.glob("Session[1-5]") if p.is_dir())
    if not sessions:
        raise FeatbenchError(f"{root}: no Session1..Session5 folders (expected the IEMOCAP release root)")
    rows = []
    for session in sessions:
        transcripts = {}
        for path in _text_files(session / "dialog" / "transcriptions"):
            for line in path.read_text(errors="replace").splitlines():
                match = _TRANS.match(line.strip())
                if match:
                    transcripts[match.group(1)] = match.group(2).strip()
        evaluations = _text_files(session / "dialog" / "EmoEvaluation")
        if not evaluations:
            raise FeatbenchError(f"{session}/dialog/EmoEvaluation: no evaluation files")
        for path in evaluations:
            for line in path.read_text(errors="replace").splitlines():
                parsed = parse_evaluation_line(line)
                if parsed is None:
                    continue
                utterance, label = parsed
                dialog = utterance.rsplit("_", 1)[0]
                wav = session / "sentences" / "wav" / dialog / f"{utterance}.wav"
                rows.append(dict(
                    id=utterance, path=str(wav), label=label, speaker=speaker_of(utterance),
                    group=session.name, gender={"F": "female", "M": "male"}.get(speaker_of(utterance)[-1], ""),
                    transcript=transcripts.get(utterance, ""), **parse_dimensions(line),
                ))
    return rows
