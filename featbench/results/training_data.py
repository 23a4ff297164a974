"""What a results row's training data and protocol are (results schema 5): `Normalisation` (a `--normalise`
value; featbench.protocol.normalisation, re-exported here) and `Setup` (the view, design, other corpus, normalisation, validation, confounded speakers, training
condition and pooling, as the row's SETUP_COLUMNS hold them), with `Setup.label` the one display name of an entry.

>>> Setup("fbank", TRANSFER, "demo").label
'fbank [+demo]'
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from featbench.protocol.normalisation import Normalisation
from featbench.protocol.pooling import Pooling
from featbench.results.columns import (CLEAN, CONFOUNDED, CROSS, PER_CORPUS, PER_SPEAKER, SETUP_COLUMNS, SOURCE,  # noqa: F401 (PER_CORPUS, PER_SPEAKER, TARGET: the doctests)
                                       TARGET, TRANSFER, WITHIN)


def _family_and_choice(view: str) -> tuple[str, str]:
    """(stored family or families joined by '+', layer choice) of a view name (train.views: 'whisper@L4',
    'whisper@auto', 'whisper@L6+text').

    >>> _family_and_choice("whisper@L6+text"), _family_and_choice("egemaps-func")
    (('whisper+text', 'L6'), ('egemaps-func', ''))
    >>> _family_and_choice("ensemble(whisper@L3,whisper@L4,egemaps-func)")  # train.ensemble: its members' families
    ('whisper+egemaps-func', 'ensemble')
    """
    if view.startswith("ensemble(") and view.endswith(")"):
        families = [member.partition("@")[0] for member in view[len("ensemble("):-1].split(",")]
        return "+".join(dict.fromkeys(families)), "ensemble"
    parts = [part.partition("@") for part in view.split("+")]
    return "+".join(family for family, _, _ in parts), "+".join(choice for _, _, choice in parts if choice)


@dataclass(frozen=True)
class Setup:
    """What a row's training data and protocol are, as its columns (SETUP_COLUMNS) hold them: the view (its stored
    `family` and `layer_choice` follow from it), the design and other corpus, the normalisation, where choices
    were validated, whether per-speaker statistics came from speakers dominated by one class (corpus.balance,
    `--confounded-ok`), the recording condition its training clips were heard under (canonical text,
    featbench.protocol.multi), and how its frames were pooled (featbench.protocol.pooling). `label` is the one display name of an entry (reports, `--baseline`); the test
    condition is not part of it (the axis an entry is evaluated along).

    >>> Setup("egemaps-func", TRANSFER, "demo").label, Setup("w@weighted", normalisation=Normalisation(PER_SPEAKER)).label
    ('egemaps-func [+demo]', 'w@weighted [per-speaker normalisation]')
    >>> Setup("w@auto", CROSS, "A", Normalisation(PER_CORPUS), validation=TARGET).label
    'w@auto [from A, per-corpus normalisation, validated on target]'
    >>> Setup("fbank", normalisation=Normalisation(PER_SPEAKER, 8), confounded=True).label
    'fbank [per-speaker normalisation on 8 clips, speakers confounded]'
    >>> Setup.from_row(Setup("w@L6+text", CROSS, "A").columns()) == Setup("w@L6+text", CROSS, "A")
    True
    >>> Setup("whisper@weighted", train_condition="babble:10").label
    'whisper@weighted [trained on babble:10]'
    >>> Setup("whisper@weighted", train_condition="multi:white:10,babble:10").label
    'whisper@weighted [multi-condition: white:10, babble:10]'
    >>> Setup("whisper@L2", CROSS, "A", Normalisation(PER_CORPUS), pooling=Pooling("mean")).label
    'whisper@L2 [from A, per-corpus normalisation, mean pooling]'
    """

    view: str
    design: str = WITHIN
    other: str = ""
    normalisation: Normalisation = Normalisation()
    validation: str = SOURCE
    confounded: bool = False
    train_condition: str = CLEAN
    pooling: Pooling = Pooling()

    @property
    def family(self) -> str:
        return _family_and_choice(self.view)[0]

    @property
    def per_speaker(self) -> bool:
        """Whether each speaker was standardised on their own clips (a protocol of its own)."""
        return self.normalisation.per_speaker

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
        if self.normalisation.on_training_rows:
            return ""
        return self.normalisation.label + (f", {CONFOUNDED}" if self.confounded else "")

    @property
    def label(self) -> str:
        """The display name: the view, then in brackets what differs from training within one corpus."""
        tags = ([f"{'+' if self.design == TRANSFER else 'from '}{self.other}"] if self.design != WITHIN else []) + (
            [self.normalisation_label] if not self.normalisation.on_training_rows else []) + (
            [f"validated on {self.validation}"] if self.validation != SOURCE else []) + (
            [self.condition_label] if self.train_condition != CLEAN else []) + (
            [self.pooling.label] if not self.pooling.is_default else [])
        return f"{self.view} [{', '.join(tags)}]" if tags else self.view

    @property
    def condition_label(self) -> str:
        """'trained on babble:10', 'multi-condition: white:10, babble:10'; empty for clean training."""
        from featbench.protocol.multi import training_label

        return training_label(self.train_condition)

    def within(self) -> Setup:
        """The same view and normalisation trained within the tested corpus (what a transfer entry is compared
        with); per-corpus normalisation needs two corpora, so its counterpart is normalised on the training rows."""
        plain = Normalisation() if self.normalisation.per_corpus else self.normalisation
        return Setup(self.view, normalisation=plain, confounded=self.confounded, train_condition=self.train_condition,
                     pooling=self.pooling)

    def columns(self) -> dict:
        """The row's columns: `family` and SETUP_COLUMNS."""
        family, choice = _family_and_choice(self.view)
        return {"family": family, "view": self.view, "layer_choice": choice, "design": self.design,
                "other_corpus": self.other, "normalisation": self.normalisation.kind,
                "normalisation_clips": "" if self.normalisation.clips is None else self.normalisation.clips,
                "validation": self.validation, "speakers_confounded": self.confounded,
                "train_condition": self.train_condition, "pooling": self.pooling.text}

    @classmethod
    def from_row(cls, row) -> Setup:
        """The Setup of a row (a dict or a pandas row of schema 3 or 4, as text or as read_results types it; no
        `train_condition`, or an empty one: clean; no `pooling`, or an empty one: mean+std)."""
        clips = row["normalisation_clips"]
        clips = None if clips is None or str(clips) in ("", "nan") else int(float(clips))
        condition = row.get("train_condition", CLEAN) if hasattr(row, "get") else CLEAN
        condition = CLEAN if condition is None or str(condition) in ("", "nan") else str(condition)
        pooling = Pooling.parse(row.get("pooling") if hasattr(row, "get") else None)
        return cls(str(row["view"]), str(row["design"]), str(row["other_corpus"]),
                   Normalisation(str(row["normalisation"]), clips), str(row["validation"]),
                   str(row["speakers_confounded"]) == "True", condition, pooling)


def setups(rows: pd.DataFrame) -> dict[str, Setup]:
    """{display name: Setup} of the rows' entries, in order of appearance.

    >>> list(setups(pd.DataFrame([Setup("a", TRANSFER, "b").columns(), Setup("a").columns()])))
    ['a [+b]', 'a']
    """
    found = (Setup.from_row(r) for r in rows[_present(rows)].drop_duplicates().to_dict("records"))
    return {s.label: s for s in found}


def _present(rows: pd.DataFrame) -> list[str]:
    """SETUP_COLUMNS the rows hold (rows made without `train_condition` are clean-trained, without `pooling`
    mean+std pooled)."""
    return [c for c in SETUP_COLUMNS if c in rows or c not in ("train_condition", "pooling")]


def labels(rows: pd.DataFrame) -> pd.Series:
    """Each row's display name (Setup.label)."""
    columns = _present(rows)
    names = {tuple(map(str, k)): Setup.from_row(dict(zip(columns, k))).label
             for k in rows[columns].drop_duplicates().itertuples(index=False)}
    return pd.Series([names[tuple(map(str, k))] for k in rows[columns].itertuples(index=False)],
                     index=rows.index, dtype=object)
