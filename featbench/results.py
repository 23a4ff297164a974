"""The results rows: one owner for their columns, the resume key, the protocol columns and budget order.

`train` writes rows through `ResultsFile` (one writer at a time, each task's rows appended in one
write, a torn last line from a killed run dropped and repaired); `report` reads them through
`read_results`. Nobody else knows the column list.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "results.csv")
>>> row = dict.fromkeys(RESULT_COLUMNS, "x") | dict.fromkeys(NUMERIC, 0) | {"budget": "8", "examples_per_class": 8.0}
>>> with ResultsFile(path) as results:
...     results.append([row])
...     len(results.keys)
1
>>> with open(path, "a") as f:
...     _ = f.write("x,x,x")  # a run killed in the middle of a line
>>> table = read_results(path)
>>> len(table.rows), table.notes[0].endswith("dropped an incomplete last line (a run was interrupted while writing it)")
(1, True)
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from featbench.options import is_whole
from featbench.append_only import AppendOnlyCsv, read_text, split_tail
from featbench.errors import FeatbenchError

RESULT_COLUMNS = [
    "corpus", "classes", "merge", "n_classes", "fold_scheme", "n_folds", "fold", "test_groups", "seed",
    "budget", "examples_per_class", "n_train", "n_test", "family", "family_config_hash", "level",
    "classifier", "hparams", "hp_selection", "metric", "ua", "wa", "macro_f1", "confusion", "labels",
    "fit_seconds", "predict_seconds", "featbench_version", "val_ua", "choice", "ua_by_speaker", "ua_by_gender",
]
"""Every row, in this order. Scores: ua (balanced accuracy, the headline), wa, macro_f1, confusion. What was
chosen on validation speakers: val_ua (the chosen configuration's UA on them; empty without validation) and
choice (JSON: layer, classifier, learned layer weights, where the entry chooses them). Who it fails:
ua_by_speaker and ua_by_gender (JSON, UA over each test speaker's / gender's clips).

Rows of a dimensional target (`train --target arousal`, `metric` CCC_METRIC) keep these columns: ua, val_ua,
ua_by_speaker and ua_by_gender hold the CCC (on the test clips, the validation speakers, each test speaker's /
gender's clips; a speaker or gender with fewer than 2 clips is left out); wa, macro_f1, confusion and labels
are empty; classes is the target's name (and the --classes kept, in brackets), n_classes the number of
quantile bins of the target that stand in for classes in the folds and budgets, and examples_per_class
counts training utterances."""

OLDEST_COLUMNS = RESULT_COLUMNS[:RESULT_COLUMNS.index("featbench_version") + 1]
"""The columns of featbench 0.1/0.2 files: still read (newer columns empty), never appended to."""

KEY = ["corpus", "classes", "merge", "n_folds", "family", "family_config_hash", "classifier", "budget", "fold", "seed"]
"""The columns that identify a row: a re-run skips every row whose key is already in the file."""

PROTOCOL_COLUMNS = ["corpus", "classes", "merge", "n_classes", "fold_scheme", "n_folds", "metric"]
"""Rows compared together must agree on these."""

UA_METRIC = "UA (balanced accuracy)"
CCC_METRIC = "CCC (concordance correlation coefficient)"
"""The `metric` of a row: what its `ua` column (and val_ua, ua_by_speaker, ua_by_gender) holds. UA for
classes, CCC for a dimensional target."""


def row_key(row: dict) -> tuple[str, ...]:
    """The resume key of a row, as text (the way it reads back from the CSV).

    >>> row_key(dict.fromkeys(KEY, 1))
    ('1', '1', '1', '1', '1', '1', '1', '1', '1', '1')
    """
    return tuple(str(row[c]) for c in KEY)


TRAINING, PER_CORPUS, PER_SPEAKER = "training", "per-corpus", "per-speaker"
NORMALISATIONS = (TRAINING, PER_CORPUS, PER_SPEAKER)
"""How features are standardised before a classifier sees them (`train --normalise`): on the training rows
(by each classifier's scaler; the default, untagged), each corpus on its own statistics, or each speaker on
the statistics of all of that speaker's clips (their labels unread); `per-speaker:K` uses K of each
speaker's clips, drawn at random (how much unlabelled audio of a new speaker the gain needs)."""


CONFOUNDED = "speakers confounded"
"""The tag of entries whose per-speaker statistics came from speakers dominated by one class (corpus.balance)."""

NAME_BREAKERS = ",[]"
"""Characters a corpus name in a tagged family cannot hold (they would make the name unreadable back)."""


def split_normalisation(value: str) -> tuple[str, int | None]:
    """(kind, clips per speaker or None for all) of a `--normalise` value, or a one-line error.

    >>> split_normalisation("per-speaker:16"), split_normalisation("training")
    (('per-speaker', 16), ('training', None))
    """
    kind, colon, clips = value.partition(":")
    if kind not in NORMALISATIONS or (colon and (kind != PER_SPEAKER or not is_whole(clips)
                                                 or int(clips) < 2)):
        raise FeatbenchError(f"--normalise {value}: choose {', '.join(NORMALISATIONS)} or {PER_SPEAKER}:K (the statistics "
                             "of K >= 2 clips per speaker)")
    return kind, int(clips) if colon else None


SELECTED = "selected"  # the classifier entry chosen on validation speakers: 'selected' or 'selected(a+b)'


def is_selected(entry: str) -> bool:
    """True for a `selected` classifier entry (any candidate set), as a row's `classifier` column names it.

    >>> is_selected("selected(logreg+svm)"), is_selected("logreg")
    (True, False)
    """
    return entry == SELECTED or (entry.startswith(SELECTED + "(") and entry.endswith(")"))


@dataclass(frozen=True)
class EntryName:
    """What a row's `family` says about its training data: the view, the other corpus ('+' its every utterance
    added, 'from' trained on it; empty mode within one corpus), the normalisation (`confounded` where per-speaker
    statistics were taken from speakers dominated by one class: corpus.balance, `--confounded-ok`), and where its
    choices were validated with two corpora ('target': on the target corpus's speakers outside the test fold;
    empty: on the training side's speakers). Defaults are untagged.

    >>> EntryName("egemaps-func", "+", "demo").text, EntryName("w@weighted", normalisation=PER_SPEAKER).text
    ('egemaps-func [+demo]', 'w@weighted [per-speaker normalisation]')
    >>> EntryName.parse(EntryName("w@L3", normalisation="per-speaker:8").text)
    EntryName(view='w@L3', mode='', other='', normalisation='per-speaker:8', confounded=False, validation='')
    >>> EntryName.parse("fbank [from demo, per-corpus normalisation]")
    EntryName(view='fbank', mode='from', other='demo', normalisation='per-corpus', confounded=False, validation='')
    >>> EntryName.parse("whisper@L4")
    EntryName(view='whisper@L4', mode='', other='', normalisation='training', confounded=False, validation='')
    >>> EntryName.parse("fbank [+demo, per-speaker normalisation on 8 clips, speakers confounded]").confounded
    True
    >>> EntryName.parse(EntryName("w@auto", "from", "A", PER_CORPUS, validation="target").text)
    EntryName(view='w@auto', mode='from', other='A', normalisation='per-corpus', confounded=False, validation='target')
    """

    view: str
    mode: str = ""
    other: str = ""
    normalisation: str = TRAINING
    confounded: bool = False
    validation: str = ""  # "target" (train --validate-on target); empty: the default, validated on the training side

    @property
    def kind(self) -> str:
        """The normalisation without its clip count: training, per-corpus or per-speaker."""
        return self.normalisation.partition(":")[0]

    @property
    def normalisation_text(self) -> str:
        """'per-speaker normalisation on 8 clips', 'per-corpus normalisation', 'per-speaker normalisation, speakers
        confounded'; empty on the training rows."""
        clips = self.normalisation.partition(":")[2]
        return "" if self.kind == TRAINING else f"{self.kind} normalisation" + (f" on {clips} clips" if clips else "") + (
            f", {CONFOUNDED}" if self.confounded else "")

    @property
    def per_speaker(self) -> bool:
        """Whether each speaker was standardised on their own clips (a protocol of its own)."""
        return self.kind == PER_SPEAKER

    @property
    def protocol(self) -> tuple[bool, bool, str]:
        """What keeps two entries from one ratio: per-speaker statistics or not (and of confounded speakers), and
        where the choices were validated. Transfer and per-corpus entries share the plain protocol.

        >>> EntryName("a [+b]").protocol == EntryName("a").protocol != EntryName("a", normalisation=PER_SPEAKER).protocol
        True
        """
        return self.per_speaker, self.confounded, self.validation

    @property
    def text(self) -> str:
        tags = ([f"{'+' if self.mode == '+' else 'from '}{self.other}"] if self.mode else []) + (
            [self.normalisation_text] if self.normalisation != TRAINING else []) + (
            [f"validated on {self.validation}"] if self.validation else [])
        return f"{self.view} [{', '.join(tags)}]" if tags else self.view

    def within(self) -> "EntryName":
        """The same view and normalisation trained within the tested corpus (what a transfer entry is compared
        with); per-corpus normalisation needs two corpora, so its counterpart is untagged."""
        return EntryName(self.view, normalisation=TRAINING if self.normalisation == PER_CORPUS else self.normalisation,
                         confounded=self.confounded)

    @classmethod
    def parse(cls, family: str) -> "EntryName":
        import re

        match = re.fullmatch(r"(.+) \[(?:(\+|from )([^,\]]+))?(?:, )?(?:(per-corpus|per-speaker) normalisation"
                             rf"(?: on ([0-9]+) clips)?(, {CONFOUNDED})?)?(?:(?:, )?validated on (target))?\]", family)
        if not match or not (match.group(2) or match.group(4) or match.group(7)):
            return cls(family)
        normalisation = (match.group(4) or TRAINING) + (f":{match.group(5)}" if match.group(5) else "")
        return cls(match.group(1), (match.group(2) or "").strip(), match.group(3) or "", normalisation,
                   bool(match.group(6)), match.group(7) or "")


def budget_order(frame: pd.DataFrame, x: str = "examples_per_class") -> list[str]:
    """Budget labels sorted by the mean examples per class they gave (column `x`).

    >>> budget_order(pd.DataFrame({"budget": ["all", "8", "16"], "examples_per_class": [40.0, 8.0, 16.0]}))
    ['8', '16', 'all']
    """
    return [str(b) for b in frame.groupby("budget")[x].mean().sort_values(kind="stable").index]


@dataclass
class ResultsTable:
    """Rows read back from one or more results files, with notes about repaired files."""

    rows: pd.DataFrame
    notes: list[str] = field(default_factory=list)




NUMERIC = ["n_classes", "n_folds", "fold", "seed", "examples_per_class", "n_train", "n_test", "ua", "wa", "macro_f1",
           "fit_seconds", "predict_seconds", "val_ua"]


def _columns_of(path: Path, header: list[str]) -> list[str]:
    """The header's columns: this version's, or an older version's (a prefix of them), else an error."""
    if header == RESULT_COLUMNS or (len(header) >= len(OLDEST_COLUMNS) and header == RESULT_COLUMNS[:len(header)]):
        return header
    raise FeatbenchError(f"{path}: not a featbench results file (its columns differ from every featbench version's)")


def _parse(path: Path, text: str, dtype) -> pd.DataFrame:
    """Complete lines -> rows; a wrong header, a line with the wrong number of fields or a score that is
    not a number is one error line naming the file and the line."""
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as err:
        raise FeatbenchError(f"{path}: malformed results file ({err})") from None
    if not lines:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    columns = _columns_of(path, lines[0])
    for number, fields in enumerate(lines[1:], start=2):
        if len(fields) != len(columns):
            raise FeatbenchError(f"{path}: malformed results file (line {number} has {len(fields)} fields, "
                                 f"expected {len(columns)})")
    rows = pd.DataFrame(lines[1:], columns=columns).reindex(columns=RESULT_COLUMNS, fill_value="")
    numbers = rows[NUMERIC].apply(pd.to_numeric, errors="coerce")
    bad = numbers.isna() & (rows[NUMERIC] != "")
    if bad.to_numpy().any():
        line, column = next((i + 2, c) for i, c in zip(*np.nonzero(bad.to_numpy())) for c in [NUMERIC[c]])
        raise FeatbenchError(f"{path}: malformed results file (line {line}: {column} is not a number)")
    if dtype is not str:
        rows[NUMERIC] = numbers
    return rows


def read_results_file(path: str | Path, dtype=None) -> ResultsTable:
    """Rows of one results file. A 0-byte file has no rows; an incomplete last line is dropped with a note."""
    path = Path(path)
    if not path.is_file():
        raise FeatbenchError(f"{path}: results file not found")
    complete, torn = split_tail(read_text(path, "results file"))
    notes = [f"{path}: dropped an incomplete last line (a run was interrupted while writing it)"] if torn.strip() else []
    return ResultsTable(_parse(path, complete, dtype), notes)


def read_results(paths: str | Path | list[str | Path], dtype=None) -> ResultsTable:
    """Concatenated rows of several results files (see read_results_file)."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    tables = [read_results_file(p, dtype) for p in paths]
    frames = [t.rows for t in tables if not t.rows.empty]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)
    return ResultsTable(rows, [n for t in tables for n in t.notes])


class ResultsFile(AppendOnlyCsv):
    """The single writer of a results CSV: locked (on the resolved file, kill -9 safe), repaired on open,
    rows appended in one write per call so a killed run never leaves half a row.

    Attributes after opening: `keys` (resume keys present), `n_rows`, `notes` (repairs made).
    """

    columns = RESULT_COLUMNS
    key = KEY
    what = "results file"

    def parse(self, text: str) -> pd.DataFrame:
        rows = _parse(self.path, text, str)  # refuses a file whose header is not ours, untouched
        if text and not text.startswith(",".join(RESULT_COLUMNS) + "\n"):
            raise FeatbenchError(f"{self.path}: written by an older featbench (fewer columns); `compare` still reads "
                                 "it, but new rows go to a new results file")
        self.protocols = rows[PROTOCOL_COLUMNS].drop_duplicates().to_dict("records")  # see check_protocol
        return rows

    def check_protocol(self, protocol: dict) -> None:
        """Refuse rows of another protocol (the `PROTOCOL_COLUMNS` that `protocol` names) than the file's rows:
        `compare` could not read the file back. One line naming both.

        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "r.csv")
        >>> row = dict.fromkeys(RESULT_COLUMNS, "x") | dict.fromkeys(NUMERIC, 0) | {"classes": "happy,sad"}
        >>> with ResultsFile(path) as results:
        ...     results.append([row])
        >>> with ResultsFile(path) as results:
        ...     results.check_protocol({"classes": "happy,sad"})  # the same: appended to
        ...     results.check_protocol({"classes": "angry,sad"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        featbench.errors.FeatbenchError: ...: its rows are of another protocol (classes=happy,sad) than this run's (classes=angry,sad); ...
        """
        columns = [c for c in PROTOCOL_COLUMNS if c in protocol]
        ours = {c: str(protocol[c]) for c in columns}
        for theirs in getattr(self, "protocols", []):
            theirs = {c: str(theirs[c]) for c in columns}
            if theirs != ours:
                differ = [c for c in columns if theirs[c] != ours[c]]
                raise FeatbenchError(f"{self.path}: its rows are of another protocol ({_describe(theirs, differ)}) than "
                                     f"this run's ({_describe(ours, differ)}); write to another results file, `compare` "
                                     "reads one protocol at a time")


def _describe(protocol: dict, columns: list[str]) -> str:
    return ", ".join(f"{c}={protocol[c]}" for c in columns)
