import numpy as np
import pytest
import soundfile as sf

from featbench.audio import AudioConfig, AudioProblem, check_signal, file_hash, load
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
        signal = load(path)
        assert signal.ndim == 1
        assert abs(signal.size - round(info.frames / 3)) <= 1
    assert stereo >= 1


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
