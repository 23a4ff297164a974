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
from featbench.append_only import AppendOnlyCsv, csv_text, read_text, split_tail
from featbench.errors import FeatbenchError

LEGACY_COLUMNS = [
    "corpus", "classes", "merge", "n_classes", "fold_scheme", "n_folds", "fold", "test_groups", "seed",
    "budget", "examples_per_class", "n_train", "n_test", "family", "family_config_hash", "level",
    "classifier", "hparams", "hp_selection", "metric", "ua", "wa", "macro_f1", "confusion", "labels",
    "fit_seconds", "predict_seconds", "featbench_version", "val_ua", "choice", "ua_by_speaker", "ua_by_gender",
]
"""The columns of results schema 2 (featbench up to 0.9): `family` held the view and its training data as one
display name ('egemaps-func [+demo, per-speaker normalisation on 8 clips]'). Read (converted), never appended to."""

OLDEST_COLUMNS = LEGACY_COLUMNS[:LEGACY_COLUMNS.index("featbench_version") + 1]
"""The columns of results schema 1 (featbench 0.1/0.2): still read (newer columns empty), never appended to."""

_AT = LEGACY_COLUMNS.index("family") + 1
COST_COLUMNS = ["extract_seconds_per_audio_hour", "store_mb_per_audio_hour"]
"""What a row's features cost (featbench 0.3.0 on; empty where the store does not record it): the seconds their
extraction took per hour of audio (store.timings) and the megabytes they take in the store per hour of audio."""
CORE_COLUMNS = LEGACY_COLUMNS[:_AT] + [
    "view", "layer_choice", "design", "other_corpus", "normalisation", "normalisation_clips", "validation",
    "speakers_confounded"] + LEGACY_COLUMNS[_AT:]
"""Schema 3 without COST_COLUMNS, as its first files have it: read (costs empty) and appended to as they are."""
RESULT_COLUMNS = CORE_COLUMNS + COST_COLUMNS
"""Every row of results schema 3, in this order. What the row's training data and protocol are: `family` (the
stored family, families joined by '+' for a combined view), `view` (as `train --features` names it), `layer_choice`
('L4', 'auto', 'weighted'; empty for a family without layers), `design` (DESIGNS), `other_corpus`, `normalisation`
(NORMALISATIONS) and `normalisation_clips` (empty: all of each speaker's clips), `validation` (VALIDATIONS),
`speakers_confounded` (True where per-speaker statistics came from speakers dominated by one class); see Setup.
Scores: ua (balanced accuracy, the headline), wa, macro_f1, confusion. What was
chosen on validation speakers: val_ua (the chosen configuration's UA on them; empty without validation) and
choice (JSON: layer, classifier, learned layer weights, where the entry chooses them). Who it fails:
ua_by_speaker and ua_by_gender (JSON, UA over each test speaker's / gender's clips). Optional: COST_COLUMNS.

Rows of a dimensional target (`train --target arousal`, `metric` CCC_METRIC) keep these columns: ua, val_ua,
ua_by_speaker and ua_by_gender hold the CCC (on the test clips, the validation speakers, each test speaker's /
gender's clips; a speaker or gender with fewer than 2 clips is left out); wa, macro_f1, confusion and labels
are empty; classes is the target's name (and the --classes kept, in brackets), n_classes the number of
quantile bins of the target that stand in for classes in the folds and budgets, and examples_per_class
counts training utterances."""

KEY = ["corpus", "classes", "merge", "n_folds", "view", "design", "other_corpus", "normalisation", "normalisation_clips",
       "validation", "speakers_confounded", "family_config_hash", "classifier", "budget", "fold", "seed"]
"""The columns that identify a row: a re-run skips every row whose key is already in the file."""

PROTOCOL_COLUMNS = ["corpus", "classes", "merge", "n_classes", "fold_scheme", "n_folds", "metric"]
"""Rows compared together must agree on these."""

UA_METRIC = "UA (balanced accuracy)"
CCC_METRIC = "CCC (concordance correlation coefficient)"
"""The `metric` of a row: what its `ua` column (and val_ua, ua_by_speaker, ua_by_gender) holds. UA for
classes, CCC for a dimensional target."""


def row_key(row: dict) -> tuple[str, ...]:
    """The resume key of a row, as text (the way it reads back from the CSV).

    >>> row_key(dict.fromkeys(KEY, 1))[:4]
    ('1', '1', '1', '1')
    """
    return tuple(str(row[c]) for c in KEY)


