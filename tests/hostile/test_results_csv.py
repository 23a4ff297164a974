"""Surface: results CSVs handed to `compare` and `results upgrade` (written by another run, another version, edited
in a spreadsheet, damaged, or made up).

The contract, through the reading path that `compare` uses (`report.aggregate.read_one_protocol`: every file read by
`results.read_results_file`, every row checked by `report.rows`, the files combined by `results.combine`) and the one
`results upgrade` uses: the rows read back are the values written (hostile names in every text column, exactly),
or one line naming the file (and the line where one is at fault). Never a traceback, a hang, a warning, an infinite
number, or two rows of one key that disagree read as one.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import warnings
from pathlib import Path

from hostile.contract import HOSTILE_NAMES, Case, Surface, campaign, cases_budget, hostile_value, mutate

UA = "UA (balanced accuracy)"
TEXT_FREE = [
    "merge",
    "test_groups",
    "family_config_hash",
    "level",
    "hp_selection",
    "featbench_version",
    "corpus",
    "view",
    "classes",
]
"""Text columns whose value compare takes as it is (a hostile name here must read back exactly)."""


def results_rows(n_folds: int = 2, views=("a", "b"), budgets=("2", "4"), seed: int = 0) -> list[dict]:
    """Valid schema 3 rows of a two-class protocol: every view x budget x fold, scores that depend on all three."""
    rows = []
    for v, view in enumerate(views):
        for b, budget in enumerate(budgets):
            for fold in range(n_folds):
                ua = round(0.5 + 0.05 * v + 0.1 * b + 0.01 * fold, 4)
                rows.append(
                    {
                        "corpus": "demo",
                        "classes": "angry,happy",
                        "merge": "",
                        "n_classes": 2,
                        "fold_scheme": "k-group-folds",
                        "n_folds": n_folds,
                        "fold": fold,
                        "test_groups": f"s{fold}",
                        "seed": seed,
                        "budget": budget,
                        "examples_per_class": float(budget),
                        "n_train": 2 * int(budget),
                        "n_test": 8,
                        "family": view,
                        "view": view,
                        "layer_choice": "",
                        "design": "within",
                        "other_corpus": "",
                        "normalisation": "training",
                        "normalisation_clips": "",
                        "validation": "source",
                        "speakers_confounded": False,
                        "family_config_hash": "0123abcd",
                        "level": "utterance",
                        "classifier": "logreg",
                        "hparams": '{"C": 0.1}',
                        "hp_selection": "grid",
                        "metric": UA,
                        "ua": ua,
                        "wa": ua,
                        "macro_f1": -0.0 if ua < 0 else ua,
                        "confusion": "[[3, 1], [1, 3]]",
                        "labels": '["angry", "happy"]',
                        "fit_seconds": 0.25,
                        "predict_seconds": 0.001,
                        "featbench_version": "1.0",
                        "val_ua": ua,
                        "choice": "{}",
                        "ua_by_speaker": json.dumps({f"s{fold}": ua}),
                        "ua_by_gender": "{}",
                        "extract_seconds_per_audio_hour": "",
                        "store_mb_per_audio_hour": "",
                    }
                )
    return rows


def write_results(path: Path, rows: list[dict]) -> Path:
    """`rows` through featbench's one writer (ResultsFile: locked, formula-safe cells)."""
    from featbench.results import ResultsFile

    with ResultsFile(path) as results:
        results.append(rows)
    return path


def _records(data: bytes) -> list[list[str]]:
    """The file's records as Python's csv module reads them (the oracle for accepted damaged files)."""
    from featbench.csv_cells import unescape_cell

    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    text = text[: text.rfind("\n") + 1]
    try:
        return [[unescape_cell(c) for c in r] for r in csv.reader(io.StringIO(text))]
    except csv.Error:
        return []


def _read_back(path: Path):
    """compare's reading path, with every warning an error (a warning is text a user sees beside the report)."""
    from featbench.report.aggregate import read_one_protocol

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return read_one_protocol([path])


def _faithful(rows, records: list[list[str]]) -> bool:
    """Every row read back is a record of the file, its numbers those written and finite."""
    if not records:
        return False
    header = records[0]
    by_key = {}
    for record in records[1:]:
        if len(record) == len(header):
            fields = dict(zip(header, record))
            by_key.setdefault((fields.get("view", fields.get("family")), fields["budget"], fields["fold"]), []).append(
                fields
            )
    for row in rows.to_dict("records"):
        if not all(math.isfinite(row[c]) for c in ("ua", "examples_per_class", "fold", "seed")):
            return False
        found = by_key.get(
            (row["view"], row["budget"], str(row["fold"]))
            if "view" in header
            else (row["family"], row["budget"], str(row["fold"])),
            [],
        )
        if not any(math.isclose(float(f["ua"]), row["ua"]) for f in found):
            return False
    return True


