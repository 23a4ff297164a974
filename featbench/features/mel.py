"""What the mel families (`fbank`, `mfcc`) share: the window, hop and mel options, their checks, a cached
librosa mel filter bank and the mel power spectrogram.

>>> from featbench.features import build_family
>>> build_family("mfcc", {"hop_ms": 20}).frame_rate
50.0
>>> build_family("mfcc", {"fmax": 9000})
Traceback (most recent call last):
featbench.errors.FeatbenchError: mfcc.fmax=9000: above the Nyquist frequency 8000 Hz of 16000 Hz audio (the bands above it would be constant); use at most that, or 0 for sample_rate / 2
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from featbench.errors import FeatbenchError
from featbench.features.base import FeatureFamily


@dataclass(frozen=True)
class MelConfig:
    """The options of every mel family (defaults: 80 bands, 25 ms window, 10 ms hop)."""

    n_mels: int = 80
    win_ms: float = 25.0
    hop_ms: float = 10.0
    n_fft: int = 512
    fmin: float = 0.0
    fmax: float = 0.0  # 0 means sample_rate / 2
    log_floor: float = 1e-10
    center: bool = True


MAX_N_FFT = 1 << 18  # 5.5 s at 48 kHz; a larger value only allocates


def empty_bands(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> int:
    """How many bands of librosa's mel filter bank (`librosa.filters.mel`, Slaney scale) contain no FFT bin: band i
    spans the open interval between mel points i and i + 2, and is empty when no bin's centre lies inside it.
    Counted from the band edges alone, so that checking a family (`study plan` checks every family of a study)
    does not import librosa.filters, which imports scipy.signal (about 1 s); a test holds it equal to the count
    of all-zero rows of the real filter bank.

    >>> empty_bands(16000, 512, 80, 0.0, 8000.0), empty_bands(16000, 64, 80, 0.0, 8000.0)
    (0, 32)
    """
    from librosa.core.convert import fft_frequencies, mel_frequencies

    edges = mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax)
    bins = fft_frequencies(sr=sample_rate, n_fft=n_fft)
    inside = np.searchsorted(bins, edges[2:], side="left") - np.searchsorted(bins, edges[:-2], side="right")
    return int((inside <= 0).sum())


class MelFamily(FeatureFamily):
    """Base of the families computed from librosa's mel power spectrogram (`Config` extends MelConfig)."""

    def validate(self) -> None:
        c, rate, name = self.config, self.audio.sample_rate, self.name
        win = int(round(c.win_ms * rate / 1000))
        if win > c.n_fft:
            raise FeatbenchError(f"{name}: window {win} samples exceeds n_fft {c.n_fft}; raise n_fft")
        if c.n_mels < 1 or c.hop_ms <= 0 or c.win_ms <= 0 or c.log_floor <= 0 or c.n_fft < 2:
            raise FeatbenchError(f"{name}: n_mels >= 1, win_ms > 0, hop_ms > 0, n_fft >= 2 and log_floor > 0 are required")
        if c.n_fft > MAX_N_FFT:
            raise FeatbenchError(f"{name}.n_fft={c.n_fft}: at most {MAX_N_FFT} (a window of seconds, not a frame)")
        bins = 1 + c.n_fft // 2
        if c.n_mels > 2 * bins:  # each bin lies inside at most two bands: the rest are empty, counted without arrays
            raise FeatbenchError(f"{name}.n_mels={c.n_mels}: at least {c.n_mels - 2 * bins} of the bands contain no FFT "
                                 f"bin at n_fft={c.n_fft} (they would be constant); lower n_mels or raise n_fft")
        top = c.fmax or rate / 2
        if c.fmax < 0 or top > rate / 2:
            raise FeatbenchError(f"{name}.fmax={c.fmax:g}: above the Nyquist frequency {rate / 2:g} Hz of {rate} Hz audio "
                                 "(the bands above it would be constant); use at most that, or 0 for sample_rate / 2")
        if not 0 <= c.fmin < top:
            raise FeatbenchError(f"{name}.fmin={c.fmin:g}: must be at least 0 and below fmax ({top:g} Hz); "
                                 "otherwise every band is constant")
        if win < 1 or int(round(c.hop_ms * rate / 1000)) < 1:
            raise FeatbenchError(f"{name}: win_ms={c.win_ms:g} and hop_ms={c.hop_ms:g} must each span at least one "
                                 f"sample at {rate} Hz")
        empty = empty_bands(rate, c.n_fft, c.n_mels, c.fmin, c.fmax or rate / 2)
        if empty:
            raise FeatbenchError(f"{name}.n_mels={c.n_mels}: {empty} of the bands contain no FFT bin at n_fft={c.n_fft} "
                                 "(they would be constant); lower n_mels or raise n_fft")

    @property
    def frame_rate(self) -> float:
        return 1000.0 / self.config.hop_ms

    def library_versions(self) -> dict[str, str]:
        import librosa

        return {"librosa": librosa.__version__}

    def load(self) -> None:
        """Import librosa's STFT, build the mel filter bank and run it once on silence (its first call compiles
        and imports lazily, about 2 s), so that the first clip is as fast as the others. The silence lasts 0.1 s,
        or as long as the family's shortest usable clip (`min_frames`: mfcc's delta window) when that is longer."""
        rate = self.audio.sample_rate
        self.extract(np.zeros(max(rate // 10, self.samples_for(self.min_frames, rate)), np.float32), rate)

    @property
    def min_frames(self) -> int:
        """Frames the shortest clip this family can extract has (a subclass with a window over frames says more)."""
        return 1

    def samples_for(self, frames: int, sample_rate: int) -> int:
        """Samples that give at least `frames` frames (centred frames: one per hop; uncentred: n_fft, then a hop each).

        >>> from featbench.features import build_family
        >>> build_family("mfcc", {"hop_ms": 20}).samples_for(9, 16000), build_family("fbank", {"center": False}).samples_for(1, 16000)
        (2880, 512)
        """
        c = self.config
        hop = int(round(c.hop_ms * sample_rate / 1000))
        return frames * hop if c.center else c.n_fft + (frames - 1) * hop

    def _mel_basis(self, sample_rate: int) -> np.ndarray:
        """librosa's mel filter bank for this config, built once per sample rate: (n_mels, 1 + n_fft // 2) float32.

        librosa.feature.melspectrogram rebuilds it on every call (about a quarter of its time on RAVDESS
        clips). Kept under a private name, so it is not pickled to worker processes (rebuilt there).
        """
        cache = self.__dict__.setdefault("_mel_bases", {})
        if sample_rate not in cache:
            import librosa.filters

            c = self.config
            with warnings.catch_warnings():  # librosa warns about empty bands; validate() refuses them in its words
                warnings.simplefilter("ignore")
                cache[sample_rate] = librosa.filters.mel(sr=sample_rate, n_fft=c.n_fft, n_mels=c.n_mels,
                                                         fmin=c.fmin, fmax=c.fmax or None)
        return cache[sample_rate]

    def mel_power(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        """The mel power spectrogram, (n_mels, frames): what librosa.feature.melspectrogram(power=2) computes (hann
        window, zero padding), with the filter bank cached and without importing librosa.feature's spectral
        module (whose import costs ~0.5 s more)."""
        from librosa.core.spectrum import stft

        c = self.config
        spectrum = stft(signal, n_fft=c.n_fft, win_length=int(round(c.win_ms * sample_rate / 1000)),
                        hop_length=int(round(c.hop_ms * sample_rate / 1000)), center=c.center,
                        window="hann", pad_mode="constant")
        return self._mel_basis(sample_rate) @ (np.abs(spectrum) ** 2)