TRAINING, PER_CORPUS, PER_SPEAKER = "training", "per-corpus", "per-speaker"
NORMALISATIONS = (TRAINING, PER_CORPUS, PER_SPEAKER)
"""How features are standardised before a classifier sees them (`train --normalise`): on the training rows
(by each classifier's scaler; the default), each corpus on its own statistics, or each speaker on the
statistics of all of that speaker's clips (their labels unread); `per-speaker:K` uses K of each
speaker's clips, drawn at random (how much unlabelled audio of a new speaker the gain needs)."""

WITHIN, CROSS, TRANSFER = "within", "cross", "transfer"
DESIGNS = (WITHIN, CROSS, TRANSFER)
"""Where a row's training utterances come from (column `design`): one corpus; the other corpus only (tested on
this corpus's folds); this corpus's budget plus every utterance of the other (train.transfer)."""

SOURCE, TARGET = "source", "target"
VALIDATIONS = (SOURCE, TARGET)
"""Where a row's choices were validated (column `validation`): held-out speakers of the training side, or (two
corpora, `train --validate-on target`) the target corpus's speakers outside the test fold."""

CONFOUNDED = "speakers confounded"
"""The tag of entries whose per-speaker statistics came from speakers dominated by one class (corpus.balance)."""


@dataclass(frozen=True)
class Normalisation:
    """A `--normalise` value, read once at the edge (`parse`): the kind, and for per-speaker statistics the clips per
    speaker they use (None: all).

    >>> Normalisation.parse("per-speaker:16"), Normalisation.parse("training").text
    (Normalisation(kind='per-speaker', clips=16), 'training')
    >>> Normalisation.parse("per-speaker:8").label
    'per-speaker normalisation on 8 clips'
    >>> Normalisation.parse("per-corpus:8")
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: --normalise per-corpus:8: choose training, per-corpus, per-speaker or per-speaker:K (the statistics of K >= 2 clips per speaker)
    """

    kind: str = TRAINING
    clips: int | None = None

    @classmethod
    def parse(cls, value: "str | Normalisation") -> "Normalisation":
        """A Normalisation of its text ('training', 'per-corpus', 'per-speaker', 'per-speaker:K'), or a one-line error."""
        if isinstance(value, Normalisation):
            return value
        kind, colon, clips = str(value).partition(":")
        if kind not in NORMALISATIONS or (colon and (kind != PER_SPEAKER or not is_whole(clips) or int(clips) < 2)):
            raise FeatbenchError(f"--normalise {value}: choose {', '.join(NORMALISATIONS)} or {PER_SPEAKER}:K (the "
                                 "statistics of K >= 2 clips per speaker)")
        return cls(kind, int(clips) if colon else None)

    @property
    def text(self) -> str:
        """As `--normalise` takes it."""
        return self.kind + (f":{self.clips}" if self.clips is not None else "")

    @property
    def label(self) -> str:
        """As a display name says it ('per-corpus normalisation', 'per-speaker normalisation on 8 clips')."""
        return f"{self.kind} normalisation" + (f" on {self.clips} clips" if self.clips is not None else "")


SETUP_COLUMNS = ["view", "layer_choice", "design", "other_corpus", "normalisation", "normalisation_clips", "validation",
                 "speakers_confounded"]
"""What a row's training data and protocol are (results schema 3; see Setup)."""


def _family_and_choice(view: str) -> tuple[str, str]:
    """(stored family or families joined by '+', layer choice) of a view name (train.views: 'whisper@L4',
    'whisper@auto', 'whisper@L6+text').

    >>> _family_and_choice("whisper@L6+text"), _family_and_choice("egemaps-func")
    (('whisper+text', 'L6'), ('egemaps-func', ''))
    """
    parts = [part.partition("@") for part in view.split("+")]
    return "+".join(family for family, _, _ in parts), "+".join(choice for _, _, choice in parts if choice)


SELECTED = "selected"  # the classifier entry chosen on validation speakers: 'selected' or 'selected(a+b)'


def is_selected(entry: str) -> bool:
    """True for a `selected` classifier entry (any candidate set), as a row's `classifier` column names it.

    >>> is_selected("selected(logreg+svm)"), is_selected("logreg")
    (True, False)
    """
    return entry == SELECTED or (entry.startswith(SELECTED + "(") and entry.endswith(")"))