def _hostile_text(rng: random.Random, rows: list[dict]) -> tuple[list[dict], dict]:
    """Rows with one hostile name in one free text column (every row, so that the protocol stays one)."""
    column, name = rng.choice(TEXT_FREE), rng.choice(HOSTILE_NAMES)
    return [r | {column: name} for r in rows], {column: name}


def _exact(expected: dict):
    def check(result):
        rows, _ = result
        return all((rows[c] == v).all() for c, v in expected.items())

    return check


def results_cases(rng: random.Random, workdir: Path):
    from featbench.results import upgrade_file

    i = 0
    while True:
        i += 1
        path = workdir / f"r{i}.csv"
        rows = results_rows(n_folds=rng.choice((1, 2, 3)))
        kind = rng.randrange(9)
        if kind == 8:  # a hostile name in every text column: train's and upgrade's reader gives each back exactly
            from featbench.results import NUMERIC, RESULT_COLUMNS, read_results_file

            text = [c for c in RESULT_COLUMNS if c not in NUMERIC and c != "speakers_confounded"]
            rows = [r | {c: rng.choice(HOSTILE_NAMES) for c in text} for r in rows]
            write_results(path, rows)
            expected = [{c: r[c] for c in text} for r in rows]
            yield Case(
                f"{path.name} hostile text in every column",
                lambda p=path: read_results_file(p, str),
                lambda table, e=expected, t=text: table.rows[t].to_dict("records") == e,
                [str(path)],
            )
            continue
        if kind == 0:  # a hostile name in a text column: read back exactly
            rows, expected = _hostile_text(rng, rows)
            write_results(path, rows)
            yield Case(
                f"{path.name} hostile {expected!r}"[:120], lambda p=path: _read_back(p), _exact(expected), [str(path)]
            )
            continue
        write_results(path, rows)
        data = path.read_bytes()
        lines = data.split(b"\n")
        if kind == 1:  # one cell of one row: a wrong type or size (numbers, JSON, text)
            records = list(csv.reader(io.StringIO(data.decode())))
            r, c = rng.randrange(1, len(records)), rng.randrange(len(records[0]))
            value = hostile_value(rng)
            records[r][c] = (
                value
                if isinstance(value, str)
                else value.decode("latin-1")
                if isinstance(value, bytes)
                else json.dumps(value)
                if rng.random() < 0.5
                else str(value)
            )
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(records)
            data = buffer.getvalue().encode("utf-8", errors="surrogateescape")
        elif kind == 2:  # a row repeated: identically (read once), or with another score (refused)
            j = rng.randrange(1, len(lines) - 1)
            copy = lines[j] if rng.random() < 0.5 else lines[j].replace(b",0.", b",0.9", 1)
            lines.insert(rng.randrange(j + 1, len(lines)), copy)
            path.write_bytes(b"\n".join(lines))
            n, same = len(rows), copy == lines[j]
            yield Case(
                f"{path.name} repeated row ({'same' if same else 'other score'})",
                lambda p=path: _read_back(p),
                names=[f"{path} line"],
                check=lambda result, n=n, same=same: (
                    same and len(result[0]) == n and "read once" in " ".join(result[1])
                ),
            )
            continue
        elif kind == 3:  # torn: cut anywhere
            data = data[: rng.randrange(len(data))]
        elif kind == 4:  # a huge cell
            data = data.replace(b"grid", b"g" * rng.choice((10_000, 200_000)), 1)
        elif kind == 5:  # a byte-order mark (a spreadsheet's 'CSV UTF-8'), CRLF line ends
            data = b"\xef\xbb\xbf" + (data.replace(b"\n", b"\r\n") if rng.random() < 0.5 else data)
        else:  # byte damage
            for _ in range(rng.randrange(1, 3)):
                data = mutate(data, rng)
        path.write_bytes(data)
        records = _records(data)
        if kind == 7 and rng.random() < 0.3:  # results upgrade's path: a schema 3 file is refused, others converted
            yield Case(
                f"{path.name} upgrade ({len(data)} bytes)",
                lambda p=path: upgrade_file(p),
                check=lambda table: False,
                names=[str(path)],
            )
        else:
            yield Case(
                f"{path.name} kind {kind} ({len(data)} bytes)",
                lambda p=path: _read_back(p),
                check=lambda result, records=records: _faithful(result[0], records),
                names=[str(path)],
            )


SURFACE = Surface("results csv", results_cases)


def test_generated_results_files_are_read_exactly_or_refused_in_one_line(tmp_path):
    campaign(SURFACE, cases_budget(80), tmp_path).assert_clean(at_least=80)


def test_a_conflicting_duplicate_is_one_cli_line_naming_both_lines(tmp_path):
    from hostile.contract import assert_one_line_error, run_cli

    rows = results_rows()
    path = write_results(tmp_path / "r.csv", rows + [rows[1] | {"ua": 0.43}])
    line = assert_one_line_error(
        run_cli(["compare", str(path), "--out", str(tmp_path / "rep")], seconds=60), f"{path} line 3 and {path} line 10"
    )
    assert "different ua (0.5" in line and "| 0.43)" in line and not (tmp_path / "rep").exists()
