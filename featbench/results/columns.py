"""The columns of results rows and the values their protocol columns take: one owner of the column list, the
resume key, the protocol columns and budget order.

>>> RESULT_COLUMNS[:3], RESULT_COLUMNS[-3:], SCHEMA
(['corpus', 'classes', 'merge'], ['test_condition', 'pooling', 'correct_by_speaker'], 5)
"""
from __future__ import annotations

import pandas as pd

# NORMALISATIONS: how features are standardised before a classifier sees them (`train --normalise`): a protocol kind
# (featbench.protocol.normalisation), written to rows by value (columns `normalisation`, `normalisation_clips`)
from featbench.protocol.designs import CROSS, DESIGNS, SOURCE, TARGET, TRANSFER, VALIDATIONS, WITHIN  # noqa: F401 (re-exported)
from featbench.protocol.normalisation import NORMALISATIONS, PER_CORPUS, PER_SPEAKER, TRAINING  # noqa: F401
from featbench.protocol.pooling import MEAN_STD, POOLINGS  # noqa: F401 (re-exported)

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
COSTED_COLUMNS = CORE_COLUMNS + COST_COLUMNS
"""Schema 3 as featbench 0.3.0 writes it, without DETAIL_COLUMNS: read (details empty) and appended to as it is."""
DETAIL_COLUMNS = ["family_options", "test_classes"]
"""What a row's features and test clips were (empty where not recorded): `family_options` (JSON: each stored
family of the view and the options its features were extracted with, a path by its last part: {"whisper": {"model":
"whisper-base", "whisper_mode": "adaptive", ...}}) and `test_classes` (JSON: the fold's test clips per class of each
test speaker and gender: {"speaker": {"s01": {"angry": 8, ...}}, "gender": {"female": {...}}}; empty for a
dimensional target). Reports say from them how features were made and whether speakers or genders are confounded
with the classes (report.groups)."""
SCHEMA3_COLUMNS = COSTED_COLUMNS + DETAIL_COLUMNS
"""Schema 3 as featbench 0.4 on wrote it: read (conditions 'clean'), appended to after `featbench results upgrade`."""
CONDITION_COLUMNS = ["train_condition", "test_condition"]
"""The recording conditions of a row (results schema 4; featbench.protocol.conditions): `train_condition`, the canonical
text of the condition its training and validation clips were heard under ('clean', 'babble:10', or
'multi:white:10,babble:10' for multi-condition training, featbench.protocol.multi), and `test_condition`, the one its
test clips were heard under (the evaluation axis: one model scores every test condition of its fold, budget and seed).
Every row of an older schema reads 'clean' in both."""
SCHEMA4_COLUMNS = SCHEMA3_COLUMNS + CONDITION_COLUMNS
"""Schema 4 (featbench 0.4), without `pooling` and COUNT_COLUMNS: read (every row mean+std pooled, counts empty) and
appended to as it is with mean+std rows; `featbench results upgrade` rewrites it as schema 5 for rows of another
pooling."""
CONDITIONED_COLUMNS = SCHEMA4_COLUMNS  # the name the statistics code knows it by
COUNT_COLUMNS = ["correct_by_speaker"]
"""Each test speaker's correct predictions per class (empty where not recorded, and for a dimensional target):
`correct_by_speaker` (JSON, per test speaker the correct predictions of each class it holds in `test_classes`,
zeros included: {"s01": {"angry": 7, "happy": 5, ...}}). With `test_classes` it gives the exact counts that
intervals resampling test speakers need (report.statistics.speakers); rows without it are fitted to their stored
margins, and the report says so. Not part of the resume key."""
RESULT_COLUMNS = SCHEMA4_COLUMNS + ["pooling"] + COUNT_COLUMNS
"""Every row of results schema 5, in this order. What the row's training data and protocol are: `family` (the
stored family, families joined by '+' for a combined view), `view` (as `train --features` names it), `layer_choice`
('L4', 'auto', 'weighted', 'ensemble'; empty for a family without layers), `design` (DESIGNS), `other_corpus`, `normalisation`
(NORMALISATIONS) and `normalisation_clips` (empty: all of each speaker's clips), `validation` (VALIDATIONS),
`speakers_confounded` (True where per-speaker statistics came from speakers dominated by one class); see Setup.
Scores: ua (balanced accuracy, the headline), wa, macro_f1, confusion. What was
chosen on validation speakers: val_ua (the chosen configuration's UA on them; empty without validation) and
choice (JSON: layer, classifier, learned layer weights, where the entry chooses them; an ensemble's weights and
each member's choice, train.ensemble). Who it fails:
ua_by_speaker and ua_by_gender (JSON, UA over each test speaker's / gender's clips). Optional: COST_COLUMNS,
DETAIL_COLUMNS, COUNT_COLUMNS. Recording conditions: CONDITION_COLUMNS (`train_condition` is also part of the Setup). `pooling`
(POOLINGS: how a frame-level view's frames became one row per utterance, featbench.protocol.pooling; 'mean+std' in
every row of an older schema, and in rows of utterance-level families, which have nothing to pool).

Rows of a dimensional target (`train --target arousal`, `metric` CCC_METRIC) keep these columns: ua, val_ua,
ua_by_speaker and ua_by_gender hold the CCC (on the test clips, the validation speakers, each test speaker's /
gender's clips; a speaker or gender with fewer than 2 clips is left out); wa, macro_f1, confusion, labels and
correct_by_speaker are empty; classes is the target's name (and the --classes kept, in brackets), n_classes the number of
quantile bins of the target that stand in for classes in the folds and budgets, and examples_per_class
counts training utterances."""

