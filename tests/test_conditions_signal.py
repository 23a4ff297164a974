"""The signal side of recording conditions: coloured noise, babble bound to folds, noise and impulse-response folders,
simulated rooms and codecs (featbench/protocol/conditions/{noise,babble,folder,room,codecs}.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from featbench.errors import FeatbenchError
from featbench.protocol.conditions import ConditionClip, parse_condition
from featbench.protocol.conditions.noise import snr_db
from featbench.protocol.conditions.room import CONFIGURATIONS, simulated_response
from featbench.train.folds import Fold, make_folds

RATE = 16000


def speech_like(seconds: float = 2.0, seed: int = 0, rate: int = RATE) -> np.ndarray:
    """Bursts of a harmonic tone plus noise, with pauses: active speech to measure an SNR on, and energy up to 8 kHz."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    bursts = (np.sin(2 * np.pi * 1.3 * t + seed) > -0.2).astype(float)
    voice = sum(np.sin(2 * np.pi * (140 + 20 * seed) * k * t) / k for k in range(1, 20))
    return (bursts * (0.1 * voice + 0.05 * rng.standard_normal(t.size))).astype(np.float32)


def spectral_slope(noise: np.ndarray, rate: int = RATE) -> float:
    """The slope of log power against log frequency (-1 pink, -2 brown), fitted from 50 Hz to 4 kHz on a Welch PSD."""
    from scipy.signal import welch

    frequency, power = welch(noise, fs=rate, nperseg=4096)
    keep = (frequency > 50) & (frequency < 4000)
    return float(np.polyfit(np.log(frequency[keep]), np.log(power[keep]), 1)[0])


# ---- coloured noise -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, slope", [("pink:10", -1.0), ("brown:10", -2.0)])
def test_coloured_noise_has_its_slope_and_snr(text, slope):
    x = speech_like(4.0)
    y = parse_condition(text).apply(x, RATE, ConditionClip("u1"))
    assert y.dtype == np.float32 and y.shape == x.shape
    assert abs(snr_db(x, y - x, RATE) - 10) < 0.2
    assert abs(spectral_slope(y.astype(np.float64) - x) - slope) < 0.25


@pytest.mark.parametrize("text", ["pink:0", "brown:20", "mp3:16k", "opus:12k", "amr-nb:5.9k", "telephone", "room:0.3"])
def test_same_clip_condition_and_seed_give_the_same_audio(text):
    x, condition = speech_like(), parse_condition(text)
    first = condition.apply(x, RATE, ConditionClip("u1", seed=3))
    assert np.array_equal(first, parse_condition(text).apply(x.copy(), RATE, ConditionClip("u1", seed=3)))
    assert np.all(np.isfinite(first)) and first.shape == x.shape and first.dtype == np.float32


@pytest.mark.parametrize("text", ["pink:0", "brown:20", "room:0.3"])
def test_another_clip_or_seed_gets_other_randomness(text):
    x, condition = speech_like(), parse_condition(text)
    first = condition.apply(x, RATE, ConditionClip("u1", seed=0))
    others = [condition.apply(x, RATE, ConditionClip(uid, seed=seed))
              for uid, seed in [("u2", 0), ("u1", 1), ("u3", 7)]]
    assert any(not np.array_equal(first, other) for other in others)


# ---- babble ---------------------------------------------------------------------------------------------------

def corpus(speakers: int = 12, clips: int = 3) -> pd.DataFrame:
    rows = [{"id": f"s{s}_{c}", "speaker": f"s{s}", "group": f"s{s}", "label": "ab"[c % 2],
             "gender": "fm"[s % 2], "duration": 2.0} for s in range(speakers) for c in range(clips)]
    return pd.DataFrame(rows)


def test_babble_talkers_stay_inside_the_clip_s_test_fold():
    table = corpus()
    folds = make_folds(table, 3)
    bound = parse_condition("babble:10").bind(table, folds)
    speaker_of = dict(zip(table.id, table.speaker))
    fold_of = {g: f.index for f in folds for g in f.test_groups}
    for uid, speaker in zip(table.id, table.speaker):
        talkers = [speaker_of[t] for t in bound.sources(uid)]
        assert len(talkers) == 3 and len(set(talkers)) == 3 and speaker not in talkers
        assert {fold_of[t] for t in talkers} == {fold_of[speaker]}  # never a speaker who trains its model
    assert bound.sources("u-unknown") == ()
    again = parse_condition("babble:10").bind(table, folds)
    assert all(again.sources(uid) == bound.sources(uid) for uid in table.id)


