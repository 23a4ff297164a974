"""Results schema 1-2 (featbench up to 0.9), read and converted, never appended to: their `family` column held
the view and its training data as one display name, which `upgrade_rows` splits into schema 3's columns (the
one place that reads display names).

>>> upgrade_rows(pd.DataFrame({"family": ["fbank [from demo]"]}))[["view", "design"]].values.tolist()
[['fbank', 'cross']]
"""
from __future__ import annotations

import pandas as pd

from featbench.results.columns import CONFOUNDED, CROSS, RESULT_COLUMNS, SOURCE, TRAINING, TRANSFER, WITHIN
from featbench.results.training_data import Normalisation, Setup


def _legacy_setup(family: str) -> Setup:
    """The Setup a schema 1-2 `family` display name stood for (the legacy reader: the one place that reads names).

    >>> _legacy_setup("fbank [from demo, per-speaker normalisation on 8 clips, speakers confounded]").label
    'fbank [from demo, per-speaker normalisation on 8 clips, speakers confounded]'
    >>> _legacy_setup("w@auto [+A, per-corpus normalisation, validated on target]").columns()["design"]
    'transfer'
    >>> _legacy_setup("whisper@L4")
    Setup(view='whisper@L4', design='within', other='', normalisation=Normalisation(kind='training', clips=None), validation='source', confounded=False, train_condition='clean', pooling=Pooling(kind='mean+std'))
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
    """Rows of schema 1-2 (as text) as schema 5 rows (as text): `family` split into the family and SETUP_COLUMNS,
    the recording conditions clean.

    >>> old = pd.DataFrame({"family": ["fbank [+demo]", "w@L6+text"]})
    >>> upgrade_rows(old)[["family", "view", "layer_choice", "design", "other_corpus"]].values.tolist()
    [['fbank', 'fbank', '', 'transfer', 'demo'], ['w+text', 'w@L6+text', 'L6', 'within', '']]
    """
    found = {f: {k: str(v) for k, v in _legacy_setup(f).columns().items()} for f in rows["family"].unique()}
    setup = pd.DataFrame([found[f] for f in rows["family"]], index=rows.index, dtype=object, columns=list(Setup("x").columns()))
    out = rows.reindex(columns=RESULT_COLUMNS, fill_value="")
    out[list(setup.columns)] = setup
    return out