KEY = ["corpus", "classes", "merge", "n_folds", "view", "design", "other_corpus", "normalisation", "normalisation_clips",
       "validation", "speakers_confounded", "family_config_hash", "classifier", "budget", "fold", "seed",
       "train_condition", "test_condition", "pooling"]
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


CONFOUNDED = "speakers confounded"
"""The tag of entries whose per-speaker statistics came from speakers dominated by one class (corpus.balance)."""

SETUP_COLUMNS = ["view", "layer_choice", "design", "other_corpus", "normalisation", "normalisation_clips", "validation",
                 "speakers_confounded", "train_condition", "pooling"]
"""What a row's training data and protocol are (results schema 5; see Setup). The test condition is not among them:
it is the axis an entry is evaluated along, not part of the entry."""

NUMERIC = ["n_classes", "n_folds", "fold", "seed", "examples_per_class", "n_train", "n_test", "ua", "wa", "macro_f1",
           "fit_seconds", "predict_seconds", "val_ua", "normalisation_clips", *COST_COLUMNS]
"""The columns that hold numbers (read back as floats unless a reader asks for text)."""


SELECTED = "selected"  # the classifier entry chosen on validation speakers: 'selected' or 'selected(a+b)'

NOT_CONVERGED = "fits stopped at their iteration limit"
"""What a row's `hp_selection` ends with ('; 3 fits stopped at their iteration limit (ConvergenceWarning)') where
scikit-learn warned that fits of its task did not converge: counted into the row (and the report), never printed."""


def is_selected(entry: str) -> bool:
    """True for a `selected` classifier entry (any candidate set), as a row's `classifier` column names it.

    >>> is_selected("selected(logreg+svm)"), is_selected("logreg")
    (True, False)
    """
    return entry == SELECTED or (entry.startswith(SELECTED + "(") and entry.endswith(")"))


def budget_order(frame: pd.DataFrame, x: str = "examples_per_class") -> list[str]:
    """Budget labels sorted by the mean examples per class they gave (column `x`).

    >>> budget_order(pd.DataFrame({"budget": ["all", "8", "16"], "examples_per_class": [40.0, 8.0, 16.0]}))
    ['8', '16', 'all']
    """
    return [str(b) for b in frame.groupby("budget")[x].mean().sort_values(kind="stable").index]


SCHEMA, LEGACY = 5, "1-2"  # the results schema written; those still read (converted), never appended to
CLEAN = "clean"  # the recording condition of every row of schema <= 3 (featbench.protocol.conditions.CLEAN)