def test_babble_never_draws_a_speaker_who_also_has_clips_outside_the_fold():
    table = corpus(6)
    table.loc[table.id == "s1_0", "group"] = "s3"  # speaker s1 in two groups: the folds split it
    folds = [Fold(0, ("s0", "s1", "s2"), "k-group-folds"), Fold(1, ("s3", "s4", "s5"), "k-group-folds")]
    bound = parse_condition("babble:10:1").bind(table, folds)
    assert all(not t.startswith("s1_") for uid in table.id for t in bound.sources(uid))


def test_babble_reuses_the_fold_s_few_other_speakers_and_refuses_folds_with_none():
    table = corpus(6)
    folds = make_folds(table, 2)  # 3 speakers a fold: 2 others for every clip
    bound = parse_condition("babble:10:4").bind(table, folds)
    speaker_of = dict(zip(table.id, table.speaker))
    fold_of = {g: f.index for f in folds for g in f.test_groups}
    for uid, speaker in zip(table.id, table.speaker):
        talkers = bound.sources(uid)
        assert len(talkers) == len(set(talkers)) == 4  # each clip once
        assert {speaker_of[t] for t in talkers} == {s for s in fold_of if fold_of[s] == fold_of[speaker]} - {speaker}
    with pytest.raises(FeatbenchError, match=r"'babble:10:7': clip .* has 2 other speakers with 6 clips") as err:
        parse_condition("babble:10:7").bind(table, folds)
    assert "\n" not in str(err.value)
    logo = [Fold(i, (g,), "leave-one-group-out") for i, g in enumerate(sorted(set(table.group)))]
    with pytest.raises(FeatbenchError, match=r"'babble:10': clip .* has 0 other speakers"):
        parse_condition("babble:10").bind(table, logo)
    with pytest.raises(FeatbenchError, match="the corpus has 1"):
        parse_condition("babble:10:3").check(corpus(1))
    with pytest.raises(FeatbenchError, match="is in no test fold"):
        parse_condition("babble:10:1").bind(table, folds[:1])


def test_babble_mixes_the_talkers_at_the_snr_and_needs_a_loader():
    table = corpus()
    bound = parse_condition("babble:5").bind(table, make_folds(table, 3))
    audio = {uid: speech_like(1.0 + i % 3, seed=i) for i, uid in enumerate(table.id)}
    x = audio["s0_0"]
    y = bound.apply(x, RATE, ConditionClip("s0_0", load=audio.__getitem__))
    assert abs(snr_db(x, y - x, RATE) - 5) < 0.2 and y.shape == x.shape
    assert np.array_equal(y, bound.apply(x, RATE, ConditionClip("s0_0", load=audio.__getitem__)))
    with pytest.raises(ValueError, match="no loader"):
        bound.apply(x, RATE, ConditionClip("s0_0"))
    with pytest.raises(ValueError, match="not bound"):
        parse_condition("babble:5").apply(x, RATE, ConditionClip("s0_0", load=audio.__getitem__))


@pytest.mark.parametrize("text, canonical", [("babble:10", "babble:10"), ("babble:10:3", "babble:10"),
                                             ("babble:-5:6", "babble:-5:6")])
def test_babble_spellings(text, canonical):
    assert parse_condition(text).text == canonical
    assert parse_condition(canonical).text == canonical


@pytest.mark.parametrize("text", ["babble", "babble:10:0", "babble:10:2.5", "babble:10:99", "babble:x", "babble:1:2:3"])
def test_bad_babble_spellings_are_refused_in_one_line(text):
    with pytest.raises(FeatbenchError, match=f"condition '{text}'") as err:
        parse_condition(text)
    assert "\n" not in str(err.value)


# ---- noise and impulse-response folders -----------------------------------------------------------------------