@dataclass(frozen=True)
class Setup:
    """What a row's training data and protocol are, as its columns (SETUP_COLUMNS) hold them: the view (its stored
    `family` and `layer_choice` follow from it), the design and other corpus, the normalisation, where choices
    were validated, and whether per-speaker statistics came from speakers dominated by one class (corpus.balance,
    `--confounded-ok`). `label` is the one display name of an entry (reports, `--baseline`).

    >>> Setup("egemaps-func", TRANSFER, "demo").label, Setup("w@weighted", normalisation=Normalisation(PER_SPEAKER)).label
    ('egemaps-func [+demo]', 'w@weighted [per-speaker normalisation]')
    >>> Setup("w@auto", CROSS, "A", Normalisation(PER_CORPUS), validation=TARGET).label
    'w@auto [from A, per-corpus normalisation, validated on target]'
    >>> Setup("fbank", normalisation=Normalisation(PER_SPEAKER, 8), confounded=True).label
    'fbank [per-speaker normalisation on 8 clips, speakers confounded]'
    >>> Setup.from_row(Setup("w@L6+text", CROSS, "A").columns()) == Setup("w@L6+text", CROSS, "A")
    True
    """

    view: str
    design: str = WITHIN
    other: str = ""
    normalisation: Normalisation = Normalisation()
    validation: str = SOURCE
    confounded: bool = False

    @property
    def family(self) -> str:
        return _family_and_choice(self.view)[0]

    @property
    def per_speaker(self) -> bool:
        """Whether each speaker was standardised on their own clips (a protocol of its own)."""
        return self.normalisation.kind == PER_SPEAKER

    @property
    def protocol(self) -> tuple[bool, bool, str]:
        """What keeps two entries from one ratio: per-speaker statistics or not (and of confounded speakers), and
        where the choices were validated. Transfer and per-corpus entries share the plain protocol.

        >>> Setup("a", TRANSFER, "b").protocol == Setup("a").protocol != Setup("a", normalisation=Normalisation(PER_SPEAKER)).protocol
        True
        """
        return self.per_speaker, self.confounded, self.validation

    @property
    def trained_on(self) -> str:
        """The other corpus a cross-corpus entry is trained on; '' for one trained on the tested corpus's labels."""
        return self.other if self.design == CROSS else ""

    @property
    def normalisation_label(self) -> str:
        """'per-speaker normalisation on 8 clips', '... , speakers confounded'; empty on the training rows."""
        if self.normalisation.kind == TRAINING:
            return ""
        return self.normalisation.label + (f", {CONFOUNDED}" if self.confounded else "")

    @property
    def label(self) -> str:
        """The display name: the view, then in brackets what differs from training within one corpus."""
        tags = ([f"{'+' if self.design == TRANSFER else 'from '}{self.other}"] if self.design != WITHIN else []) + (
            [self.normalisation_label] if self.normalisation.kind != TRAINING else []) + (
            [f"validated on {self.validation}"] if self.validation != SOURCE else [])
        return f"{self.view} [{', '.join(tags)}]" if tags else self.view

    def within(self) -> "Setup":
        """The same view and normalisation trained within the tested corpus (what a transfer entry is compared
        with); per-corpus normalisation needs two corpora, so its counterpart is normalised on the training rows."""
        plain = Normalisation() if self.normalisation.kind == PER_CORPUS else self.normalisation
        return Setup(self.view, normalisation=plain, confounded=self.confounded)

    def columns(self) -> dict:
        """The row's columns: `family` and SETUP_COLUMNS."""
        family, choice = _family_and_choice(self.view)
        return {"family": family, "view": self.view, "layer_choice": choice, "design": self.design,
                "other_corpus": self.other, "normalisation": self.normalisation.kind,
                "normalisation_clips": "" if self.normalisation.clips is None else self.normalisation.clips,
                "validation": self.validation, "speakers_confounded": self.confounded}

    @classmethod
    def from_row(cls, row) -> "Setup":
        """The Setup of a row (a dict or a pandas row of schema 3, as text or as read_results types it)."""
        clips = row["normalisation_clips"]
        clips = None if clips is None or str(clips) in ("", "nan") else int(float(clips))
        return cls(str(row["view"]), str(row["design"]), str(row["other_corpus"]),
                   Normalisation(str(row["normalisation"]), clips), str(row["validation"]),
                   str(row["speakers_confounded"]) == "True")


def setups(rows: pd.DataFrame) -> dict[str, Setup]:
    """{display name: Setup} of the rows' entries, in order of appearance.

    >>> list(setups(pd.DataFrame([Setup("a", TRANSFER, "b").columns(), Setup("a").columns()])))
    ['a [+b]', 'a']
    """
    found = (Setup.from_row(r) for r in rows[SETUP_COLUMNS].drop_duplicates().to_dict("records"))
    return {s.label: s for s in found}


