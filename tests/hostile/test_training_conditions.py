"""Surface: the recording conditions of a train (`--train-condition`, `--test-condition`, `fit --train-condition`)
and the babble records they are checked against (`conditions.json`'s folds and talkers).

The contract: a spelling is read into a `ConditionPlan` whose texts read back to themselves (canonical, each test
condition once, a multi-condition training of two or more different conditions), or refused in one line naming the
spelling (or the part of it that is wrong); a babble record whose folds or talkers do not fit the run's folds is
refused in one line naming the store, and one that fits passes. Never a traceback or a hang.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd

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

PIECES = (
    "clean",
    "white:20",
    "white:0",
    "gain:-6",
    "clip:5",
    "lowpass:3400",
    "white:20+gain:-6",
    "multi:",
    "multi",
    "white",
    "white:abc",
    "room:-1",
    "babble:10",
    "",
    " ",
    ",",
    "+",
    ":",
    "multi:clean",
    "multi:multi:clean",
)


def _spelling(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice(HOSTILE_NAMES)
    if kind == 1:
        value = hostile_value(rng)
        return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    text = rng.choice((",", "+", ", ")).join(rng.choice(PIECES) for _ in range(rng.randrange(1, 5)))
    if kind == 3:
        text = rng.choice(("multi:", "")) + mutate(text.encode(), rng).decode("latin-1")
    return text


def _pieces(*texts: str) -> list[str]:
    """What a refusal may name: a spelling, or a part of it (a list item, a chain link, stripped)."""
    found = set()
    for text in texts:
        body = text.strip()
        found |= {body, text, body.removeprefix("multi:"), repr(text)}
        for item in body.removeprefix("multi:").split(","):
            found |= {item.strip(), item}
            found |= {link.strip() for link in item.split("+")}
    return sorted(found - {""}) or [""]


def _canonical(plan) -> bool:
    from featbench.train.conditions import ConditionPlan

    again = ConditionPlan.of(plan.training.text, ",".join(c.text for c in plan.tests))
    tests = [c.text for c in plan.tests]
    return again == plan and len(set(tests)) == len(tests) and len(plan.training.conditions) >= 1


def _babble_store(rng: random.Random, workdir: Path, i: int):
    """A store with a corpus table of 4 groups and a babble record that is honest, damaged or leaking."""
    from featbench.store.conditions import CONDITIONS_FILE, StoredCondition, write_conditions
    from featbench.train.protocol import Fold

    store = workdir / f"store{i}"
    store.mkdir()
    table = pd.DataFrame({"id": [f"u{k}" for k in range(8)], "group": [f"g{k // 2}" for k in range(8)]})
    table.to_csv(store / "corpus.csv", index=False)
    folds = [Fold(0, ("g0", "g1"), "k"), Fold(1, ("g2", "g3"), "k")]
    honest = {"u0": ("u2",), "u2": ("u0",), "u4": ("u6",), "u6": ("u4",)}
    kind = rng.randrange(5)
    sources = dict(honest)
    recorded = [["g0", "g1"], ["g2", "g3"]]
    if kind == 1:  # a test clip's talker from its fold's training groups
        sources["u0"] = (rng.choice(("u4", "u5", "u6", "u7")),)
    elif kind == 2:  # other folds
        recorded = [["g0"], ["g1", "g2", "g3"]]
    elif kind == 3:  # a talker the corpus does not hold
        sources["u1"] = (str(hostile_value(rng))[:50],)
    write_conditions(
        store, [StoredCondition("white:5", "white_5", "h", 0, tuple(map(tuple, recorded)), ("f",), sources)]
    )
    if kind == 4:  # bytes damaged: read_conditions refuses, naming the file
        path = store / CONDITIONS_FILE
        path.write_bytes(mutate(path.read_bytes(), rng))
    return store, table, folds


def _honest(store: Path, table: pd.DataFrame, folds: list) -> bool:
    """The oracle: the record as read holds this run's folds and no talker across a fold (what an accepted record
    must be)."""
    from featbench.store.conditions import read_conditions

    record = read_conditions(store)["white_5"]
    group = dict(zip(table["id"], table["group"]))
    if {frozenset(f) for f in record.folds} != {frozenset(f.test_groups) for f in folds}:
        return False
    for uid, talkers in record.sources.items():
        side = next(f for f in folds if group.get(uid) in f.test_groups) if uid in group else None
        if side is None or any(group.get(t) is None or group[t] not in side.test_groups for t in talkers):
            return False
    return True


def condition_cases(rng: random.Random, workdir: Path):
    from featbench.train.conditions import ConditionPlan, check_leakage

    i = 0
    while True:
        i += 1
        if rng.random() < 0.25:
            store, table, folds = _babble_store(rng, workdir, i)
            plan = ConditionPlan.of("clean", "clean,white:5")
            yield Case(
                f"babble record {store.name}",
                lambda s=store, t=table, f=folds, p=plan: check_leakage(s, p, t, f),
                check=lambda _, s=store, t=table, f=folds: _honest(s, t, f),
                names=(str(store),),
                seconds=10,
            )
            continue
        train = rng.choice(("clean", "white:20", "multi:clean,white:20", _spelling(rng)))
        test = rng.choice((None, "clean,white:20", _spelling(rng)))
        yield Case(
            f"--train-condition {train[:40]!r} --test-condition {str(test)[:40]!r}",
            lambda a=train, b=test: ConditionPlan.of(a, b),
            check=_canonical,
            names=_pieces(train, test or ""),
            seconds=5,
        )


SURFACE = Surface("training conditions", condition_cases)


def test_generated_condition_spellings_and_babble_records_are_read_or_refused_in_one_line(tmp_path):
    campaign(SURFACE, cases_budget(120), tmp_path).assert_clean(at_least=120)


def test_the_cli_refuses_a_bad_test_condition_in_one_line(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    (store / "corpus.csv").write_text("id,path,label,speaker,group\n")
    (store / "conditions.json").write_text(json.dumps({"format": 1, "conditions": []}))
    result = run_cli(["train", str(store), "--features", "f", "--test-condition", "white:abc"], cwd=tmp_path)
    assert_one_line_error(result, naming="white:abc")
