"""Surface: CSV manifests (layout `csv`) a user hands featbench: hostile names in every column, damaged bytes,
missing or repeated columns, rows longer or shorter than the header, BOMs, other encodings, huge fields,
duplicate ids and paths, paths that leave the manifest's folder or that the system cannot use.

The contract of `featbench.corpus.load_corpus("csv", manifest)`: the utterance table, every name exactly as the
manifest wrote it and every path an existing file, or one line naming the manifest (FeatbenchError). Names that
would break a one-line message (control characters) and durations that are not seconds are refused; printable
hostile names (markup, formulas, path tricks) are kept as written: escaping them is for whoever writes them out.
Paths may lead out of the manifest's folder (the manifest says which files a corpus holds).
"""

from __future__ import annotations

import csv
import io
import math
import os
import random
import re
from pathlib import Path

import numpy as np
import soundfile as sf

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

CLIPS = 6
SECONDS = 0.3
COLUMNS = ("id", "group", "gender", "duration", "transcript", "arousal")  # optional ones
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _setup(workdir: Path) -> None:
    """Six short clips in clips/, one outside the manifests' folder m/, a FIFO and a symlink loop."""
    if (workdir / "clips").is_dir():
        return
    for k in range(CLIPS):
        (workdir / "clips").mkdir(parents=True, exist_ok=True)
        t = np.arange(int(16000 * SECONDS)) / 16000
        tone = (0.2 * np.sin(2 * np.pi * (200 + 40 * k) * t)).astype(np.float32)
        sf.write(workdir / "clips" / f"c{k}.wav", tone, 16000)
    (workdir / "outside").mkdir()
    sf.write(workdir / "outside" / "o.wav", np.full(4800, 0.1, np.float32), 16000)
    (workdir / "m").mkdir()
    os.mkfifo(workdir / "clips" / "fifo.wav")
    os.symlink("loop.wav", workdir / "clips" / "loop.wav")


def _hostile_text(rng: random.Random) -> str:
    pick = rng.randrange(4)
    if pick == 0:
        return rng.choice(HOSTILE_NAMES)
    if pick == 1:
        return str(hostile_value(rng))
    if pick == 2:
        return rng.choice(["", " ", "\x00", "a\x00b", "\ufeffsad", "e\u0301", "\x7f", "NULL", "#N/A", "True", "0x1F"])
    return "".join(
        chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x80, 0x3000)])) for _ in range(rng.randrange(1, 40))
    )


def _rows(rng: random.Random, n: int) -> list[dict]:
    files = rng.sample(range(CLIPS), n)
    return [
        dict(
            id=f"u{j}",
            path=f"../clips/c{f}.wav",
            label=rng.choice(["sad", "angry", "neutral"]),
            speaker=f"s{j % 3}",
            group=f"g{j % 2}",
            gender=rng.choice(["f", "m", ""]),
            duration=rng.choice(["", str(SECONDS), "1"]),
            transcript=rng.choice(["", "Kids are talking."]),
            arousal=rng.choice(["", "2.5", "low"]),
        )
        for j, f in enumerate(files)
    ]


def _csv(header: list[str], rows: list[dict], newline: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(c, "") for c in header])
    return buffer.getvalue()


