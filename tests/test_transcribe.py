"""featbench transcribe: Whisper transcripts in a store, resumable after kill -9, errors per clip, WER.

A tiny randomly initialised Whisper (tokenizer, feature extractor and generation settings copied from the
real whisper-base) drives the behaviour tests; its text is garbage, but garbage that depends on the audio.
The real whisper-base is used on a few RAVDESS clips when ../shared is present.
"""
from __future__ import annotations

import json
import math
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from typer.testing import CliRunner

from featbench.cli import EXIT_PARTIAL, app
from featbench.store import read_transcripts, transcripts_path
from tests.conftest import RAVDESS, SHARED, tone

WHISPER_BASE = SHARED / "models" / "whisper-base"
needs_whisper_base = pytest.mark.skipif(not WHISPER_BASE.is_dir(), reason=f"real whisper-base not found at {WHISPER_BASE}")
runner = CliRunner()


def _save_tiny_whisper(folder: Path, max_length: int = 12) -> Path:
    """A 1+1-layer Whisper with d_model 32 and whisper-base's vocabulary, saved as transcribe needs it.

    init_std=0.5 makes the random decoder's output depend on the audio (at 0.02 every clip gives the same text).
    """
    import torch
    import transformers as tf

    torch.manual_seed(0)
    config = tf.WhisperConfig(d_model=32, encoder_layers=1, encoder_attention_heads=2, decoder_layers=1,
                              decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, vocab_size=51865,
                              num_mel_bins=80, max_source_positions=1500, max_target_positions=64, init_std=0.5,
                              pad_token_id=50257, bos_token_id=50257, eos_token_id=50257, decoder_start_token_id=50258)
    tf.WhisperForConditionalGeneration(config).save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "preprocessor_config.json"):
        shutil.copy(WHISPER_BASE / name, folder / name)
    generation = json.loads((WHISPER_BASE / "generation_config.json").read_text())
    generation["max_length"] = max_length  # a few tokens per clip: fast
    (folder / "generation_config.json").write_text(json.dumps(generation))
    return folder


@pytest.fixture
def tiny_whisper(tiny_asr_whisper) -> Path:
    """The tiny Whisper of conftest (made once per session: the study tests transcribe with it too)."""
    return tiny_asr_whisper


def _transcripts(store: Path) -> pd.DataFrame:
    """Every line of transcripts.csv, which must all be whole rows."""
    import csv

    with transcripts_path(store).open(newline="") as handle:
        lines = list(csv.reader(handle))
    assert transcripts_path(store).read_text().endswith("\n"), "transcripts.csv ends in a torn line"
    assert all(len(line) == len(lines[0]) for line in lines), "transcripts.csv holds a line that is not a whole row"
    return read_transcripts(store).set_index("id")


def _one_line_error(result) -> str:
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output, result.output
    assert len(lines) == 1 and lines[0].startswith("featbench: error: "), result.output
    return lines[0]


# ---------------------------------------------------------------------------------------------- word error rate

def test_word_error_rate_normalises_case_punctuation_and_spaces():
    from featbench.transcribe import word_error_rate

    assert word_error_rate(["Kids are talking by the door"], ["  kids ARE talking, by the door! "]) == 0.0
    assert word_error_rate(["Kids are talking by the door"], ["Dogs are sitting by the door"]) == pytest.approx(2 / 6)
    assert word_error_rate(["a b c d", "e f"], ["a b c d", ""]) == pytest.approx(2 / 6)  # corpus level, not a mean
    assert math.isnan(word_error_rate([" ", ""], ["x", "y"]))


def test_ravdess_loader_gives_the_statement_as_reference(tmp_path):
    from featbench.corpus import load_corpus
    from tests.conftest import write_wav

    for name in ["03-01-05-02-01-01-07", "03-01-01-01-02-02-08"]:
        write_wav(tmp_path / f"Actor_{name[-2:]}" / f"{name}.wav")
    table = load_corpus("ravdess", tmp_path)
    assert dict(zip(table.id, table.transcript)) == {"03-01-01-01-02-02-08": "Dogs are sitting by the door",
                                                    "03-01-05-02-01-01-07": "Kids are talking by the door"}


# ---------------------------------------------------------------------------------------------- crash safety