def test_noise_folder_mixes_at_the_snr_and_records_its_files(tmp_path):
    sf.write(tmp_path / "a.wav", np.random.default_rng(0).standard_normal(8000) * 0.1, RATE)
    (tmp_path / "sub").mkdir()
    sf.write(tmp_path / "sub" / "b.flac", np.sin(np.arange(3000) / 3) * 0.2, 8000)
    (tmp_path / "notes.txt").write_text("not audio")
    condition = parse_condition(f"noise:0:{tmp_path}/sub/..")
    assert condition.text == f"noise:0:{tmp_path.resolve()}" and condition.folder.files == ("a.wav", "sub/b.flac")
    assert parse_condition(condition.text) == condition
    x = speech_like(3.0)
    for uid in ("u1", "u2", "u3"):
        y = condition.apply(x, RATE, ConditionClip(uid))
        assert abs(snr_db(x, y - x, RATE)) < 0.2 and y.shape == x.shape
    before = condition.config_hash
    sf.write(tmp_path / "a.wav", np.random.default_rng(1).standard_normal(8000) * 0.1, RATE)
    assert parse_condition(condition.text).config_hash != before  # a changed folder is a changed condition


def test_noise_folders_without_audio_are_refused_naming_the_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    for folder, problem in [(tmp_path / "missing", "does not exist"), (tmp_path / "empty", "holds no audio")]:
        with pytest.raises(FeatbenchError, match=problem) as err:
            parse_condition(f"noise:10:{folder}")
        assert str(folder) in str(err.value) and "\n" not in str(err.value)


def test_a_folder_whose_real_path_holds_a_separator_is_refused(tmp_path):
    real = tmp_path / "a+b"
    real.mkdir()
    sf.write(real / "n.wav", np.ones(800) * 0.1, RATE)
    (tmp_path / "plain").symlink_to(real)
    with pytest.raises(FeatbenchError, match=r"has '\+' or ','"):
        parse_condition(f"noise:10:{tmp_path}/plain")


def test_noise_folder_bounds_the_number_of_files(tmp_path, monkeypatch):
    from featbench.protocol.conditions import folder

    monkeypatch.setattr(folder, "MAX_FILES", 2)
    for i in range(3):
        (tmp_path / f"n{i}.wav").write_bytes(b"")
    with pytest.raises(FeatbenchError, match="more than 2 audio files"):
        parse_condition(f"rir:{tmp_path}")
    monkeypatch.setattr(folder, "MAX_ENTRIES", 5)
    for i in range(5):
        (tmp_path / f"notes{i}.txt").write_bytes(b"")
    with pytest.raises(FeatbenchError, match="more than 5 files; name the folder of the audio"):
        parse_condition(f"noise:0:{tmp_path}")


def test_a_corrupt_noise_file_fails_the_clip_with_a_value_error(tmp_path):
    (tmp_path / "bad.wav").write_bytes(b"RIFF0000WAVEjunk" * 4)
    with pytest.raises(ValueError):
        parse_condition(f"noise:10:{tmp_path}").apply(speech_like(), RATE, ConditionClip("u1"))


def test_measured_impulse_response_starts_at_its_direct_path(tmp_path):
    rng = np.random.default_rng(0)
    response = np.zeros(4000)
    response[300] = 1.0
    response[301:] = 0.3 * rng.standard_normal(3699) * np.exp(-np.arange(3699) / 800)
    sf.write(tmp_path / "hall.wav", response, RATE, subtype="FLOAT")
    impulse = np.zeros(RATE, dtype=np.float32)
    impulse[1000] = 1.0
    y = parse_condition(f"rir:{tmp_path}").apply(impulse, RATE, ConditionClip("u1"))
    assert y.shape == impulse.shape and int(np.argmax(np.abs(y))) == 1000 and np.all(np.abs(y[:1000]) < 1e-6)


# ---- rooms ----------------------------------------------------------------------------------------------------

