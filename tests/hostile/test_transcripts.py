"""Surface: the transcripts a text family reads: the corpus table's `transcript` column and the store's
`transcripts.csv` (written by `featbench transcribe`, or handed over with a store): hostile texts, model names and
audio hashes, repeated and unknown ids, damaged bytes, other encodings, wrong headers, torn last lines, huge
fields, a folder where the file should be, and hostile `text.source` values.

The contract of `featbench.transcript_inputs.check_transcripts` (what `extract` calls before any clip): for every
clip a Transcript that follows the source rule exactly (the corpus text where the source allows it, else the
store's last ASR row for the clip, unless it was made from another version of the audio file), or a per-clip
problem where there is none; or one line naming the store, its transcripts file or the `text.source` option.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
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

pytest.importorskip("transformers")

CLIPS = 4
COLUMNS = ["id", "text", "language", "model", "model_fingerprint", "audio_hash", "seconds", "featbench_version"]
SOURCES = ("auto", "corpus", "asr")


def _setup(workdir: Path) -> tuple[Path, pd.DataFrame, dict]:
    """A tiny BERT, four clips and their table (no corpus transcripts yet), and each clip's file hash."""
    from featbench.audio import file_hash

    bert = workdir / "tiny-bert"
    if not bert.is_dir():
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from test_text_family import _save_bert

        _save_bert(bert)
    paths = []
    for k in range(CLIPS):
        path = workdir / "clips" / f"c{k}.wav"
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, np.full(4800, 0.1 * (k + 1), np.float32), 16000)
        paths.append(str(path))
    table = pd.DataFrame({"id": [f"u{k}" for k in range(CLIPS)], "path": paths, "transcript": [""] * CLIPS})
    return bert, table, {f"u{k}": file_hash(p) for k, p in enumerate(paths)}


def _text(rng: random.Random) -> str:
    pick = rng.randrange(5)
    if pick == 0:
        return rng.choice(HOSTILE_NAMES)
    if pick == 1:
        return str(hostile_value(rng))
    if pick == 2:
        return rng.choice(["", " ", "\n", "\x00", "Kids\x00are", "\ufeffKids", "\r\n", '"quoted", text'])
    return rng.choice(["Kids are talking by the door.", "Dogs are sitting.", "I am very happy."])