def _stop_after_rows(args: list, store: Path, rows: int, sig: int, cwd: Path) -> tuple[int, str]:
    """Run the CLI in a subprocess, send `sig` once transcripts.csv holds `rows` rows; (exit code, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "featbench", *map(str, args)], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline, path = time.monotonic() + 90, transcripts_path(store)
        while not (path.is_file() and path.read_text().count("\n") >= rows + 1):  # the header and `rows` rows
            assert proc.poll() is None, f"transcribe ended before it could be stopped: {proc.stderr.read()}"
            assert time.monotonic() < deadline, f"not {rows} transcripts within 90 s"
            time.sleep(0.005)
        assert proc.poll() is None, "transcribe ended before it could be stopped; give it more work"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


def test_ctrl_c_and_kill_9_then_resume_give_the_text_of_an_uninterrupted_run(tiny_whisper, demo_corpus, tmp_path):
    from featbench.corpus import load_corpus
    from featbench.transcribe import run_transcription

    clean = run_transcription(load_corpus("demo", demo_corpus), tiny_whisper, tmp_path / "clean", batch_size=2,
                              progress=False)
    assert clean.transcribed == 32 and clean.failed == 0
    reference = _transcripts(tmp_path / "clean")
    assert reference["text"].nunique() > 8, "the tiny model gives (nearly) one text for every clip: the test proves nothing"

    store = tmp_path / "stopped"
    args = ["transcribe", "demo", demo_corpus, "--model", tiny_whisper, "--out", store, "--batch-size", "2", "--no-progress"]
    code, err = _stop_after_rows(args, store, 2, signal.SIGINT, tmp_path)
    assert code == 130 and "interrupted" in err and "Traceback" not in err, err
    interrupted = len(_transcripts(store))
    assert 2 <= interrupted < 32, f"{interrupted} rows after Ctrl-C"
    code, _ = _stop_after_rows(args, store, interrupted + 2, signal.SIGKILL, tmp_path)
    assert code == -signal.SIGKILL
    killed = _transcripts(store)
    assert interrupted + 2 <= len(killed) < 32, f"{len(killed)} rows after kill -9"
    with transcripts_path(store).open("a") as handle:  # as if killed in the middle of a write as well
        handle.write("f1_angry_00,half a ro")

    resumed = runner.invoke(app, [str(a) for a in args])
    assert resumed.exit_code == 0, resumed.output
    assert f"{len(killed)} already transcribed, {32 - len(killed)} transcribed" in resumed.output
    assert "dropped an incomplete last line" in resumed.output
    final = _transcripts(store)
    assert len(transcripts_path(store).read_text().splitlines()) == 33  # header + one row per clip: nothing twice
    assert sorted(final.index) == sorted(reference.index)
    for column in ("text", "language", "audio_hash", "model_fingerprint", "seconds"):
        pd.testing.assert_series_equal(final[column].sort_index(), reference[column].sort_index(), obj=column)

    again = runner.invoke(app, [str(a) for a in args])
    assert again.exit_code == 0 and "32 already transcribed, 0 transcribed" in again.output, again.output


# ---------------------------------------------------------------------------------------------- configuration errors

def _tiny_folder(kind: str, folder: Path, tiny_whisper: Path) -> Path:
    import transformers as tf

    if kind == "bert":
        tf.BertModel(tf.BertConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                                   vocab_size=100)).save_pretrained(folder)
    elif kind == "wav2vec2":
        tf.Wav2Vec2Model(tf.Wav2Vec2Config(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                                           conv_dim=[8] * 7, num_conv_pos_embeddings=16,
                                           num_conv_pos_embedding_groups=2)).save_pretrained(folder)
        tf.Wav2Vec2FeatureExtractor().save_pretrained(folder)
    elif kind == "whisper-without-tokenizer":
        shutil.copytree(tiny_whisper, folder)
        (folder / "tokenizer.json").unlink()
    elif kind == "whisper-without-generation-config":
        shutil.copytree(tiny_whisper, folder)
        (folder / "generation_config.json").unlink()
    return folder


@pytest.mark.parametrize("case, needle", [
    ("missing", "not found"),
    ("bert", "model type 'bert' is not a Whisper speech-recognition model"),
    ("wav2vec2", "model type 'wav2vec2' is not a Whisper speech-recognition model"),
    ("whisper-without-tokenizer", "no tokenizer"),
    ("whisper-without-generation-config", "no Whisper generation settings"),
    ("unknown-language", "--language klingon: not a language of"),
    ("store-is-a-file", "store"),
    ("store-locked", "another featbench process is writing this store"),
])
def test_configuration_errors_are_one_line_and_write_nothing(case, needle, tiny_whisper, demo_corpus, tmp_path):
    from featbench.store import StoreWriter

    model, store, extra = tiny_whisper, tmp_path / "store", []
    if case in ("missing", "bert", "wav2vec2", "whisper-without-tokenizer", "whisper-without-generation-config"):
        model = _tiny_folder(case, tmp_path / case, tiny_whisper)
    if case == "unknown-language":
        extra = ["--language", "klingon"]
    if case == "store-is-a-file":
        store.write_text("not a folder")
    args = ["transcribe", "demo", str(demo_corpus), "--model", str(model), "--out", str(store), "--no-progress", *extra]
    if case == "store-locked":
        with StoreWriter(store):  # an extraction writing this store right now
            result = runner.invoke(app, args)
    else:
        result = runner.invoke(app, args)
    assert needle in _one_line_error(result)
    if case == "store-is-a-file":
        assert store.read_text() == "not a folder"
    elif case == "store-locked":
        assert sorted(p.name for p in store.iterdir()) == []
    else:
        assert not store.exists(), "a configuration error wrote into the store"


def test_a_bad_corpus_root_is_one_line(tiny_whisper, tmp_path):
    result = runner.invoke(app, ["transcribe", "ravdess", str(tmp_path / "nowhere"), "--model", str(tiny_whisper),
                                 "--out", str(tmp_path / "store")])
    assert "not a directory" in _one_line_error(result)


# ---------------------------------------------------------------------------------------------- per-clip failures

def test_a_corrupt_clip_is_listed_and_the_others_are_transcribed(tiny_whisper, demo_corpus, tmp_path):
    from featbench.store import write_errors

    bad = sorted(demo_corpus.rglob("*.wav"))[0]
    bad.write_bytes(b"RIFF" + np.random.default_rng(0).bytes(4000))
    store = tmp_path / "store"
    store.mkdir()
    write_errors(store, [dict(id="x", path="x.wav", family="fbank", reason="silent clip")])  # an extraction's failure
    result = runner.invoke(app, ["transcribe", "demo", str(demo_corpus), "--model", str(tiny_whisper), "--out", str(store),
                                 "--no-progress", "--language", "en"])
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "31 transcribed" in result.output and "1 failed" in result.output and "errors.csv" in result.output
    errors = pd.read_csv(store / "errors.csv", dtype=str)
    assert errors[["path", "family"]].values.tolist() == [["x.wav", "fbank"], [str(bad), "transcribe"]]
    assert "unreadable audio" in errors["reason"].iloc[1]
    rows = _transcripts(store)
    assert len(rows) == 31 and set(rows["language"]) == {"en"} and str(bad.stem) not in " ".join(rows.index)
    corpus = pd.read_csv(store / "corpus.csv", dtype=str)
    assert len(corpus) == 32  # later commands know every utterance


def test_language_detected_per_clip_and_forcing_another_transcribes_again(tiny_whisper, demo_corpus, tmp_path):
    from featbench.corpus import load_corpus
    from featbench.transcribe import check_asr_model, run_transcription

    table = load_corpus("demo", demo_corpus).head(6)
    store = tmp_path / "store"
    detected = run_transcription(table, tiny_whisper, store, batch_size=4, progress=False)
    languages = _transcripts(store)["language"]
    known = {k.strip("<|>") for k in json.loads((tiny_whisper / "generation_config.json").read_text())["lang_to_id"]}
    assert detected.transcribed == 6 and set(languages) <= known and "languages: " in detected.summary()
    assert run_transcription(table, tiny_whisper, store, progress=False).transcribed == 0  # detection: any stored row
    forced = run_transcription(table, check_asr_model(tiny_whisper, "English"), store, progress=False)
    assert forced.already_done == int((languages == "en").sum()) and forced.transcribed == 6 - forced.already_done
    assert set(_transcripts(store)["language"]) == {"en"}  # the newest row per clip wins
    assert run_transcription(table, tiny_whisper, store, language="en", progress=False).transcribed == 0


def test_clips_over_30_s_go_to_long_form_decoding_one_at_a_time(tiny_whisper, tmp_path, monkeypatch):
    # the long-form decoding itself is checked on real speech with the real model below (an untrained model
    # emits random timestamps, which makes Whisper's long-form loop crawl)
    import featbench.transcribe as tr
    from featbench.corpus.table import make_table

    rows = []
    for name, seconds in [("a_short", 2.0), ("b_long", 31.0), ("c_short", 3.0)]:
        sf.write(tmp_path / f"{name}.wav", tone(seconds, seed=len(rows)), 16000)
        rows.append(dict(id=name, path=str(tmp_path / f"{name}.wav"), label="x", speaker="s"))
    seen = []
    monkeypatch.setattr(tr, "transcribe_long", lambda loaded, signal: seen.append(len(signal)) or ("long text", "xx"))
    report = tr.run_transcription(make_table(rows), tiny_whisper, tmp_path / "store", language="en", progress=False)
    assert report.transcribed == 3 and seen == [31 * 16000]
    stored = _transcripts(tmp_path / "store")
    assert stored.loc["b_long", ["text", "language", "seconds"]].tolist() == ["long text", "xx", "31.000"]
    assert stored.loc[["a_short", "c_short"], "language"].tolist() == ["en", "en"]
    assert stored.loc[["a_short", "c_short"], "seconds"].tolist() == ["2.000", "3.000"]


# ---------------------------------------------------------------------------------------------- the real model

@needs_whisper_base
@pytest.mark.skipif(not RAVDESS.is_dir(), reason=f"real RAVDESS data not found at {RAVDESS}")
def test_real_whisper_base_on_ravdess_clips(tmp_path):
    from featbench.audio import load
    from featbench.corpus.table import make_table
    from featbench.transcribe import run_transcription

    clips = sorted((RAVDESS / "Actor_01").glob("03-01-*"))[::11][:6]
    assert len(clips) == 6
    root = tmp_path / "ravdess" / "Actor_01"
    root.mkdir(parents=True)
    for clip in clips:
        (root / clip.name).symlink_to(clip)
    args = ["transcribe", "ravdess", str(tmp_path / "ravdess"), "--model", str(WHISPER_BASE), "--language", "en",
            "--out", str(tmp_path / "store"), "--no-progress"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    wer = float(first.output.split("word error rate ")[1].split()[0])
    assert wer < 0.2 and "over 6 clips" in first.output, first.output
    rows = _transcripts(tmp_path / "store")
    assert len(rows) == 6 and set(rows["language"]) == {"en"} and rows["text"].str.contains("door").all()
    second = runner.invoke(app, args)
    assert second.exit_code == 0 and "6 already transcribed, 0 transcribed" in second.output, second.output

    # a 35 s clip: transcribed whole by long-form decoding, every sentence in order
    ten = sorted((RAVDESS / "Actor_02").glob("03-01-*"))[:10]
    long = tmp_path / "long.wav"
    sf.write(long, np.concatenate([load(p) for p in ten]), 16000)
    sentences = ". ".join("Kids are talking by the door" if p.name.split("-")[4] == "01" else "Dogs are sitting by the door"
                          for p in ten)
    table = make_table([dict(id="long", path=str(long), label="x", speaker="s", transcript=sentences)])
    report = run_transcription(table, WHISPER_BASE, tmp_path / "long-store", progress=False)
    assert report.transcribed == 1 and report.audio_seconds > 30
    assert report.wer < 0.2, (report.wer, _transcripts(tmp_path / "long-store")["text"].iloc[0])


# ---------------------------------------------------------------------------------------------- long transcripts

def test_a_transcript_longer_than_the_csv_field_limit_is_read(demo_corpus, tmp_path):  # issue 19 item 11
    """Python's csv module refuses fields over 131,072 characters by default: a long transcript (an hour of
    speech) made `extract --set text.source=asr` and the next `transcribe` fail with `_csv.Error`."""
    import csv

    from featbench import __version__
    from featbench.audio import file_hash
    from featbench.corpus import load_corpus
    from featbench.store import TranscriptsFile
    from tests.test_text_family import _save_bert

    table = load_corpus("demo", demo_corpus)
    store = tmp_path / "store"
    long_text = "kids are talking by the door. " * 6000  # 180,000 characters
    assert len(long_text) > csv.field_size_limit()
    rows = [{"id": uid, "text": long_text if i == 0 else "we go home now.", "language": "en", "model": "whisper-tiny",
             "model_fingerprint": "f1", "audio_hash": file_hash(path), "seconds": 1.0, "featbench_version": __version__}
            for i, (uid, path) in enumerate(zip(table["id"], table["path"]))]
    with TranscriptsFile(transcripts_path(store)) as log:
        log.append(rows)
    with TranscriptsFile(transcripts_path(store)) as log:  # what `transcribe` does to resume
        assert log.n_rows == len(table)
    assert read_transcripts(store).set_index("id").loc[table["id"][0], "text"] == long_text
    bert = _save_bert(tmp_path / "bert")
    result = runner.invoke(app, ["extract", "demo", str(demo_corpus), "--features", "text", "--set", f"text.model={bert}",
                                 "--set", "text.source=asr", "--out", str(store), "--no-progress"])
    assert result.exit_code == 0, result.output