def schroeder_rt60(response: np.ndarray, rate: int, top: float = -5.0, bottom: float = -25.0) -> float:
    """T20 by Schroeder backward integration, written here independently of the code under test."""
    energy = np.cumsum(np.square(response)[::-1])[::-1]
    decay = 10 * np.log10(energy / energy[0])
    keep = (decay <= top) & (decay >= bottom)
    slope = np.polyfit(np.arange(response.size)[keep] / rate, decay[keep], 1)[0]
    return -60.0 / slope


@pytest.mark.parametrize("rt60", [0.25, 0.3, 0.6, 1.0, 2.0])
def test_simulated_rooms_have_the_requested_rt60(rt60):
    for index in range(CONFIGURATIONS):
        response = simulated_response(rt60, 0, index, RATE)
        assert abs(schroeder_rt60(response, RATE) / rt60 - 1) < 0.15, (rt60, index)
        assert abs(np.sum(np.square(response)) - 1) < 1e-9


def test_room_keeps_length_level_and_direct_path():
    impulse = np.zeros(RATE, dtype=np.float32)
    impulse[1000] = 1.0
    y = parse_condition("room:0.6").apply(impulse, RATE, ConditionClip("u1"))
    assert y.shape == impulse.shape and int(np.argmax(np.abs(y))) == 1000 and np.all(np.abs(y[:995]) < 1e-6)
    x = speech_like()
    wet = parse_condition("room:0.6").apply(x, RATE, ConditionClip("u1"))
    assert abs(np.std(wet) / np.std(x) - 1) < 0.01 and not np.allclose(wet, x)


def test_room_spellings():
    assert parse_condition("room:0.60").text == "room:0.6"
    for bad in ["room:-1", "room:0", "room:0.2", "room:2.5", "room:abc", "room", "room:0.5:1", "room:nan", "room:1e9"]:
        with pytest.raises(FeatbenchError, match=f"condition '{bad}'"):
            parse_condition(bad)


# ---- codecs ---------------------------------------------------------------------------------------------------

def share_below(signal: np.ndarray, hz: float, rate: int = RATE) -> float:
    power = np.abs(np.fft.rfft(signal.astype(np.float64))) ** 2
    return float(power[np.fft.rfftfreq(signal.size, 1 / rate) < hz].sum() / power.sum())


def test_telephone_removes_everything_above_4_khz():
    x = speech_like()
    assert share_below(x, 4000) < 0.97
    y = parse_condition("telephone").apply(x, RATE, ConditionClip("u1"))
    assert share_below(y, 4000) > 0.995 and y.shape == x.shape
    assert share_below(y, 250) < 0.02  # and the band starts at 300 Hz


def test_a_lower_bitrate_degrades_more():
    x = speech_like()

    def error(text):
        y = parse_condition(text).apply(x, RATE, ConditionClip("u1"))
        return float(np.mean(np.square(y - x)))

    assert error("mp3:8k") > 1.5 * error("mp3:32k")
    assert error("opus:6k") > error("opus:64k")


@pytest.mark.parametrize("text", ["mp3:8k", "mp3:32k", "opus:6k", "amr-nb:12.2k", "telephone"])
def test_codecs_keep_the_clip_aligned_and_its_length(text):
    x = np.random.default_rng(0).standard_normal(RATE).astype(np.float32) * 0.2
    y = parse_condition(text).apply(x, RATE, ConditionClip("u1"))
    assert y.shape == x.shape
    score = np.correlate(y.astype(np.float64), x[200:-200].astype(np.float64), "valid")
    assert int(np.argmax(score)) == 200  # no codec delay left


@pytest.mark.parametrize("rate", [8000, 22050, 44100])
def test_codecs_serve_any_clip_rate(rate):
    x = speech_like(1.0, rate=rate)
    for text in ("mp3:8k", "mp3:128k", "opus:16k", "amr-nb:7.95k", "telephone"):
        y = parse_condition(text).apply(x, rate, ConditionClip("u1"))
        assert y.shape == x.shape and np.all(np.isfinite(y))


@pytest.mark.parametrize("text, canonical", [("mp3:8000", "mp3:8k"), ("mp3:32k", "mp3:32k"),
                                             ("opus:12.5k", "opus:12.5k"), ("amr-nb:4750", "amr-nb:4.75k"),
                                             ("telephone", "telephone")])