def _csv(rows: list[list[str]], header: list[str] = COLUMNS, newline: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _expected(source: str, corpus: dict, rows: list[list[str]], hashes: dict):
    """The check of an accepted result: the source rule applied to `corpus` and the rows the file holds."""
    last = {r[0]: r for r in rows}

    def want(uid: str) -> tuple[str, str] | None:
        if source != "asr" and corpus[uid].strip():
            return corpus[uid].strip(), "corpus"
        row = last.get(uid)
        if source == "corpus" or row is None or (row[5] and row[5] != hashes[uid]) or not row[1].strip():
            return None
        return row[1].strip(), f"asr:{row[3]}" if row[3] else "asr"

    def check(result) -> bool:
        chosen = result["text"]
        if sorted(chosen) != sorted(corpus):
            return False
        for uid, transcript in chosen.items():
            expected = want(uid)
            got = None if transcript.problem else (transcript.text, transcript.source)
            if got != expected or (transcript.problem and transcript.text):
                return False
        return True

    return check


def _sound(corpus: dict, data: bytes):
    """The check of an accepted result when the file's bytes were damaged: every usable transcript is the corpus's
    or a text the file holds."""
    held = data.decode("utf-8", errors="replace").replace('"', "")

    def check(result) -> bool:
        chosen = result["text"]
        return sorted(chosen) == sorted(corpus) and all(
            t.problem or (t.text and (t.text == corpus[u].strip() or t.text.replace('"', "") in held))
            for u, t in chosen.items()
        )

    return check


def _structure(rng: random.Random, rows: list[list[str]], check_of) -> tuple[bytes, object]:
    """One structural hostility of a valid transcripts file: (bytes, the check of an accepted result)."""
    text = _csv(rows)
    kind = rng.randrange(10)
    refused = lambda result: False  # noqa: E731  a file that must be refused
    if kind == 0:
        return ("\ufeff" + text).encode(), refused  # a spreadsheet's BOM: the header no longer matches
    if kind == 1:
        return _csv(rows, newline="\r\n").encode(), check_of(rows)
    if kind == 2:
        return _csv([r[:-1] for r in rows], COLUMNS[:-1]).encode(), refused
    if kind == 3:
        return _csv([r + ["x"] for r in rows], COLUMNS + ["extra"]).encode(), refused
    if kind == 4:
        return text.encode("utf-16"), refused
    if kind == 5 and rows:
        return text.rstrip("\n").encode(), check_of(rows[:-1])  # a torn last line (a killed run) is left out
    if kind == 6:
        return b"", check_of([])
    if kind == 7:
        huge = [list(rows[0])] if rows else [["u0", "", "en", "w", "f", "", "1", "0"]]
        huge[0][1] = "kids are talking " * rng.randrange(20000, 120000)
        return _csv(rows + huge).encode(), check_of(rows + huge)
    if kind == 8:
        return (text + '"u1,never closed\n').encode(), refused
    return text.encode().replace(b"\n", b"\x00\n", 1), refused  # a NUL in the header


def transcript_cases(rng: random.Random, workdir: Path):
    from featbench.transcript_inputs import check_transcripts

    bert, base, hashes = _setup(workdir)
    i = 0
    while True:
        store = workdir / f"store{i}"
        store.mkdir()
        table = base.copy()
        table["transcript"] = [_text(rng) if rng.random() < 0.4 else "" for _ in range(CLIPS)]
        corpus = dict(zip(table["id"], table["transcript"]))
        rows = []
        for _ in range(rng.randrange(0, 7)):
            uid = rng.choice([*table["id"], "nosuch", _text(rng)])
            audio = rng.choice([hashes.get(uid, ""), hashes.get(uid, ""), "", "0123456789abcdef", _text(rng)])
            rows.append(
                [
                    uid,
                    _text(rng),
                    rng.choice(["en", "", _text(rng)]),
                    rng.choice(["whisper-base", "", _text(rng)]),
                    "f1",
                    audio,
                    rng.choice(["3.2", "", _text(rng)]),
                    "0",
                ]
            )
        source = rng.choice(SOURCES) if rng.random() < 0.9 else _text(rng)
        check_of = lambda held, source=source, corpus=corpus: _expected(source, corpus, held, hashes)  # noqa: E731
        kind = rng.randrange(4)
        if kind <= 1:
            data, check = _csv(rows).encode(), check_of(rows)
        elif kind == 2:
            data, check = _structure(rng, rows, check_of)
        else:
            data = _csv(rows).encode()
            for _ in range(rng.randrange(1, 4)):
                data = mutate(data, rng)
            check = _sound(corpus, data)
        if kind == 2 and rng.random() < 0.05:
            (store / "transcripts.csv").mkdir()  # a folder where the file should be: no ASR transcripts
            check = check_of([])
        else:
            (store / "transcripts.csv").write_bytes(data)
        specs = [("text", {"model": str(bert), "source": source})]
        i += 1
        yield Case(
            f"{store.name} (source {source!r}, {len(data)} bytes, kind {kind})",
            lambda table=table, specs=specs, store=store: check_transcripts(table, specs, store),
            check=check,
            names=(str(store), "text.source"),
            seconds=20,
        )


SURFACE = Surface("transcripts", transcript_cases)


def test_hostile_transcripts_follow_the_source_rule_or_are_refused_in_one_line(tmp_path):
    campaign(SURFACE, cases_budget(60), tmp_path).assert_clean(at_least=60)


def test_extract_refuses_a_damaged_transcripts_file_in_one_line_before_any_clip(tmp_path):
    bert, table, _ = _setup(tmp_path)
    manifest = tmp_path / "m.csv"
    table.assign(label="sad", speaker="s1").to_csv(manifest, index=False)
    store = tmp_path / "store"
    store.mkdir()
    (store / "transcripts.csv").write_bytes(b"id,text\x00\xff\xfe garbage")
    result = run_cli(
        [
            "extract",
            "csv",
            str(manifest),
            "--features",
            "text",
            "--set",
            f"text.model={bert}",
            "--set",
            "text.source=asr",
            "--out",
            str(store),
            "--no-progress",
        ],
        seconds=120,
    )
    assert_one_line_error(result, naming=str(store / "transcripts.csv"))
    assert not (store / "text.h5").exists() and not (store / "corpus.csv").exists()


def test_a_transcript_with_a_carriage_return_is_read_back_as_written(tmp_path):
    """On main the writer left a bare carriage return (the csv module quotes only the line terminator '\\n'), and
    every later read of the file was a traceback (_csv.Error): the transcripts of a whole store were lost."""
    from featbench.store import TranscriptsFile, read_transcripts, transcripts_path

    said = "Kids are\r talking\r\n by the door"
    with TranscriptsFile(transcripts_path(tmp_path)) as log:
        log.append(
            [
                dict(zip(COLUMNS, ["u0", said, "en", "whisper-base", "f1", "h", "1.0", "0"])),
                dict(zip(COLUMNS, ["u1", "plain", "en", "whisper-base", "f1", "h", "1.0", "0"])),
            ]
        )
    assert read_transcripts(tmp_path)["text"].tolist() == [said, "plain"]
    with TranscriptsFile(transcripts_path(tmp_path)) as log:  # reopened for a resumed run
        assert log.n_rows == 2
