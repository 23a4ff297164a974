"""Extraction under recording conditions: one decode, every family under every condition, resumable, the same
bits on any worker count, clean exactly as without conditions, and failures per clip and condition."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from featbench.corpus import load_corpus
from featbench.errors import FeatbenchError
from featbench.executors import Local
from featbench.extract import run_extraction
from featbench.protocol.conditions import Condition, ConditionClip
from featbench.protocol.folds import make_folds
from featbench.store import list_families, read_family
from featbench.store.conditions import read_conditions

FAMILIES = [("raw", {}), ("fbank", {"n_mels": 20})]


def _arrays(store, family) -> dict:
    fs = read_family(store, family)
    return {uid: np.array(fs.get(uid)) for uid in fs.ids}


def _same(a: dict, b: dict) -> bool:
    return list(a) == list(b) and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.fixture
def table(demo_corpus_master):
    return load_corpus("demo", demo_corpus_master).head(6)


def test_clean_is_stored_exactly_as_without_conditions(table, tmp_path):
    run_extraction(table, FAMILIES, tmp_path / "plain", progress=False)
    report = run_extraction(table, FAMILIES, tmp_path / "both", progress=False, conditions="clean,white:20")
    assert report.extracted == 6 and not report.failed
    assert list_families(tmp_path / "both") == ["fbank", "fbank~white_20", "raw", "raw~white_20"]
    for name, _ in FAMILIES:
        plain, both = read_family(tmp_path / "plain", name), read_family(tmp_path / "both", name)
        assert plain.meta == both.meta
        assert _same(_arrays(tmp_path / "plain", name), _arrays(tmp_path / "both", name))
        assert dict(zip(plain.ids, plain.hashes)) == dict(zip(both.ids, both.hashes))
    noisy = _arrays(tmp_path / "both", "raw~white_20")
    assert not any(np.array_equal(noisy[u], c) for u, c in _arrays(tmp_path / "both", "raw").items())
    assert not (tmp_path / "plain" / "conditions.json").exists()


def test_clean_alone_is_the_run_without_conditions(table, tmp_path):
    run_extraction(table, FAMILIES[:1], tmp_path / "a", progress=False)
    run_extraction(table, FAMILIES[:1], tmp_path / "b", progress=False, conditions="clean")
    assert (tmp_path / "a" / "raw.h5").read_bytes() == (tmp_path / "b" / "raw.h5").read_bytes()
    assert not (tmp_path / "b" / "conditions.json").exists()


def test_stored_meta_and_record_carry_the_condition_and_seed(table, tmp_path):
    run_extraction(table, FAMILIES[:1], tmp_path / "s", progress=False, conditions=["white:20", "gain:-6"],
                   condition_seed=3)
    meta = read_family(tmp_path / "s", "raw~white_20").meta
    clean_hash = read_family(tmp_path / "s", "raw~gain_-6").meta.config_hash
    assert meta.family == "raw~white_20" and meta.config["condition_seed"] == 3
    assert meta.config["condition"] == {"condition": "white:20"} and meta.config_hash != clean_hash
    records = read_conditions(tmp_path / "s")
    assert sorted(records) == ["gain_-6", "white_20"]
    assert records["white_20"].text == "white:20" and records["white_20"].seed == 3
    assert records["white_20"].families == ("raw",)
    assert not (tmp_path / "s" / "raw.h5").exists()  # clean was not asked for


def test_same_clip_condition_and_seed_same_bits_on_one_and_two_workers(table, tmp_path):
    run_extraction(table, FAMILIES[:1], tmp_path / "one", progress=False, executor=Local(1), conditions="white:10")
    run_extraction(table, FAMILIES[:1], tmp_path / "two", progress=False, executor=Local(2), conditions="white:10",
                   batch_size=2)
    assert _same(_arrays(tmp_path / "one", "raw~white_10"), _arrays(tmp_path / "two", "raw~white_10"))
    run_extraction(table, FAMILIES[:1], tmp_path / "seed1", progress=False, conditions="white:10", condition_seed=1)
    one, other = _arrays(tmp_path / "one", "raw~white_10"), _arrays(tmp_path / "seed1", "raw~white_10")
    assert not any(np.array_equal(one[u], other[u]) for u in one)


def test_resume_does_nothing_and_a_new_seed_extracts_again(table, tmp_path):
    store = tmp_path / "s"
    first = run_extraction(table.head(3), FAMILIES, store, progress=False, conditions="clean,white:20")
    assert first.extracted == 3
    more = run_extraction(table, FAMILIES, store, progress=False, conditions="clean,white:20")
    assert (more.already_done, more.extracted) == (3, 3)
    again = run_extraction(table, FAMILIES, store, progress=False, conditions="clean,white:20")
    assert (again.already_done, again.extracted) == (6, 0)
    reseeded = run_extraction(table, FAMILIES, store, progress=False, conditions="clean,white:20", condition_seed=5)
    assert (reseeded.already_done, reseeded.extracted) == (0, 6)  # clean done, white:20 under seed 5 is new
    assert any("config changed" in m for m in reseeded.messages)
    timings = pd.read_csv(store / "timings.csv")
    noisy = timings[timings["family"] == "fbank~white_20"]
    assert noisy["clips"].sum() == 12 and (noisy["extract_seconds"] > 0).all()


@dataclass(frozen=True, eq=False)
class _NeedsSpeech(Condition):
    """Stands in for a noise kind refusing a clip without active speech (white noise on main never does: any clip
    the loader accepts has frames within 40 dB of its peak)."""

    kind, forms = "needs-speech-test", ("needs-speech-test",)

    @property
    def text(self) -> str:
        return self.kind

    def apply(self, signal, rate, clip: ConditionClip):
        if float(np.abs(signal).max()) < 0.01:
            raise ValueError("no active speech to measure an SNR on (a silent clip)")
        return signal * 0.5


def test_a_clip_a_condition_cannot_degrade_is_its_failure_and_nothing_else_is_lost(table, tmp_path):
    quiet = tmp_path / "quiet.wav"
    sf.write(quiet, np.full(16000, 0.001, np.float32), 16000)
    table = pd.concat([table, table.iloc[[0]].assign(id="quiet", path=str(quiet), duration=1.0)], ignore_index=True)
    report = run_extraction(table, FAMILIES, tmp_path / "s", progress=False, conditions=["clean", _NeedsSpeech()])
    errors = pd.read_csv(tmp_path / "s" / "errors.csv")
    assert set(errors["id"]) == {"quiet"}
    assert set(errors["family"]) == {"raw~needs-speech-test", "fbank~needs-speech-test"}
    assert errors["reason"].str.contains("condition 'needs-speech-test': ValueError: no active speech").all()
    assert report.failed == 1
    assert "quiet" in read_family(tmp_path / "s", "raw").ids  # clean is stored
    assert len(read_family(tmp_path / "s", "fbank~needs-speech-test").ids) == 6
    again = run_extraction(table, FAMILIES, tmp_path / "s", progress=False, conditions=["clean", _NeedsSpeech()])
    assert (again.extracted, again.failed) == (0, 1)  # only the failed clip is tried again


def test_a_bad_condition_is_one_line_before_any_clip(table, tmp_path):
    for bad in ("white:abc", "nosuch:3", "white:20,white:20", "clean+white:20"):
        with pytest.raises(FeatbenchError, match="valid forms") as err:
            run_extraction(table, FAMILIES, tmp_path / "s", progress=False, conditions=bad)
        assert "\n" not in str(err.value)
    assert not (tmp_path / "s").exists()
    with pytest.raises(FeatbenchError, match="condition seed"):
        run_extraction(table, FAMILIES, tmp_path / "s", progress=False, conditions="white:20", condition_seed=-1)


@dataclass(frozen=True, eq=False)
class _Talker(Condition):
    """A corpus-bound kind for the test (babble's interface): mixes in the first clip of another fold's speaker."""

    kind, forms = "talker-test", ("talker-test",)
    needs_corpus = True
    chosen: tuple = ()

    @property
    def text(self) -> str:
        return self.kind

    def bind(self, table, folds) -> Condition:
        fold_of = {g: f.index for f in folds for g in f.test_groups}
        first = table.groupby("group")["id"].first()
        pick = {row.id: first[next(g for g in sorted(first.index) if fold_of[g] != fold_of[row.group])]
                for row in table.itertuples()}
        return _Talker(tuple(sorted(pick.items())))

    def sources(self, uid: str) -> tuple[str, ...]:
        return (dict(self.chosen)[uid],)

    def apply(self, signal, rate, clip: ConditionClip):
        other = clip.load(self.sources(clip.id)[0])
        mixed = np.resize(other, signal.shape)
        return (signal + 0.1 * mixed).astype(np.float32)


def test_a_condition_mixing_in_other_clips_reads_them_and_a_changed_talker_degrades_again(demo_corpus, tmp_path):
    table = load_corpus("demo", demo_corpus).head(12)  # speakers f1 and m1
    store = tmp_path / "s"
    run_extraction(table, FAMILIES[:1], store, progress=False, conditions=[_Talker()], n_folds=2)
    record = read_conditions(store)["talker-test"]
    folds = make_folds(table, 2)
    assert record.folds == tuple(tuple(f.test_groups) for f in folds)
    assert read_family(store, "raw~talker-test").meta.config["condition_folds"] == [list(f) for f in record.folds]
    group = dict(zip(table["id"], table["group"]))
    assert all(group[t] != group[u] for u, talkers in record.sources.items() for t in talkers)
    talker = next(iter(record.sources.values()))[0]
    users = [u for u, t in record.sources.items() if t == (talker,)]
    path = table.set_index("id").loc[talker, "path"]
    sf.write(path, 0.5 * sf.read(path, dtype="float32")[0], 16000)
    again = run_extraction(table, FAMILIES[:1], store, progress=False, conditions=[_Talker()], n_folds=2)
    assert again.extracted == len(set(users) | {talker})


def test_a_condition_slug_with_a_dot_is_a_family_the_store_lists(table, tmp_path):
    run_extraction(table.head(2), FAMILIES[:1], tmp_path / "s", progress=False, conditions="clean,gain:1.5")
    assert list_families(tmp_path / "s") == ["raw", "raw~gain_1.5"]  # a kept-aside file '<family>.<hash>' is not


def _cli(*args):
    from typer.testing import CliRunner

    from featbench.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("args, needle", [
    (["--conditions", "white:abc"], "condition 'white:abc': SNR in dB 'abc' is not a number; valid forms"),
    (["--conditions", "clean,nosuch"], "condition 'nosuch': unknown kind 'nosuch'"),
    (["--conditions", "white:20,white:20"], "condition 'white:20': given twice"),
])
def test_extract_option_errors_are_one_line_before_any_clip(demo_corpus_master, tmp_path, args, needle):
    result = _cli("extract", "demo", demo_corpus_master, "--features", "fbank", "--out", tmp_path / "s", *args)
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert result.output.startswith("featbench: error: ") and needle in result.output
    assert not (tmp_path / "s" / "fbank.h5").exists() and not (tmp_path / "s" / "conditions.json").exists()


def test_extract_degrade_and_verify_on_the_command_line(demo_corpus_master, tmp_path):
    store = tmp_path / "s"
    ids = ",".join(load_corpus("demo", demo_corpus_master)["id"].head(2))
    result = _cli("degrade", "demo", demo_corpus_master, "--conditions", "white:5,gain:30", "--clips", ids,
                  "--out", tmp_path / "wav")
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(tmp_path / "wav").as_posix() for p in (tmp_path / "wav").rglob("*.wav"))
    assert written == sorted(f"{c}/{i}.wav" for c in ("white_5", "gain_30") for i in ids.split(","))
    assert "beyond [-1, 1] clipped" in result.output
    assert sf.info(tmp_path / "wav" / written[0]).subtype == "PCM_16"
    bad = _cli("degrade", "demo", demo_corpus_master, "--conditions", "white:5", "--clips", "nosuch",
               "--out", tmp_path / "wav2")
    assert bad.exit_code == 1 and "--clips: no clip 'nosuch'" in bad.output and not (tmp_path / "wav2").exists()
    table = load_corpus("demo", demo_corpus_master).head(4)
    run_extraction(table, FAMILIES[:1], store, progress=False, conditions="clean,white:20")
    verified = _cli("verify", store)
    assert verified.exit_code == 0, verified.output
    assert "conditions held:\n  clean: raw 4 clips\n  white:20 (seed 0, config " in verified.output
    assert verified.output.rstrip().endswith("): raw 4 clips")
    listed = _cli("corpus", "demo", demo_corpus_master, "--store", store)
    assert listed.exit_code == 0 and "conditions held:\n  clean: raw 4 clips\n  white:20 (seed 0" in listed.output


def test_a_text_family_under_a_condition_is_refused(table):
    from featbench.extract_conditions import plan_conditions

    with pytest.raises(FeatbenchError, match="family 'text' reads transcripts, which no recording condition changes"):
        plan_conditions("clean,white:20", table, {}, {"text": {}}, 0)
    assert plan_conditions("clean", table, {}, {"text": {}}, 0) is None


@dataclass(frozen=True, eq=False)
class _InterruptAt(Condition):
    """White-like noise that raises KeyboardInterrupt (a Ctrl-C) when it reaches clip `at`."""

    at: str = ""
    kind, forms = "interrupt-test", ("interrupt-test",)

    @property
    def text(self) -> str:
        return self.kind

    def apply(self, signal, rate, clip: ConditionClip):
        if clip.id == self.at:
            raise KeyboardInterrupt
        return signal + 0.01 * clip.rng(self.text).standard_normal(signal.size).astype(np.float32)


def test_ctrl_c_while_degrading_keeps_finished_clips_and_a_rerun_completes_them(table, tmp_path):
    uninterrupted = tmp_path / "whole"
    run_extraction(table, FAMILIES[:1], uninterrupted, progress=False, conditions=["clean", _InterruptAt()])
    store = tmp_path / "s"
    with pytest.raises(KeyboardInterrupt):
        run_extraction(table, FAMILIES[:1], store, progress=False, flush_utterances=1,
                       conditions=["clean", _InterruptAt(table["id"].iloc[3])])
    assert len(read_family(store, "raw~interrupt-test").ids) == 3  # the clips before the interrupt are kept
    again = run_extraction(table, FAMILIES[:1], store, progress=False, conditions=["clean", _InterruptAt()])
    assert (again.already_done, again.extracted) == (3, 3)
    for name in ("raw", "raw~interrupt-test"):
        assert _same(_arrays(store, name), _arrays(uninterrupted, name))
