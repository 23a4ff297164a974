"""openSMILE feature sets through the `opensmile` package: eGeMAPSv02 LLDs / functionals, ComParE_2016 LLDs.

>>> from featbench.features import build_family
>>> fam = build_family("egemaps-func")
>>> fam.dim, fam.frame_rate
(88, 0.0)
>>> import numpy as np
>>> x = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)
>>> build_family("egemaps-lld").extract(x, 16000).shape
(96, 25)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from featbench.features.base import FeatureFamily


@dataclass(frozen=True)
class SmileConfig:
    """No user options: each openSMILE family is one fixed, published feature set."""


_NAMES: dict[tuple[str, str], tuple[str, ...]] = {}


def _feature_names(feature_set: str, level: str, smile) -> tuple[str, ...]:
    """openSMILE's column names of a feature set at a level, from `smile()` the first time, then from memory."""
    if (feature_set, level) not in _NAMES:
        _NAMES[feature_set, level] = tuple(smile().feature_names)
    return _NAMES[feature_set, level]


class OpenSmileFamily(FeatureFamily):
    """Base for the openSMILE families; subclasses fix the feature set and level."""

    Config = SmileConfig
    feature_set: str = "eGeMAPSv02"
    feature_level: str = "LowLevelDescriptors"

    def config_dict(self) -> dict:
        return {"feature_set": self.feature_set, "feature_level": self.feature_level}

    @property
    def smile(self):
        if getattr(self, "_smile", None) is None:
            import opensmile

            self._smile = opensmile.Smile(
                feature_set=opensmile.FeatureSet[self.feature_set],
                feature_level=opensmile.FeatureLevel[self.feature_level],
            )
        return self._smile

    def load(self) -> None:
        _ = self.smile

    @property
    def columns(self) -> list[str]:
        """The feature set's column names, read once per process and level (building a Smile takes about 0.5 s,
        and `study plan` declares the family once per corpus)."""
        return list(_feature_names(self.feature_set, self.feature_level, lambda: self.smile))

    @property
    def frame_rate(self) -> float:
        return 0.0 if self.feature_level == "Functionals" else 100.0

    def library_versions(self) -> dict[str, str]:
        import opensmile

        return {"opensmile": opensmile.__version__}

    def extract(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        """openSMILE calls Python back from C, where a raised KeyboardInterrupt would be printed and lost: a
        Ctrl-C meanwhile is recorded and raised once the call has returned."""
        from featbench.worker_process import InterruptGuard

        with InterruptGuard(defer=True):
            return self.smile.process_signal(signal, sample_rate).to_numpy(dtype=np.float32)


class EGeMAPSLLD(OpenSmileFamily):
    name = "egemaps-lld"
    description = "openSMILE eGeMAPSv02 low-level descriptors, 25 per 10 ms frame"


class EGeMAPSFunctionals(OpenSmileFamily):
    name = "egemaps-func"
    description = "openSMILE eGeMAPSv02 functionals, 88 per utterance"
    feature_level = "Functionals"


class ComParELLD(OpenSmileFamily):
    name = "compare-lld"
    description = "openSMILE ComParE_2016 low-level descriptors, 65 per 10 ms frame"
    feature_set = "ComParE_2016"
    # Measured: pcm_fftMag_spectralVariance_sma reaches 5e6-9e6 on every RAVDESS clip tried, so float16
    # storage would fail every clip (or, cast blindly, store inf).
    float16_refused = ("its spectral variance reaches ~1e7 on ordinary speech, beyond float16's 65504; "
                       "keep dtype=float32")
