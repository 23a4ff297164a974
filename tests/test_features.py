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
    with pytest.raises(FeatbenchError, match="unknown feature family 'mfcc'"):
        build_family("mfcc")


def test_opensmile_matches_the_library_directly():
    import opensmile

    x = tone(1.2)
    direct = opensmile.Smile(opensmile.FeatureSet.eGeMAPSv02, opensmile.FeatureLevel.Functionals).process_signal(x, 16000)
    np.testing.assert_array_equal(build_family("egemaps-func").extract(x, 16000), direct.to_numpy(np.float32))


def test_registry_names_match_classes():
    assert all(cls.name == name for name, cls in FAMILIES.items())
