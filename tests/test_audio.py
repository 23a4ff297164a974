import os
import shutil
import struct

import numpy as np
import pytest
import soundfile as sf

from featbench.audio import AudioConfig, AudioProblem, check_signal, file_hash, load, wav_truncation
from tests.conftest import RAVDESS_48K, needs_ravdess_48k, write_wav


def test_stereo_48k_is_downmixed_and_resampled(tmp_path):
    path = write_wav(tmp_path / "st.wav", seconds=1.0, rate=48000, channels=2)
    signal = load(path, AudioConfig(sample_rate=16000))
    assert signal.ndim == 1 and signal.dtype == np.float32
    assert abs(signal.size - 16000) <= 1


def test_configurable_rate(tmp_path):
    path = write_wav(tmp_path / "a.wav", seconds=1.0, rate=16000)
    assert abs(load(path, AudioConfig(sample_rate=8000)).size - 8000) <= 1


@needs_ravdess_48k
def test_real_48k_originals():
    files = sorted(RAVDESS_48K.rglob("*.wav"))
    assert files
    stereo = 0
    for path in files:
        info = sf.info(path)
        assert info.samplerate == 48000
        stereo += info.channels == 2
        assert wav_truncation(path) is None  # FLLR, LIST, bext and odd-sized _PMX chunks around the data
        signal = load(path)
        assert signal.ndim == 1
        assert abs(signal.size - round(info.frames / 3)) <= 1
    assert stereo >= 1


@needs_ravdess_48k
def test_truncated_copy_of_a_real_48k_original(tmp_path):
    original = sorted(RAVDESS_48K.rglob("*.wav"))[0]
    copy = shutil.copy(original, tmp_path / original.name)
    info = sf.info(copy)
    data_start = 4096  # these originals pad their header to 4096 bytes with an FLLR chunk
    assert open(copy, "rb").read(data_start)[-8:-4] == b"data"
    os.truncate(copy, data_start + 1000 * 2 * info.channels)
    with pytest.raises(AudioProblem, match=rf"^truncated WAV: header declares {info.frames} samples, file holds 1000$"):
        load(copy)


@pytest.mark.parametrize("signal, problem", [
    (np.zeros(0, np.float32), "empty"),
    (np.array([0.1, np.nan] * 4000, np.float32), "non-finite"),
    (np.full(100, 0.1, np.float32), "too short"),
    (np.zeros(16000, np.float32), "silent"),
])
def test_check_signal_problems(signal, problem):
    assert problem in check_signal(signal, AudioConfig())


def test_good_signal_has_no_problem():
    assert check_signal(np.full(16000, 0.1, np.float32), AudioConfig()) is None


def test_unreadable_and_missing_files(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk")
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio at all\n" * 20)
    for path in (bad, text):
        with pytest.raises(AudioProblem, match="unreadable"):
            load(path)
    with pytest.raises(AudioProblem, match="missing"):
        load(tmp_path / "nope.wav")


def test_file_hash_changes_with_content(tmp_path):
    path = write_wav(tmp_path / "a.wav")
    before = file_hash(path)
    write_wav(path, freq=330.0)
    assert file_hash(path) != before


def _sine_wav(path, frames, channels=1, **kwargs):
    t = np.arange(frames) / 16000
    x = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    sf.write(path, np.stack([x] * channels, axis=1) if channels > 1 else x, 16000, **kwargs)
    return path


def test_truncated_wav_is_an_audio_problem(tmp_path):
    path = _sine_wav(tmp_path / "cut.wav", 58000, subtype="PCM_16")
    assert load(path).size == 58000
    os.truncate(path, 44 + 2 * 31000)
    assert sf.info(path).frames == 31000  # libsndfile alone reads what is there
    with pytest.raises(AudioProblem, match=r"^truncated WAV: header declares 58000 samples, file holds 31000$"):
        load(path)


def test_truncated_extensible_wav_counts_frames(tmp_path):
    path = _sine_wav(tmp_path / "x.wav", 20000, channels=2, format="WAVEX", subtype="PCM_24")
    data_start = open(path, "rb").read().index(b"data") + 8
    os.truncate(path, data_start + 6 * 7000 + 4)  # a partial last frame does not count
    with pytest.raises(AudioProblem, match=r"^truncated WAV: header declares 20000 samples, file holds 7000$"):
        load(path)


def _with_odd_chunk(path):
    """Insert an odd-sized chunk (5 bytes + pad byte) between fmt and data, as some recorders do."""
    raw = open(path, "rb").read()
    at = raw.index(b"data")
    raw = raw[:at] + b"zodd" + struct.pack("<I", 5) + b"12345\0" + raw[at:]
    open(path, "wb").write(raw[:4] + struct.pack("<I", len(raw) - 8) + raw[8:])
    return at + 14 + 8  # where the samples start now


def test_healthy_and_odd_chunk_wavs_are_not_flagged(tmp_path):
    healthy = _sine_wav(tmp_path / "ok.wav", 16000)
    odd_data = _sine_wav(tmp_path / "odd_data.wav", 16001, subtype="PCM_24")  # 48003 data bytes + pad byte
    odd_chunk = _sine_wav(tmp_path / "odd_chunk.wav", 16000, subtype="PCM_16")
    _with_odd_chunk(odd_chunk)
    for path, frames in [(healthy, 16000), (odd_data, 16001), (odd_chunk, 16000)]:
        assert wav_truncation(path) is None
        assert sf.info(path).frames == frames
        assert load(path).size == frames


def test_truncation_after_an_odd_chunk_is_found(tmp_path):
    path = _sine_wav(tmp_path / "odd_chunk.wav", 16000, subtype="PCM_16")
    data_start = _with_odd_chunk(path)
    os.truncate(path, data_start + 2 * 9000)
    assert wav_truncation(path) == "truncated WAV: header declares 16000 samples, file holds 9000"


@pytest.mark.parametrize("declared", [0, 0xFFFFFFFF])
def test_streaming_data_size_is_not_flagged(tmp_path, declared):
    path = _sine_wav(tmp_path / "stream.wav", 16000, subtype="PCM_16")
    raw = bytearray(open(path, "rb").read())
    raw[40:44] = struct.pack("<I", declared)  # data size of a 44-byte header
    open(path, "wb").write(raw[:44 + 2 * 9000])
    assert wav_truncation(path) is None


def test_truncation_check_is_for_wav_content_only(tmp_path):
    flac = _sine_wav(tmp_path / "a.flac", 16000)
    assert wav_truncation(flac) is None and load(flac).size == 16000
    renamed = shutil.copy(_sine_wav(tmp_path / "a.wav", 16000), tmp_path / "riff.flac")
    os.truncate(renamed, 44 + 2 * 9000)
    with pytest.raises(AudioProblem, match="truncated WAV: header declares 16000 samples, file holds 9000"):
        load(renamed)  # libsndfile goes by content, and so does the check