def _expected(header: list[str], rows: list[dict], folder: Path):
    """What a correct table holds for `rows` written under `header`: a check of load_corpus's result."""
    label = "label" if "label" in header else "emotion"

    def given(row: dict, column: str) -> str:
        return row.get(column, "") if column in header else ""

    def check(table) -> bool:  # a path the system refuses makes it raise: accepting that row is wrong anyway
        want = {}
        for r in rows:
            uid = given(r, "id") or str(Path(r["path"]).with_suffix(""))
            want[uid] = dict(
                path=str((folder / r["path"]).resolve()),
                label=r[label],
                speaker=r["speaker"],
                group=given(r, "group") or r["speaker"],
                gender=given(r, "gender"),
                transcript=given(r, "transcript"),
                duration=given(r, "duration"),
            )
            if "arousal" in header:
                want[uid]["arousal"] = r["arousal"]
        if not _sound(table) or sorted(table["id"]) != sorted(want):
            return False
        for row in table.to_dict("records"):
            expected = dict(want[row["id"]])
            stated = expected.pop("duration")
            if not math.isclose(row["duration"], float(stated) if stated.strip() else SECONDS, rel_tol=0.01):
                return False
            row["path"] = str(Path(row["path"]).resolve())  # the table keeps the manifest's spelling under its folder
            if any(row[k] != v for k, v in expected.items()):
                return False
        return True

    return check


def _sound(table) -> bool:
    """What every accepted table keeps, whatever the manifest held: unique ids, existing files, named labels and
    speakers without control characters, durations that are seconds or unknown."""
    names_ok = all(not _CONTROL.search(str(v)) for c in ("id", "label", "speaker", "group", "gender") for v in table[c])
    filled = all(str(v).strip() for c in ("label", "speaker") for v in table[c])
    durations = table["duration"].dropna()
    files = all(Path(p).is_absolute() and Path(p).is_file() for p in table["path"])
    seconds = bool(((durations >= 0) & np.isfinite(durations)).all())
    return len(table) > 0 and table["id"].is_unique and files and names_ok and filled and seconds


def _refused(table) -> bool:
    return False  # a case that must be refused: accepting it is silent-wrong


def _structure(rng: random.Random, folder: Path, rows: list[dict], header: list[str]) -> tuple[bytes, object]:
    """One structural hostility of a valid manifest: (its bytes, the check of an accepted table)."""
    ok = _expected(header, rows, folder)
    text = _csv(header, rows)
    kind = rng.randrange(20)
    cut = "\n".join(text.split("\n")[:1]) + "\n"
    first, column, required = rows[0], rng.choice(header), rng.choice(["path", "label", "speaker"])
    cases = {
        0: lambda: (("\ufeff" + text).encode(), ok),
        1: lambda: (_csv(header, rows, "\r\n").encode(), ok),
        2: lambda: (_csv([c for c in header if c != required], rows).encode(), _refused),
        3: lambda: (_csv(header + [column], rows).encode(), _refused),  # a column twice: which one holds the value?
        4: lambda: (cut.encode(), _refused),
        5: lambda: (b"", _refused),
        6: lambda: (text.encode("utf-16"), _refused),
        7: lambda: ((text.rstrip("\n") + ",extra\n").encode(), _refused),
        8: lambda: ((cut + text.split("\n", 1)[1].replace(",", ";")).encode(), _refused),
        9: lambda: ((text + '"' + first["path"] + ",sad\n").encode(), _refused),
        10: lambda: (text.replace("\n", "\n\n\n").encode(), ok),
        11: lambda: (text.encode("latin-1", errors="replace") + "é,sad,s1\n".encode("latin-1"), _refused),
    }
    if kind in cases:
        return cases[kind]()
    changed = [dict(r) for r in rows]
    target = changed[0]
    if kind == 12:
        target["path"] = rng.choice(["../outside/o.wav", str(folder.parent / "outside" / "o.wav")])
        return _csv(header, changed).encode(), _expected(header, changed, folder)
    bad_paths = {
        13: "../clips",
        14: "../clips/fifo.wav",
        15: "../clips/loop.wav",
        16: "../clips/a\x00.wav",
        17: "x" * 300 + ".wav",
        18: "/".join(["d"] * 3000) + ".wav",
    }
    if kind in bad_paths:
        target["path"] = bad_paths[kind]
        return _csv(header, changed).encode(), _refused
    target["transcript" if "transcript" in header else "label"] = "Kids are talking. " * rng.randrange(10000, 60000)
    return _csv(header, changed).encode(), _expected(header, changed, folder)


