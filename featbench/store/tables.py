"""The store's two tables: ``corpus.csv`` (every utterance its feature files may hold) and ``errors.csv``
(the clips the last extraction could not use, with reasons); and ``corpus.json``, the name of the corpus the
store holds (`corpus_name`), which names the rows `train` writes and the reports made of them.

`write_corpus` merges: rows already in ``corpus.csv`` stay unless the new table has the same id, so an
extraction of a subset (``--classes``) never loses rows that the feature files hold.

>>> import tempfile, pandas as pd
>>> d = tempfile.mkdtemp()
>>> write_corpus(d, pd.DataFrame({"id": ["a", "b"], "label": ["x", "y"]}))
>>> write_corpus(d, pd.DataFrame({"id": ["b"], "label": ["z"]}))
>>> read_corpus(d)[["id", "label"]].values.tolist()
[['a', 'x'], ['b', 'z']]
"""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pandas as pd

from featbench.errors import FeatbenchError

CORPUS_FILE = "corpus.csv"
ERRORS_FILE = "errors.csv"
ERROR_COLUMNS = ["id", "path", "family", "reason"]
NAME_FILE = "corpus.json"
_NAME_BYTES = 4096  # a name and a layout; anything longer is not a file featbench wrote


def read_corpus(store: str | Path) -> pd.DataFrame:
    """The utterance table saved with a store (all columns as text)."""
    path = Path(store) / CORPUS_FILE
    if not path.is_file():
        raise FeatbenchError(f"{store}: no {CORPUS_FILE}; is this a featbench store? (extract features into it first)")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise FeatbenchError(f"{path}: unreadable corpus table ({str(err).splitlines()[0]})") from None


def write_corpus(store: str | Path, table: pd.DataFrame) -> None:
    """Save `table` as the store's corpus, keeping earlier rows whose ids it does not hold (atomic)."""
    path = Path(store) / CORPUS_FILE
    merged = table.astype(str)
    if path.is_file():
        earlier = read_corpus(store)
        merged = pd.concat([earlier[~earlier["id"].isin(set(merged["id"]))], merged], ignore_index=True)
    merged = merged.sort_values("id", kind="stable").reset_index(drop=True)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    merged.to_csv(tmp, index=False)
    os.replace(tmp, path)


def write_errors(store: str | Path, errors: list[dict]) -> Path:
    """Replace ``errors.csv`` with this run's failures (columns id, path, family, reason)."""
    path = Path(store) / ERRORS_FILE
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    with tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=ERROR_COLUMNS)
        writer.writeheader()
        writer.writerows(errors)
    os.replace(tmp, path)
    return path


def write_corpus_name(store: str | Path, name: str, layout: str) -> None:
    """Record the name of the corpus the store holds and its layout (`featbench extract` and `transcribe` do; a
    record that says the same is left as it is, so a rerun on a read-only store writes nothing)."""
    path = Path(store) / NAME_FILE
    text = json.dumps({"name": name, "layout": layout}) + "\n"
    if path.is_file() and path.stat().st_size == len(text.encode()) and path.read_text(errors="replace") == text:
        return
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def corpus_name(store: str | Path) -> str:
    """The name of the corpus the store holds, as extraction recorded it, else the store folder's name (a store
    made by an older featbench, or by the library); one line for a record that is not one featbench wrote.

    >>> import tempfile; d = Path(tempfile.mkdtemp()) / "store"; d.mkdir()
    >>> corpus_name(d)
    'store'
    >>> write_corpus_name(d, "ravdess", "ravdess"); corpus_name(d)
    'ravdess'
    """
    path = Path(store) / NAME_FILE
    if not path.is_file():
        return Path(store).resolve().name
    with path.open("rb") as handle:
        data = handle.read(_NAME_BYTES + 1)
    try:
        name = json.loads(data)["name"] if len(data) <= _NAME_BYTES else None
    except (ValueError, TypeError, KeyError, RecursionError):  # RecursionError: '[' nested a few thousand deep
        name = None
    if not isinstance(name, str) or not name.strip() or not name.isprintable():
        raise FeatbenchError(f"{path}: not a corpus record featbench wrote (a JSON object with a one-line 'name'); "
                             "remove it and extract again, or name the corpus with --corpus")
    return name.strip()