def labels(rows: pd.DataFrame) -> pd.Series:
    """Each row's display name (Setup.label)."""
    names = {tuple(map(str, k)): Setup.from_row(dict(zip(SETUP_COLUMNS, k))).label
             for k in rows[SETUP_COLUMNS].drop_duplicates().itertuples(index=False)}
    return pd.Series([names[tuple(map(str, k))] for k in rows[SETUP_COLUMNS].itertuples(index=False)],
                     index=rows.index, dtype=object)


def budget_order(frame: pd.DataFrame, x: str = "examples_per_class") -> list[str]:
    """Budget labels sorted by the mean examples per class they gave (column `x`).

    >>> budget_order(pd.DataFrame({"budget": ["all", "8", "16"], "examples_per_class": [40.0, 8.0, 16.0]}))
    ['8', '16', 'all']
    """
    return [str(b) for b in frame.groupby("budget")[x].mean().sort_values(kind="stable").index]


SCHEMA, LEGACY = 3, "1-2"  # the results schema written; those still read (converted), never appended to


@dataclass
class ResultsTable:
    """Rows read back from one or more results files, with notes about repaired files."""

    rows: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    schema: int | str = SCHEMA  # of the file read (LEGACY: converted on reading)




NUMERIC = ["n_classes", "n_folds", "fold", "seed", "examples_per_class", "n_train", "n_test", "ua", "wa", "macro_f1",
           "fit_seconds", "predict_seconds", "val_ua", "normalisation_clips", *COST_COLUMNS]



def _legacy_setup(family: str) -> Setup:
    """The Setup a schema 1-2 `family` display name stood for (the legacy reader: the one place that reads names).

    >>> _legacy_setup("fbank [from demo, per-speaker normalisation on 8 clips, speakers confounded]").label
    'fbank [from demo, per-speaker normalisation on 8 clips, speakers confounded]'
    >>> _legacy_setup("w@auto [+A, per-corpus normalisation, validated on target]").columns()["design"]
    'transfer'
    >>> _legacy_setup("whisper@L4")
    Setup(view='whisper@L4', design='within', other='', normalisation=Normalisation(kind='training', clips=None), validation='source', confounded=False)
    """
    import re

    match = re.fullmatch(r"(.+) \[(?:(\+|from )([^,\]]+))?(?:, )?(?:(per-corpus|per-speaker) normalisation"
                         rf"(?: on ([0-9]+) clips)?(, {CONFOUNDED})?)?(?:(?:, )?validated on (target))?\]", family)
    if not match or not (match.group(2) or match.group(4) or match.group(7)):
        return Setup(family)
    design = {"+": TRANSFER, "from": CROSS, "": WITHIN}[(match.group(2) or "").strip()]
    clips = int(match.group(5)) if match.group(5) else None
    return Setup(match.group(1), design, match.group(3) or "", Normalisation(match.group(4) or TRAINING, clips),
                 match.group(7) or SOURCE, bool(match.group(6)))