def manifest_cases(rng: random.Random, workdir: Path):
    from featbench.corpus import load_corpus

    _setup(workdir)
    folder = workdir / "m"
    i = 0
    while True:
        rows = _rows(rng, rng.randint(1, CLIPS))
        header = ["path", "label", "speaker", *[c for c in COLUMNS if rng.random() < 0.5]]
        rng.shuffle(header)
        kind = rng.randrange(3)
        if kind == 0:  # hostile values in the cells
            for _ in range(rng.randint(1, 3)):
                rng.choice(rows)[rng.choice(header)] = _hostile_text(rng)
            if rng.random() < 0.2:
                header = ["emotion" if c == "label" else c for c in header]
                for r in rows:
                    r["emotion"] = r["label"]
            data, check = _csv(header, rows).encode(), _expected(header, rows, folder)
        elif kind == 1:
            data, check = _structure(rng, folder, rows, header)
        else:  # damaged bytes
            data = _csv(header, rows).encode()
            for _ in range(rng.randrange(1, 4)):
                data = mutate(data, rng)
            check = _sound
        manifest = folder / f"m{i}.csv"
        manifest.write_bytes(data)
        i += 1
        yield Case(
            f"{manifest.name} ({len(data)} bytes, kind {kind})",
            lambda manifest=manifest: load_corpus("csv", manifest),
            check=check,
            names=(manifest.name,),
            seconds=20,
        )


SURFACE = Surface("corpus manifests", manifest_cases)


def test_hostile_manifests_are_read_exactly_or_refused_in_one_line(tmp_path):
    campaign(SURFACE, cases_budget(80), tmp_path).assert_clean(at_least=80)


def test_printable_hostile_names_are_kept_as_written(tmp_path):
    """Markup, formulas and path tricks are names like any other: kept verbatim (reports escape them); only names
    with control characters are refused."""
    from featbench.corpus import load_corpus

    _setup(tmp_path)
    printable = [n for n in HOSTILE_NAMES if n.strip() and not _CONTROL.search(n)]
    rows = [
        dict(id=f"u{k}", path=f"../clips/c{k % CLIPS}.wav", label=name, speaker=name, transcript=name)
        for k, name in enumerate(printable[:CLIPS])
    ]
    (tmp_path / "m" / "names.csv").write_text(_csv(["id", "path", "label", "speaker", "transcript"], rows))
    table = load_corpus("csv", tmp_path / "m" / "names.csv").sort_values("id")
    assert list(table.label) == list(table.speaker) == list(table.transcript) == [r["label"] for r in rows]


def test_the_command_line_refuses_a_path_with_a_nul_in_one_line(tmp_path):
    """On main: ValueError ('embedded null byte') as a traceback."""
    _setup(tmp_path)
    manifest = tmp_path / "m" / "nul.csv"
    manifest.write_text('path,label,speaker\n"../clips/c\x000.wav",sad,s1\n')
    line = assert_one_line_error(run_cli(["corpus", "csv", str(manifest)], seconds=60), naming=str(manifest))
    assert "unusable path (embedded null byte) in row 2" in line


def test_the_command_line_refuses_a_first_row_longer_than_the_header(tmp_path):
    """On main pandas took the first column as the row index and `extract` crashed (int('../clips/c0.wav'))."""
    _setup(tmp_path)
    manifest = tmp_path / "m" / "long.csv"
    manifest.write_text("path,label,speaker\n../clips/c0.wav,sad,s1,spare\n../clips/c1.wav,sad,s1\n")
    result = run_cli(
        [
            "extract",
            "csv",
            str(manifest),
            "--features",
            "egemaps-func",
            "--out",
            str(tmp_path / "store"),
            "--no-progress",
        ],
        seconds=60,
    )
    assert "more fields than the header" in assert_one_line_error(result, naming=str(manifest))
    assert not (tmp_path / "store").exists()