def test_codec_spellings(text, canonical):
    assert parse_condition(text).text == canonical and parse_condition(canonical).text == canonical


@pytest.mark.parametrize("text", ["mp3:0", "mp3:abc", "mp3:33k", "mp3:8", "mp3", "amr-nb:9k", "opus:1k", "opus:1000k",
                                  "mp3:-8k", "mp3:8.5", "telephone:8k", "gsm"])
def test_bad_codec_spellings_are_refused_in_one_line(text):
    with pytest.raises(FeatbenchError, match=f"condition '{text}'") as err:
        parse_condition(text)
    assert "\n" not in str(err.value)


def test_an_empty_clip_is_a_value_error():
    for text in ("mp3:8k", "telephone"):
        with pytest.raises(ValueError):
            parse_condition(text).apply(np.zeros(0, dtype=np.float32), RATE, ConditionClip("u1"))


def test_amr_nb_is_narrowband_and_its_modes_differ():
    x = speech_like()
    low, high = (parse_condition(f"amr-nb:{mode}").apply(x, RATE, ConditionClip("u1")) for mode in ("4.75k", "12.2k"))
    assert share_below(low, 4000) > 0.995 and share_below(high, 4000) > 0.995
    assert not np.allclose(low, high, atol=1e-3)


def test_bound_conditions_travel_to_workers(tmp_path):
    """Dask and process pools pickle the conditions: every kind, bound, gives the same audio after the trip."""
    import pickle

    table = corpus()
    sf.write(tmp_path / "n.wav", np.random.default_rng(0).standard_normal(8000) * 0.1, RATE)
    audio = {uid: speech_like(1.0, seed=i) for i, uid in enumerate(table.id)}
    for text in ["babble:10", f"noise:5:{tmp_path}", f"rir:{tmp_path}", "room:0.6+mp3:16k", "pink:0", "telephone"]:
        bound = parse_condition(text).bind(table, make_folds(table, 3))
        trip = pickle.loads(pickle.dumps(bound))
        assert trip == bound and trip.sources("s0_0") == bound.sources("s0_0")
        clip = ConditionClip("s0_0", seed=2, load=audio.__getitem__)
        assert np.array_equal(trip.apply(audio["s0_0"], RATE, clip), bound.apply(audio["s0_0"], RATE, clip))


DIGEST = """
import hashlib, sys
import numpy as np
sys.path.insert(0, {tests!r})
from test_conditions_signal import RATE, corpus, speech_like
from featbench.protocol.conditions import ConditionClip, parse_condition
from featbench.train.folds import make_folds
table = corpus()
audio = {{uid: speech_like(1.0, seed=i) for i, uid in enumerate(table.id)}}
digest = hashlib.sha256()
for text in {texts!r}:
    bound = parse_condition(text).bind(table, make_folds(table, 3))
    for uid in ("s0_0", "s5_1"):
        digest.update(bound.apply(audio[uid], RATE, ConditionClip(uid, seed=4, load=audio.__getitem__)).tobytes())
print(digest.hexdigest())
"""


def test_another_process_gives_the_same_bytes():
    """Bit-identical audio in a fresh interpreter (another hash seed, fresh caches): no process state leaks in."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    texts = ["pink:5", "brown:0", "babble:10", "room:1+telephone", "mp3:8k", "opus:12k", "amr-nb:5.15k"]
    script = DIGEST.format(tests=str(Path(__file__).parent), texts=texts)
    here = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONHASHSEED": "123"}).stdout.strip()
    namespace: dict = {}
    exec(compile(script.replace("print(digest.hexdigest())", "result = digest.hexdigest()"), "digest", "exec"),
         namespace)
    assert here == namespace["result"]


@pytest.mark.parametrize("level, seconds, reason", [(1e-3, 1.0, "too quiet"), (0.3, 0.05, "too little active speech")])
def test_a_near_silent_or_too_short_clip_is_refused_an_snr(level, seconds, reason):
    t = np.arange(int(seconds * 16000)) / 16000
    quiet = (level * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    with pytest.raises(ValueError, match=reason):
        parse_condition("white:10").apply(quiet, 16000, ConditionClip("q"))
