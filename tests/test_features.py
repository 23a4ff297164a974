import numpy as np
import pytest

from featbench.audio import AudioConfig
from featbench.errors import FeatbenchError
from featbench.features import FAMILIES, build_family
from tests.conftest import tone

EXPECTED = {  # name: (dim, frame rate)
    "egemaps-lld": (25, 100.0),
    "egemaps-func": (88, 0.0),
    "compare-lld": (65, 100.0),
    "fbank": (80, 100.0),
    "mfcc": (13, 100.0),
    "raw": (1, 16000.0),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_family_shape_and_description(name):
    family = build_family(name)
    dim, rate = EXPECTED[name]
    assert (family.dim, family.frame_rate) == (dim, rate)
    assert len(family.columns) == dim and len(set(family.columns)) == dim
    array = family.extract(tone(1.0), 16000)
    assert array.dtype == np.float32 and array.shape[1] == dim
    assert np.isfinite(array).all()
    if rate == 0.0:
        assert array.shape[0] == 1
    else:
        assert abs(array.shape[0] - rate * 1.0) <= rate * 0.05 + 2


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_config_hash_is_stable_and_sensitive(name):
    assert build_family(name).config_hash() == build_family(name).config_hash()
    assert build_family(name).config_hash() != build_family(name, audio=AudioConfig(sample_rate=8000)).config_hash()


def test_fbank_options_change_hash_and_output():
    default, custom = build_family("fbank"), build_family("fbank", {"n_mels": "40", "hop_ms": "20"})
    assert default.config_hash() != custom.config_hash()
    assert custom.extract(tone(1.0), 16000).shape == (51, 40)


def test_bad_options_fail_at_construction():
    with pytest.raises(FeatbenchError, match="has no option 'bands'"):
        build_family("fbank", {"bands": 40})
    with pytest.raises(FeatbenchError, match="exceeds n_fft"):
        build_family("fbank", {"win_ms": 50})
    with pytest.raises(FeatbenchError, match="unknown feature family 'plp'"):
        build_family("plp")
    with pytest.raises(FeatbenchError, match=r"n_mels=1000000000: at least 999999486 of the bands contain no FFT bin"):
        build_family("fbank", {"n_mels": 10**9})  # refused before any array of that size is made
    with pytest.raises(FeatbenchError, match=r"n_fft=10000000000: at most 262144"):
        build_family("mfcc", {"n_fft": 10**10})


def test_opensmile_matches_the_library_directly():
    import opensmile

    x = tone(1.2)
    direct = opensmile.Smile(opensmile.FeatureSet.eGeMAPSv02, opensmile.FeatureLevel.Functionals).process_signal(x, 16000)
    np.testing.assert_array_equal(build_family("egemaps-func").extract(x, 16000), direct.to_numpy(np.float32))


def test_registry_names_match_classes():
    assert all(cls.name == name for name, cls in FAMILIES.items())


def _librosa_mfcc(y, deltas=0, **options):
    """The plain librosa computation featbench's mfcc defaults stand for (80 mels, 400-sample window, 160 hop)."""
    import librosa

    kw = dict(n_mfcc=13, n_fft=512, win_length=400, hop_length=160, n_mels=80, center=True) | options
    m = librosa.feature.mfcc(y=y, sr=16000, **kw)
    return np.concatenate([m] + [librosa.feature.delta(m, order=k) for k in range(1, deltas + 1)]).T


@pytest.mark.parametrize("options, librosa_options", [
    ({}, {}), ({"deltas": "2"}, {}), ({"n_mfcc": "20", "n_mels": "40", "hop_ms": "20", "fmin": "50"},
                                      {"n_mfcc": 20, "n_mels": 40, "hop_length": 320, "fmin": 50.0})])
def test_mfcc_equals_librosa(options, librosa_options):
    x = tone(1.3, seed=2)
    ours = build_family("mfcc", options).extract(x, 16000)
    ref = _librosa_mfcc(x, int(options.get("deltas", 0)), **librosa_options)
    assert ours.dtype == np.float32 and ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-4)


def test_mfcc_deltas_are_appended_with_their_names():
    x = tone(1.0)
    plain, one, two = (build_family("mfcc", {"deltas": k}) for k in (0, 1, 2))
    a, b, c = (f.extract(x, 16000) for f in (plain, one, two))
    assert (a.shape, b.shape, c.shape) == ((101, 13), (101, 26), (101, 39))
    np.testing.assert_array_equal(b[:, :13], a)
    np.testing.assert_array_equal(c[:, :26], b)
    assert not np.allclose(b[:, 13:], c[:, 26:])  # second order is not the first again
    assert two.columns[:2] == ["mfcc_0", "mfcc_1"] and two.columns[13] == "d1_mfcc_0" and two.columns[26] == "d2_mfcc_0"
    assert two.dim == 39 and len(set(two.columns)) == 39


