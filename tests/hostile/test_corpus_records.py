"""Surface: the corpus record of a store (`corpus.json`, written by extract and transcribe), whose name goes into
every results row and report title.

The contract: `featbench.store.corpus_name` returns the recorded name (one printable line) when the record is
intact, and for a damaged or hostile record either a printable one-line name or a one-line refusal naming the
file; never a traceback, a hang, or a name that would break a line of a CSV row or a report title.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from hostile.contract import HOSTILE_NAMES, Case, Surface, campaign, cases_budget, hostile_value, mutate, run_cli


def _printable_line(name) -> bool:
    return isinstance(name, str) and bool(name.strip()) and name.isprintable()


def record_cases(rng: random.Random, workdir: Path):
    from featbench.store import write_corpus_name
    from featbench.store.tables import NAME_FILE, corpus_name

    i = 0
    while True:
        store = workdir / f"store{i}"
        store.mkdir()
        i += 1
        name = rng.choice((*HOSTILE_NAMES, "ravdess", "nemo", "my corpus"))
        write_corpus_name(store, name, "csv")
        path = store / NAME_FILE
        intact = rng.random() < 0.3
        if not intact:
            data = path.read_bytes()
            kind = rng.randrange(4)
            if kind == 0:
                data = mutate(data, rng)
            elif kind == 3:  # nesting deep enough to exhaust the JSON parser's recursion
                data = rng.choice((b"[", b'{"name": [')) * rng.randrange(1, 5000)
            elif kind == 1:
                data = json.dumps({"name": hostile_value(rng), "layout": "csv"}, default=str).encode()
            else:
                data = json.dumps(hostile_value(rng), default=str).encode()
            path.write_bytes(data)
        expected = name.strip() if intact and _printable_line(name) else None

        def check(result, expected=expected):
            return _printable_line(result) and (expected is None or result == expected)

        yield Case(
            f"{path.name} ({'intact ' + repr(name)[:40] if intact else 'damaged'})",
            lambda store=store: corpus_name(store),
            check=check,
            names=(str(path),),
            seconds=10,
        )


SURFACE = Surface("corpus records", record_cases)


def test_damaged_or_hostile_corpus_records_give_a_clean_name_or_one_line(tmp_path):
    campaign(SURFACE, cases_budget(60), tmp_path).assert_clean(at_least=60)


def test_a_deeply_nested_record_is_refused_not_a_recursion_error(tmp_path):
    from featbench.errors import FeatbenchError
    from featbench.store.tables import corpus_name

    (tmp_path / "corpus.json").write_bytes(b"[" * 4000)  # json.loads raised RecursionError
    with pytest.raises(FeatbenchError, match="corpus.json: not a corpus record"):
        corpus_name(tmp_path)


def test_train_on_a_store_with_a_bad_record_is_one_line_naming_it(demo_store, tmp_path):
    import shutil

    from hostile.contract import assert_one_line_error

    store = tmp_path / "store"
    shutil.copytree(demo_store, store)
    (store / "corpus.json").write_bytes(b'{"name": "a\\nb"}')  # a name that would break a line of every row
    result = run_cli(
        [
            "train",
            str(store),
            "--features",
            "egemaps-func",
            "--classifiers",
            "logreg",
            "--budgets",
            "4",
            "--seeds",
            "0",
            "--out",
            str(tmp_path / "r.csv"),
        ],
        seconds=120,
    )
    assert_one_line_error(result, str(store / "corpus.json"))
    assert not (tmp_path / "r.csv").exists()
