"""Feature families: a registry from family name to class.

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

FAMILIES: dict[str, type[FeatureFamily]] = {
    cls.name: cls for cls in (EGeMAPSLLD, EGeMAPSFunctionals, ComParELLD, Fbank, Mfcc, RawWaveform,
                              Wav2Vec1, FairseqTransformer, HFFamily, WhisperEncoderLayers, TextEncoder)
}


def build_family(name: str, options: dict | None = None, audio: AudioConfig = AudioConfig()) -> FeatureFamily:
    """Instantiate a registered family with its options (strings are coerced to the option's type)."""
    if name not in FAMILIES:
        raise FeatbenchError(f"unknown feature family '{name}'; choose from: {', '.join(FAMILIES)}")
    return FAMILIES[name](options, audio=audio)


__all__ = ["FAMILIES", "FeatureFamily", "InputKind", "TextFeatureFamily", "build_family"]