def upgrade_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of schema 1-2 (as text) as schema 3 rows (as text): `family` split into the family and SETUP_COLUMNS.

    >>> old = pd.DataFrame({"family": ["fbank [+demo]", "w@L6+text"]})
    >>> upgrade_rows(old)[["family", "view", "layer_choice", "design", "other_corpus"]].values.tolist()
    [['fbank', 'fbank', '', 'transfer', 'demo'], ['w+text', 'w@L6+text', 'L6', 'within', '']]
    """
    found = {f: {k: str(v) for k, v in _legacy_setup(f).columns().items()} for f in rows["family"].unique()}
    setup = pd.DataFrame([found[f] for f in rows["family"]], index=rows.index, dtype=object)
    out = rows.reindex(columns=RESULT_COLUMNS, fill_value="")
    out[list(setup.columns)] = setup
    return out


def _schema_of(path: Path, header: list[str]) -> int | str:
    """SCHEMA or LEGACY for the header's columns (an older version's are a prefix of LEGACY_COLUMNS), else an error."""
    if header in (RESULT_COLUMNS, CORE_COLUMNS):
        return SCHEMA
    if len(header) >= len(OLDEST_COLUMNS) and header == LEGACY_COLUMNS[:len(header)]:
        return LEGACY
    raise FeatbenchError(f"{path}: not a featbench results file (its columns differ from every featbench version's)")


def _parse(path: Path, text: str, dtype) -> tuple[pd.DataFrame, int | str]:
    """Complete lines -> (schema 3 rows, the file's schema); a wrong header, a line with the wrong number of fields
    or a score that is not a number is one error line naming the file and the line."""
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as err:
        raise FeatbenchError(f"{path}: malformed results file ({err})") from None
    if not lines:
        return pd.DataFrame(columns=RESULT_COLUMNS), SCHEMA
    columns = lines[0]
    schema = _schema_of(path, columns)
    for number, fields in enumerate(lines[1:], start=2):
        if len(fields) != len(columns):
            raise FeatbenchError(f"{path}: malformed results file (line {number} has {len(fields)} fields, "
                                 f"expected {len(columns)})")
    rows = pd.DataFrame(lines[1:], columns=columns, dtype=object)
    rows = upgrade_rows(rows) if schema == LEGACY else rows.reindex(columns=RESULT_COLUMNS, fill_value="")
    numbers = rows[NUMERIC].apply(pd.to_numeric, errors="coerce")
    bad = numbers.isna() & (rows[NUMERIC] != "")
    if bad.to_numpy().any():
        line, column = next((i + 2, c) for i, c in zip(*np.nonzero(bad.to_numpy())) for c in [NUMERIC[c]])
        raise FeatbenchError(f"{path}: malformed results file (line {line}: {column} is not a number)")
    if dtype is not str:
        rows[NUMERIC] = numbers
        rows["speakers_confounded"] = rows["speakers_confounded"] == "True"
    return rows, schema


def read_results_file(path: str | Path, dtype=None) -> ResultsTable:
    """Rows of one results file. A 0-byte file has no rows; an incomplete last line is dropped with a note."""
    path = Path(path)
    if not path.is_file():
        raise FeatbenchError(f"{path}: results file not found")
    complete, torn = split_tail(read_text(path, "results file"))
    notes = [f"{path}: dropped an incomplete last line (a run was interrupted while writing it)"] if torn.strip() else []
    rows, schema = _parse(path, complete, dtype)
    return ResultsTable(rows, notes, schema)


def read_results(paths: str | Path | list[str | Path], dtype=None) -> ResultsTable:
    """Concatenated rows of several results files (see read_results_file)."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    tables = [read_results_file(p, dtype) for p in paths]
    frames = [t.rows for t in tables if not t.rows.empty]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)
    return ResultsTable(rows, [n for t in tables for n in t.notes])


def upgrade_file(path: str | Path) -> int:
    """Rewrite a results file of schema 1-2 as schema 3 (the same rows and values, under the writer's lock, replaced
    in one rename); returns the number of rows. A schema 3 file is a one-line error (nothing to do).

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "old.csv")
    >>> row = dict.fromkeys(LEGACY_COLUMNS, "1") | {"family": "fbank [+demo]", "budget": "8"}
    >>> _ = open(path, "w").write(",".join(LEGACY_COLUMNS) + "\\n" + csv_text([row], LEGACY_COLUMNS))
    >>> upgrade_file(path), read_results(path).rows[["family", "design", "other_corpus"]].values.tolist()
    (1, [['fbank', 'transfer', 'demo']])
    """
    import os
    import tempfile

    from featbench.locking import exclusive

    path = Path(path)
    if not path.is_file():
        raise FeatbenchError(f"{path}: results file not found")
    path = path.resolve()  # a link stays a link to the upgraded file
    with exclusive(path, "results file"):
        table = read_results_file(path, str)
        if table.schema == SCHEMA:
            raise FeatbenchError(f"{path}: already results schema {SCHEMA}; nothing to upgrade")
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(",".join(RESULT_COLUMNS) + "\n" + csv_text(table.rows.to_dict("records"), RESULT_COLUMNS))
            os.chmod(temporary, os.stat(path).st_mode & 0o777)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return len(table.rows)


class ResultsFile(AppendOnlyCsv):
    """The single writer of a results CSV: locked (on the resolved file, kill -9 safe), repaired on open,
    rows appended in one write per call so a killed run never leaves half a row.

    Attributes after opening: `keys` (resume keys present), `n_rows`, `notes` (repairs made).
    """

    columns = RESULT_COLUMNS
    key = KEY
    what = "results file"

    def parse(self, text: str) -> pd.DataFrame:
        rows, schema = _parse(self.path, text, str)  # refuses a file whose header is not ours, untouched
        if text.startswith(",".join(CORE_COLUMNS) + "\n"):
            self.columns = CORE_COLUMNS  # a schema 3 file without costs: appended to as it is
        if schema != SCHEMA:
            raise FeatbenchError(f"{self.path}: results schema {schema} (an older featbench), and new rows are schema "
                                 f"{SCHEMA}; `featbench results upgrade {self.path}` rewrites it, or write to a new file")
        self.protocols = rows[PROTOCOL_COLUMNS].drop_duplicates().to_dict("records")  # see check_protocol
        return rows

    def append(self, rows: list[dict]) -> None:
        """Append rows in one write, in this file's columns."""
        super().append([{c: r.get(c, "") for c in self.columns} for r in rows])

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
