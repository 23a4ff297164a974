"""Whether the test speakers and genders are confounded with the classes, from the rows' `test_classes` (each fold's
test clips per class of each test speaker and gender, results.DETAIL_COLUMNS; a speaker is tested in one fold), and
how the features were made, from their `family_options`.

A breakdown by group means what it says only where the groups hold the same classes. Three checks:

- speakers dominated by one class (corpus.balance: more than half of them, and speaker and label share much
  information): a speaker's score is then mostly one class's recall;
- a class tested through a single speaker in every fold: its recall, and every fold's score, is that speaker's;
- genders whose test clips lack a class, or hold under half of its share of all test clips: a gap between genders is
  then also a gap between classes (the UA of one gender is taken over other classes than the other's).

>>> import json, pandas as pd
>>> tc = {"speaker": {"m1": {"angry": 4, "sad": 2}, "f1": {"sad": 4}}, "gender": {"M": {"angry": 4, "sad": 2}, "F": {"sad": 4}}}
>>> g = groups_of(pd.DataFrame({"fold": [0], "test_classes": [json.dumps(tc)]}))
>>> g.single, g.gaps
(['angry'], {'F': ['angry']})
>>> g.gender_line()
'the genders hold different classes (F: no angry), so a gap between genders is also a gap between classes'
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import pandas as pd

from featbench.corpus.balance import SpeakerBalance, speaker_balance

GAP = 0.5  # a gender lacks a class when the class's share of its clips is under this fraction of its overall share


@dataclass(frozen=True)
class Groups:
    """The balance of the test clips (`speakers`: corpus.balance over every fold's test speakers), the classes tested
    through one speaker in every fold (`single`), and per gender the classes it lacks (`gaps`)."""

    speakers: SpeakerBalance
    single: list[str]
    gaps: dict[str, list[str]]
    shares: dict[str, dict[str, float]]  # per gender, each lacking class's share of its clips

    @property
    def confounded(self) -> bool:
        """Whether per-speaker or per-gender scores are class scores in disguise."""
        return self.speakers.confounded or bool(self.single) or bool(self.gaps)

    def speaker_line(self) -> str:
        """The speakers' balance in a clause, and what it means where they are confounded."""
        line = f"test speakers: {self.speakers.line()}"
        if self.speakers.confounded:
            line += "; speakers are confounded with the classes: a speaker's score is mostly one class's recall"
        if self.single:
            line += (f"; {', '.join(self.single)} tested through a single speaker in every fold: that class's recall, and "
                     "each fold's score, is partly that speaker's")
        return line

    def gender_line(self) -> str:
        """How the genders' classes differ ('' where they hold the same classes)."""
        if not self.gaps:
            return ""
        said = "; ".join(f"{g}: " + ", ".join(f"no {c}" if self.shares[g][c] == 0 else f"{c} at {self.shares[g][c]:.0%} "
                                             "of its overall share" for c in classes) for g, classes in self.gaps.items())
        return f"the genders hold different classes ({said}), so a gap between genders is also a gap between classes"

    def caution(self) -> str:
        """The note beside every group breakdown ('' where there is nothing to say)."""
        parts = [p for p in (self.gender_line(), self.speakers.confounded and "speakers are confounded with the classes",
                             self.single and f"{', '.join(self.single)} tested through one speaker per fold") if p]
        return ("Read these breakdowns as class breakdowns too: " + "; ".join(parts) + " (see Protocol)."
                if parts else "")


def _first_per_fold(rows: pd.DataFrame) -> list[dict]:
    """One `test_classes` object per fold (every row of a fold tests the same clips)."""
    if "test_classes" not in rows:
        return []
    has = rows[rows["test_classes"].fillna("").astype(str).str.startswith("{")]
    return [json.loads(t) for t in has.drop_duplicates("fold")["test_classes"]]


def _gaps(genders: dict[str, Counter]) -> tuple[dict[str, list[str]], dict[str, dict[str, float]]]:
    total = sum(genders.values(), Counter())
    n = sum(total.values())
    gaps, shares = {}, {}
    for gender, counts in sorted(genders.items()):
        size = sum(counts.values())
        ratio = {c: (counts[c] / size) / (total[c] / n) for c in sorted(total)} if size else {}
        low = [c for c, r in ratio.items() if r < GAP]
        if low:
            gaps[gender], shares[gender] = low, {c: ratio[c] for c in low}
    return gaps, shares


def groups_of(rows: pd.DataFrame) -> Groups | None:
    """The Groups of the rows' test clips; None where no row records them (rows written before featbench recorded
    `test_classes`, a dimensional target)."""
    folds = _first_per_fold(rows)
    if not folds:
        return None
    speakers, labels, genders, holders = [], [], {}, []
    for fold in folds:
        held = Counter()
        for speaker, counts in fold.get("speaker", {}).items():
            for label, n in counts.items():
                speakers += [speaker] * n
                labels += [label] * n
                held[label] += n > 0
        holders.append((held, len(fold.get("speaker", {}))))
        for gender, counts in fold.get("gender", {}).items():
            genders.setdefault(gender, Counter()).update(counts)
    several = all(n > 1 for _, n in holders)  # every fold tests more than one speaker
    classes = {c for held, _ in holders for c, k in held.items() if k}
    single = sorted(c for c in classes if several and all(held.get(c, 0) <= 1 for held, _ in holders))
    gaps, shares = _gaps(genders) if len(genders) > 1 else ({}, {})
    return Groups(speaker_balance(speakers, labels), single, gaps, shares)


WHISPER_MODES = {"adaptive": "adaptive: each clip's own log-Mel frames, positional embeddings cut to its length",
                 "padded": "padded: every window padded to 30 s, as Whisper was trained"}


def feature_facts(rows: pd.DataFrame) -> list[tuple[str, str]]:
    """('Whisper window mode', ...) for each Whisper family of the rows, from `family_options`; said as not recorded
    where Whisper rows do not record it.

    >>> opts = json.dumps({"whisper": {"model": "whisper-base", "whisper_mode": "adaptive", "chunk_seconds": 20.0}})
    >>> feature_facts(pd.DataFrame({"family": ["whisper"], "family_options": [opts]}))[0][1][:40]
    'whisper (whisper-base): adaptive: each c'
    """
    said, unrecorded = {}, set()
    for family, options in zip(rows["family"], rows.get("family_options", pd.Series([""] * len(rows)))):
        parsed = json.loads(options) if str(options).startswith("{") else {}
        for name, opts in parsed.items():
            if isinstance(opts, dict) and "whisper_mode" in opts and ("whisper" in name or "whisper" in str(opts.get("model", ""))):
                mode = WHISPER_MODES.get(str(opts["whisper_mode"]), str(opts["whisper_mode"]))
                chunk = f"; clips over {opts['chunk_seconds']:g} s in windows" if isinstance(opts.get("chunk_seconds"), (int, float)) else ""
                said[name] = f"{name} ({opts.get('model', '')}): {mode}{chunk}"
        if not parsed and "whisper" in str(family):
            unrecorded.add(str(family).split("@")[0].split(" ")[0])
    facts = [("Whisper window mode", "; ".join(said.values()))] if said else []
    if unrecorded - set(said):
        facts.append(("Whisper window mode", f"not recorded in these rows ({', '.join(sorted(unrecorded - set(said)))}: "
                      "written before featbench recorded family options); the store's metadata has it"))
    return facts
