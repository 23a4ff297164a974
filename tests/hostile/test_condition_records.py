"""Surface: the condition records of a store (`conditions.json`, written by `extract --conditions`), which `verify`,
`corpus --store`, a later extraction and training read (condition text into rows and reports, slugs into family
file names, seeds and folds into the protocol).

The contract: `featbench.store.conditions.read_conditions` returns the records as written when the file is intact,
and for a damaged or hand-edited one either records of the right types (texts one printable line, slugs that
are file names, seeds in [0, 2^32)) or a one-line refusal naming the file; never a traceback or a hang.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from hostile.contract import (
    HOSTILE_NAMES,
    Case,
    Surface,
    assert_one_line_error,
    campaign,
    cases_budget,
    hostile_value,
    mutate,
    run_cli,
)

FIELDS = ("text", "slug", "config_hash", "seed", "folds", "families", "sources")


def _records(rng: random.Random):
    from featbench.store.conditions import StoredCondition

    out = []
    for k in range(rng.randrange(1, 4)):
        speakers = [rng.choice(HOSTILE_NAMES + ("spk1", "spk2")) for _ in range(rng.randrange(0, 3))]
        folds = (tuple(speakers[:1]), tuple(speakers[1:])) if speakers else ()
        sources = {rng.choice(HOSTILE_NAMES): (rng.choice(HOSTILE_NAMES),)} if folds else {}
        out.append(
            StoredCondition(
                f"white:{k}",
                f"white_{k}",
                f"{k:016x}",
                rng.randrange(2**32),
                folds,
                ("egemaps-func", "mfcc")[: rng.randrange(1, 3)],
                sources,
            )
        )
    return out


def _well_typed(result) -> bool:
    from featbench.store.conditions import MAX_SEED, StoredCondition

    def strings(values):
        return isinstance(values, tuple) and all(isinstance(v, str) for v in values)

    return isinstance(result, dict) and all(
        isinstance(r, StoredCondition)
        and key == r.slug
        and r.text.isprintable()
        and "\n" not in r.text
        and "/" not in r.slug
        and 0 <= r.seed < MAX_SEED
        and strings(r.families)
        and all(strings(f) for f in r.folds)
        and all(isinstance(k, str) and strings(v) for k, v in r.sources.items())
        for key, r in result.items()
    )


def _damage(rng: random.Random, path: Path) -> None:
    document = json.loads(path.read_text())
    kind = rng.randrange(5)
    if kind == 0:
        data = mutate(path.read_bytes(), rng)
    elif kind == 1:
        record = rng.choice(document["conditions"])
        record[rng.choice(FIELDS)] = hostile_value(rng)
        data = json.dumps(document, default=str).encode()
    elif kind == 2:  # a field's inner value
        record = rng.choice(document["conditions"])
        field = rng.choice(("folds", "families", "sources"))
        record[field] = {
            "folds": [[hostile_value(rng)]],
            "families": [hostile_value(rng)],
            "sources": {"a": hostile_value(rng)},
        }[field]
        data = json.dumps(document, default=str).encode()
    elif kind == 3:
        data = rng.choice((b"[", b'{"format": 1, "conditions": [')) * rng.randrange(1, 5000)
    else:
        document[rng.choice(("format", "conditions"))] = hostile_value(rng)
        data = json.dumps(document, default=str).encode()
    path.write_bytes(data)


def record_cases(rng: random.Random, workdir: Path):
    from featbench.store.conditions import CONDITIONS_FILE, read_conditions, write_conditions

    i = 0
    while True:
        store = workdir / f"store{i}"
        store.mkdir()
        i += 1
        records = _records(rng)
        write_conditions(store, records)
        path = store / CONDITIONS_FILE
        intact = rng.random() < 0.2
        if not intact:
            _damage(rng, path)
        expected = {r.slug: r for r in records} if intact else None

        def check(result, expected=expected):
            return _well_typed(result) and (
                expected is None
                or (result == expected and all(result[k].sources == expected[k].sources for k in expected))
            )

        yield Case(
            f"{CONDITIONS_FILE} ({'intact' if intact else 'damaged'})",
            lambda store=store: read_conditions(store),
            check=check,
            names=(str(path),),
            seconds=10,
        )


SURFACE = Surface("condition records", record_cases)


def test_damaged_or_hand_edited_condition_records_are_read_as_written_or_refused(tmp_path):
    campaign(SURFACE, cases_budget(60), tmp_path).assert_clean(at_least=60)


@pytest.mark.parametrize(
    "edit, needle",
    [
        (lambda r: r.update(text="white:20\nclean"), "not one printable line"),
        (lambda r: r.update(slug="../evil"), "no valid 'slug'"),
        (lambda r: r.update(seed=-1), "no valid 'seed'"),
        (lambda r: r.update(seed=True), "no valid 'seed'"),
    ],
)
def test_a_hand_edited_record_that_featbench_never_writes_is_refused(tmp_path, edit, needle):
    from featbench.errors import FeatbenchError
    from featbench.store.conditions import CONDITIONS_FILE, StoredCondition, read_conditions, write_conditions

    write_conditions(tmp_path, [StoredCondition("white:20", "white_20", "0123456789abcdef", 0)])
    document = json.loads((tmp_path / CONDITIONS_FILE).read_text())
    edit(document["conditions"][0])
    (tmp_path / CONDITIONS_FILE).write_text(json.dumps(document))
    with pytest.raises(FeatbenchError, match=needle):
        read_conditions(tmp_path)


def test_two_records_of_one_condition_and_deep_nesting_are_refused(tmp_path):
    from featbench.errors import FeatbenchError
    from featbench.store.conditions import CONDITIONS_FILE, read_conditions

    record = {"text": "white:20", "slug": "white_20", "config_hash": "0123456789abcdef", "seed": 0}
    (tmp_path / CONDITIONS_FILE).write_text(json.dumps({"format": 1, "conditions": [record, record]}))
    with pytest.raises(FeatbenchError, match="recorded twice"):
        read_conditions(tmp_path)
    (tmp_path / CONDITIONS_FILE).write_bytes(b"[" * 100000)  # json.loads raised RecursionError
    with pytest.raises(FeatbenchError, match="nested too deeply"):
        read_conditions(tmp_path)


def test_extract_on_a_store_with_a_damaged_record_is_one_line_before_any_clip(demo_corpus_master, tmp_path):
    store = tmp_path / "s"
    store.mkdir()
    (store / "conditions.json").write_bytes(b'{"format": 1, "conditions": [{"text": 3}]}')
    result = run_cli(
        [
            "extract",
            "demo",
            str(demo_corpus_master),
            "--features",
            "fbank",
            "--conditions",
            "white:20",
            "--out",
            str(store),
        ],
        seconds=120,
    )
    assert_one_line_error(result, str(store / "conditions.json"))
    assert not (store / "fbank~white_20.h5").exists() and not (store / "corpus.csv").exists()