def test_mfcc_cmvn_normalises_each_utterance():
    x = tone(1.5, seed=4)
    plain = build_family("mfcc", {"deltas": 1}).extract(x, 16000).astype(np.float64)
    normed = build_family("mfcc", {"deltas": 1, "cmvn": "true"}).extract(x, 16000)
    np.testing.assert_allclose(normed, (plain - plain.mean(0)) / plain.std(0), atol=1e-4)
    np.testing.assert_allclose(normed.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(normed.std(0), 1, atol=1e-4)


def test_mfcc_options_change_the_config_hash():
    variants = [{}, {"n_mfcc": 20}, {"deltas": 1}, {"deltas": 2}, {"cmvn": True}, {"n_mels": 40}, {"hop_ms": 20},
                {"delta_width": 5}]
    hashes = {build_family("mfcc", v).config_hash() for v in variants}
    assert len(hashes) == len(variants)
    assert build_family("mfcc").config_hash() != build_family("fbank").config_hash()


@pytest.mark.parametrize("options, message", [
    ({"n_mfcc": "0"}, r"mfcc.n_mfcc=0: must be between 1 and n_mels \(80\)"),
    ({"n_mfcc": "30", "n_mels": "20"}, r"mfcc.n_mfcc=30: must be between 1 and n_mels \(20\)"),
    ({"deltas": "3"}, r"mfcc.deltas=3: choose 0"),
    ({"deltas": "1.5"}, r"mfcc.deltas='1.5': not a whole number"),
    ({"delta_width": "4"}, r"mfcc.delta_width=4: must be an odd number"),
    ({"cmvn": "maybe"}, r"mfcc.cmvn='maybe': not a yes/no value"),
    ({"win_ms": "50"}, r"mfcc: window 800 samples exceeds n_fft 512"),
    ({"fmax": "9000"}, r"mfcc.fmax=9000: above the Nyquist frequency"),
    ({"lifter": "22"}, r"family 'mfcc' has no option 'lifter'"),
    ({"deltas": "1", "delta_width": "7", "hop_ms": "10000"}, r"mfcc.delta_width=7: 7 frames of hop_ms=10000 span 70 s"),
])
def test_mfcc_bad_options_are_refused_in_one_line(options, message):
    with pytest.raises(FeatbenchError, match=message) as err:
        build_family("mfcc", options)
    assert "\n" not in str(err.value)


def test_mfcc_deltas_on_a_clip_shorter_than_their_window_fail_that_clip():
    short = tone(0.05)  # 6 frames
    assert build_family("mfcc").extract(short, 16000).shape == (6, 13)
    with pytest.raises(ValueError, match="6 frames, fewer than delta_width=9"):
        build_family("mfcc", {"deltas": 1}).extract(short, 16000)
    assert build_family("mfcc", {"deltas": 1, "delta_width": 5}).extract(short, 16000).shape == (6, 26)


def test_mfcc_extract_then_train_on_the_demo_corpus(demo_corpus, tmp_path):
    from typer.testing import CliRunner

    from featbench.cli import app
    from featbench.store import read_family

    runner = CliRunner()
    listing = runner.invoke(app, ["families"])
    assert listing.exit_code == 0 and "\nmfcc " in listing.output and "n_mfcc=13, deltas=0" in listing.output
    store, results = tmp_path / "store", tmp_path / "results.csv"
    extracted = runner.invoke(app, ["extract", "demo", str(demo_corpus), "--features", "mfcc", "--set", "mfcc.deltas=1",
                                    "--out", str(store), "--no-progress"])
    assert extracted.exit_code == 0, extracted.output
    stored = read_family(store, "mfcc")
    assert stored.meta.dim == 26 and stored.meta.frame_rate == 100.0 and stored.meta.columns[13] == "d1_mfcc_0"
    trained = runner.invoke(app, ["train", str(store), "--features", "mfcc", "--classifiers", "logreg", "--budgets", "all",
                                  "--seeds", "0", "--out", str(results), "--no-progress"])
    assert trained.exit_code == 0, trained.output
    import pandas as pd

    rows = pd.read_csv(results)
    assert set(rows.family) == {"mfcc"} and len(rows) > 0 and rows.ua.between(0, 1).all()


@pytest.mark.parametrize("options", [{"deltas": 1, "hop_ms": 20}, {"deltas": 2, "delta_width": 13},
                                     {"deltas": 1, "center": False, "n_fft": 2048, "delta_width": 11}])
def test_mfcc_deltas_with_a_window_longer_than_the_warm_up_clip_load_and_extract(options):
    """The warm-up run of `load()` (before any clip) lasted 0.1 s: 6 frames at hop_ms=20, 11 at 10 ms, fewer
    than the delta window, so the family could not even start. It now lasts as long as the window needs."""
    family = build_family("mfcc", options)
    family.load()
    frames = family.extract(tone(1.0), 16000)
    assert frames.shape[1] == 13 * (1 + options["deltas"]) and np.isfinite(frames).all()
    assert family.extract(np.zeros(family.samples_for(family.min_frames, 16000), np.float32), 16000).shape[0] \
        >= family.min_frames


def test_empty_band_count_equals_librosas_filter_bank():
    """The mel families refuse empty bands from the band edges alone (mel.empty_bands, no filter bank built):
    the count equals the all-zero rows of librosa.filters.mel on random configurations, most with empty bands."""
    import warnings

    import librosa.filters

    from featbench.features.mel import empty_bands

    rng, with_empty = np.random.default_rng(7), 0
    for _ in range(400):
        rate = int(rng.choice([100, 8000, 11025, 16000, 22050, 48000]))
        n_fft, n_mels = int(rng.choice([2, 16, 64, 256, 400, 512, 2048])), int(rng.integers(1, 200))
        fmax = float(rng.choice([rate / 2, rng.uniform(1, rate / 2)]))
        fmin = float(rng.choice([0.0, rng.uniform(0, fmax)]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bank = librosa.filters.mel(sr=rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
        expected = int((bank.max(axis=1) <= 0).sum())
        assert empty_bands(rate, n_fft, n_mels, fmin, fmax) == expected, (rate, n_fft, n_mels, fmin, fmax)
        with_empty += expected > 0
    assert 100 < with_empty < 400


def test_checking_a_mel_family_does_not_import_scipy_signal():
    """`study plan` checks every family; librosa.filters (and scipy.signal under it) costs about 1 s to import."""
    import subprocess
    import sys

    code = ("import sys; from featbench.features import build_family; build_family('fbank'); build_family('mfcc'); "
            "print('scipy.signal' in sys.modules, 'librosa.filters' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split() == ["False", "False"]
