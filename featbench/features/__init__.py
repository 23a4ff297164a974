"""Feature families: a registry from family name to class.

`FAMILIES` holds the built-in families; families of other installed packages (the ``featbench.families``
entry-point group, `plugins`) join them in `family_class`, `all_families` and `build_family`.

>>> sorted(FAMILIES)
['compare-lld', 'egemaps-func', 'egemaps-lld', 'fairseq', 'fbank', 'hf', 'mfcc', 'raw', 'text', 'wav2vec1', 'whisper']
"""
from __future__ import annotations

from featbench.audio import AudioConfig
from featbench.errors import FeatbenchError
from featbench.features.base import FeatureFamily, InputKind, TextFeatureFamily
from featbench.features.fbank import Fbank
from featbench.features.mfcc import Mfcc
from featbench.features.opensmile_family import ComParELLD, EGeMAPSFunctionals, EGeMAPSLLD
from featbench.features.pretrained_families import FairseqTransformer, HFFamily, Wav2Vec1, WhisperEncoderLayers
from featbench.features.raw import RawWaveform
from featbench.features.text_family import TextEncoder
from featbench.features.plugins import discover, plugin_families  # noqa: I001 (after the built-ins: easier merges)

FAMILIES: dict[str, type[FeatureFamily]] = {
    cls.name: cls for cls in (EGeMAPSLLD, EGeMAPSFunctionals, ComParELLD, Fbank, Mfcc, RawWaveform,
                              Wav2Vec1, FairseqTransformer, HFFamily, WhisperEncoderLayers, TextEncoder)
}


def all_families() -> dict[str, type[FeatureFamily]]:
    """{name: class}: the built-in families, then the plug-ins that can be used (`plugins.discover`)."""
    return {**FAMILIES, **plugin_families(frozenset(FAMILIES))}


def family_class(name: str) -> type[FeatureFamily]:
    """The class of family `name` (built-in or plug-in); a one-line FeatbenchError for an unknown name or a plug-in
    that cannot be used (saying why).

    >>> family_class("fbank").__name__
    'Fbank'
    """
    if name in FAMILIES:
        return FAMILIES[name]
    known = all_families()
    if name in known:
        return known[name]
    for plugin in discover(frozenset(FAMILIES)):
        if plugin.name == name:
            raise FeatbenchError(plugin.line())
    raise FeatbenchError(f"unknown feature family '{name}'; choose from: {', '.join(known)}")


def build_family(name: str, options: dict | None = None, audio: AudioConfig = AudioConfig()) -> FeatureFamily:
    """Instantiate a registered family with its options (strings are coerced to the option's type)."""
    if name not in FAMILIES:
        return family_class(name)(options, audio=audio)  # a plug-in, or one line naming the problem
    return FAMILIES[name](options, audio=audio)


__all__ = ["FAMILIES", "FeatureFamily", "InputKind", "TextFeatureFamily", "build_family"]
