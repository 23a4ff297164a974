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
from featbench.features.plugins import discover, plugin_families, setting_up  # noqa: I001 (after the built-ins: easier merges)

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
    """Instantiate a registered family with its options (strings are coerced to the option's type); a plug-in
    whose construction fails (or calls sys.exit()) is one line naming it."""
    if name not in FAMILIES:
        cls = family_class(name)  # a plug-in, or one line naming the problem
        with setting_up(name, "its construction", plugin=True):
            return cls(options, audio=audio)
    return FAMILIES[name](options, audio=audio)


def _classes(names) -> dict[str, type[FeatureFamily]]:
    """{name: class} to look `names` up in: the built-ins alone when every name is one (plug-ins are not looked
    for, so that a broken plug-in never slows or stops a run that does not use it), else `all_families`."""
    return FAMILIES if all(name in FAMILIES for name in names) else all_families()


def accelerated(names) -> bool:
    """Whether any of the families `names` runs a torch network (and so takes ``--device``).

    >>> accelerated(["egemaps-func", "fbank"]), accelerated(["fbank", "whisper"])
    (False, True)
    """
    names = list(names)
    known = _classes(names)
    return any(name in known and known[name].accelerated for name in names)


def _takes_precision(name: str, known: dict) -> bool:
    import dataclasses

    return name in known and known[name].accelerated and "precision" in {f.name for f in dataclasses.fields(known[name].Config)}


def with_precision(specs: list[tuple[str, dict]], precision) -> list[tuple[str, dict]]:
    """`specs` ([(family, options)]) with ``--precision`` (a `featbench.device.Precision`) given to every neural
    family (one with a ``precision`` option) whose options do not name one; a precision other than float32 with
    no such family among them, or one that a family's own ``precision`` option contradicts, is a one-line error.

    >>> from featbench.device import Precision
    >>> with_precision([("fbank", {}), ("whisper", {"layer": "all"})], Precision.BFLOAT16)
    [('fbank', {}), ('whisper', {'layer': 'all', 'precision': 'bfloat16'})]
    >>> with_precision([("fbank", {})], Precision.FLOAT16)
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: --precision float16: none of the families fbank runs a neural encoder
    """
    from featbench.device import Precision

    known = _classes([name for name, _ in specs])
    if not any(_takes_precision(name, known) for name, _ in specs):
        if precision.is_default:
            return specs
        raise FeatbenchError(f"--precision {precision.value}: none of the families {', '.join(n for n, _ in specs)} "
                             "runs a neural encoder")
    out = []
    for name, options in specs:
        if _takes_precision(name, known):
            own = Precision.parse(options.get("precision", precision), f"{name}.precision")
            if own is not precision and not precision.is_default:
                raise FeatbenchError(f"--precision {precision.value} and --set {name}.precision={own.value} disagree; "
                                     "give one")
            options = options if own.is_default and "precision" not in options else {**options, "precision": own.value}
        out.append((name, options))
    return out


__all__ = ["FAMILIES", "FeatureFamily", "InputKind", "TextFeatureFamily", "accelerated", "build_family", "with_precision"]
