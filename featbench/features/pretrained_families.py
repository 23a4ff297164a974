"""Pretrained speech representations as feature families: fairseq wav2vec (v1), fairseq wav2vec 2.0 /
HuBERT checkpoints, and Hugging Face model folders (wav2vec2, HuBERT, WavLM, data2vec-audio, Whisper).

Everything loads from local paths only (``local_files_only``), on the CPU unless extraction is given another
device (``--device``, `FeatureFamily.use_device`), computing in ``precision`` (float32 unless ``--precision`` or
``--set NAME.precision=bfloat16`` says otherwise; the features are stored float32 either way). ``layer`` is
``last`` (the model's final output), a layer number (0 = input to the first transformer layer,
k = output of layer k) or ``all`` (every layer side by side, columns ``Lkk_ddd``; train on one with
``--features name@L4``). The config hash covers a fingerprint of the checkpoint or model folder.

>>> from featbench.features import build_family
>>> build_family("whisper", {"layer": "all"})
Traceback (most recent call last):
featbench.errors.FeatbenchError: family 'whisper' needs the option whisper.model=PATH
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from featbench.device import Precision, place, place_like, to_numpy
from featbench.errors import FeatbenchError
from featbench.features.base import FeatureFamily
from featbench.features.pretrained_options import (
    EncoderOptions, Layer, LoadErrors, checked_shape, fingerprint, hf_config, installed_version, with_precision,
)
from featbench.encoders.runtime import (
    batchable, stitch, transformer_states, transformer_states_batch, whisper_states, whisper_states_batch,
)

SUPPORTED_HF = ("wav2vec2", "hubert", "wavlm", "data2vec-audio", "whisper")


class _PretrainedFamily(FeatureFamily):
    """Shared by the pretrained families: a path option, lazy model loading, layer selection."""

    path_option = "checkpoint"
    accelerated = True

    def validate(self) -> None:
        self.precision = Precision.parse(self.config.precision, f"{self.name}.precision")
        value = getattr(self.config, self.path_option)
        if not value:
            raise FeatbenchError(f"family '{self.name}' needs the option {self.name}.{self.path_option}=PATH")
        if not Path(value).exists():
            raise FeatbenchError(f"{value}: not found (option {self.name}.{self.path_option})")
        if self.audio.sample_rate != 16000:
            raise FeatbenchError(f"family '{self.name}' needs 16 kHz audio, not {self.audio.sample_rate} Hz")
        if hasattr(self.config, "layer"):
            self.layer = Layer.parse(self.config.layer)
        if hasattr(self.config, "chunk_seconds"):
            chunk, overlap = self.config.chunk_seconds, self.config.overlap_seconds
            if chunk < 0.1 or not 0 <= overlap < chunk / 2:
                raise FeatbenchError(f"{self.name}: chunk_seconds must be >= 0.1 and 0 <= overlap_seconds < "
                                     f"chunk_seconds / 2 (got {chunk} and {overlap})")

    model_kind = "model"  # named in loading errors

    def _loading(self, what: str):
        """Context manager: any failure while loading the model becomes one line naming the path."""
        return LoadErrors(getattr(self.config, self.path_option), f"{self.name}.{self.path_option}", what)

    @property
    def model(self):
        """The network, loaded on first use (after pickling to a worker too) from the local path, on the family's
        device in its precision."""
        if getattr(self, "_model", None) is None:
            with self._loading(self.model_kind):
                self._model = place(self._build_model(), self.device, self.precision)
        return self._model

    def load(self) -> None:
        _ = self.model

    @property
    def n_layers(self) -> int:
        return self._transformer_layers() + 1 if getattr(self, "layer", None) is not None and self.layer.is_all else 0

    def config_dict(self) -> dict:
        d = with_precision(super().config_dict(), self.precision)  # float32 leaves the config hash as it was
        d[self.path_option] = str(Path(d[self.path_option]).expanduser().resolve())
        return d

    def library_versions(self) -> dict[str, str]:
        """torch's and transformers' versions as installed (read from their metadata: importing them would cost
        `study plan` 2 s) and the model's fingerprint."""
        versions = {"torch": (installed_version("torch") or "not installed").split("+")[0],
                    "model_fingerprint": fingerprint(Path(getattr(self.config, self.path_option)))}
        if (transformers := installed_version("transformers")) is not None:
            versions["transformers"] = transformers  # only the wav2vec (v1) family works without transformers
        return versions

    def _select(self, states: np.ndarray, final: np.ndarray | None = None) -> np.ndarray:
        """(L + 1, T, D) -> (T, D) for one layer, (T, (L + 1) * D) for all, or the final output for 'last'."""
        if self.layer.is_all:
            return np.ascontiguousarray(states.transpose(1, 0, 2).reshape(states.shape[1], -1), dtype=np.float32)
        if self.layer.is_last:
            return np.asarray(final if final is not None else states[-1], dtype=np.float32)
        return np.asarray(states[self.layer.index], dtype=np.float32)

    def _final(self, model, last: np.ndarray) -> np.ndarray | None:
        """The encoder's final LayerNorm of pre-LN models, for layer='last'; None otherwise."""
        import torch

        if self.layer.is_last and getattr(model.config, "do_stable_layer_norm", False):
            with torch.no_grad():
                return to_numpy(model.encoder.layer_norm(place_like(torch.from_numpy(last), model)))
        return None

    def _wav2vec_style_batch(self, model, signals: list[np.ndarray]) -> list[np.ndarray]:
        """Clips within one window go through the model together when that is exact (see `batchable`)."""
        window = int(self.config.chunk_seconds * 16000)
        short = [i for i, s in enumerate(signals) if len(s) <= window]
        if not batchable(model) or len(short) < 2:
            return [self._wav2vec_style(model, s) for s in signals]
        out = [None] * len(signals)
        for i, states in zip(short, transformer_states_batch(model, [signals[i] for i in short])):
            out[i] = self._select(states, self._final(model, states[-1]))
        for i in set(range(len(signals))) - set(short):
            out[i] = self._wav2vec_style(model, signals[i])
        return out

    def _wav2vec_style(self, model, signal: np.ndarray) -> np.ndarray:
        """Chunked, stitched layers of a wav2vec 2.0-style transformers model, then the chosen layer(s)."""
        states = stitch(len(signal), self.config.chunk_seconds, self.config.overlap_seconds,
                        lambda s, e: transformer_states(model, signal[s:e]))
        return self._select(states, self._final(model, states[-1]))

    def _columns(self, n_layers: int, dim: int) -> list[str]:
        if self.layer.is_all:
            from featbench.layers import layer_column_names

            return layer_column_names(n_layers + 1, dim)
        return [f"d{d:03d}" for d in range(dim)]


@dataclass(frozen=True)
class Wav2Vec1Config:
    checkpoint: str = ""
    output: str = "c"
    precision: str = "float32"


W2V1_OUTPUTS = {"c": "context network", "z": "feature encoder", "q": "quantized features (vq-wav2vec)",
                "codes": "code indices per group (vq-wav2vec)"}


class Wav2Vec1(_PretrainedFamily):
    """fairseq wav2vec and vq-wav2vec checkpoints (``wav2vec_large.pt``, ``vq-wav2vec.pt``, ``vq-wav2vec_kmeans.pt``).

    ``output``: ``c`` (the context network's output; on vq-wav2vec it runs on the quantized features, as in
    fairseq), ``z`` (the feature encoder's), and for vq-wav2vec ``q`` (the quantized features, columns
    ``q000``...) or ``codes`` (the chosen codeword of each group, columns ``code_g0``, ``code_g1``...: whole
    numbers 0..vq_vars-1 stored as float32, exact; they are categories, so a mean of them means little).
    """

    name = "wav2vec1"
    description = ("fairseq wav2vec / vq-wav2vec (2019) checkpoint without fairseq, 100 Hz: output=c (context, default), "
                   "z (encoder), q (quantized) or codes (code index per group, as float32)")
    Config = Wav2Vec1Config

    def validate(self) -> None:
        super().validate()
        output = self.config.output
        if output not in W2V1_OUTPUTS:
            raise FeatbenchError(f"wav2vec1.output={output!r}: choose {', '.join(W2V1_OUTPUTS)}")
        if output not in ("c", "z") and output not in self.model.dims:  # loads the checkpoint: before any clip
            raise FeatbenchError(f"wav2vec1.output={output}: {self.config.checkpoint} is wav2vec without a quantizer "
                                 "(vq_type='none'); its outputs are c and z")

    model_kind = "wav2vec checkpoint"

    def _build_model(self):
        from featbench.encoders.checkpoint import load_checkpoint, model_config
        from featbench.encoders.wav2vec1 import Wav2VecV1, Wav2VecV1Config

        state = load_checkpoint(self.config.checkpoint)
        args, _ = model_config(state, self.config.checkpoint)
        return Wav2VecV1.from_fairseq(Wav2VecV1Config.from_args(args, self.config.checkpoint), state["model"],
                                      self.config.checkpoint)

    @property
    def columns(self) -> list[str]:
        output = self.config.output
        if output == "codes":
            return [f"code_g{g}" for g in range(self.model.dims["codes"])]
        return [f"{output}{d:03d}" for d in range(self.model.dims[output])]

    @property
    def frame_rate(self) -> float:
        stride = int(np.prod([s for _, _, s in self.model.cfg.feature_layers]))
        return 16000 / stride

    def extract(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        import torch

        with torch.no_grad():
            out = self.model.encode(place_like(torch.from_numpy(np.ascontiguousarray(signal)).reshape(1, -1),
                                               self.model))[self.config.output]
        return to_numpy(out[0] if self.config.output == "codes" else out[0].T).astype(np.float32)


@dataclass(frozen=True)
class FairseqConfig(EncoderOptions):
    checkpoint: str = ""


class FairseqTransformer(_PretrainedFamily):
    name = "fairseq"
    description = "fairseq wav2vec 2.0 / HuBERT checkpoint without fairseq (mapped onto transformers), 50 Hz"
    Config = FairseqConfig

    def validate(self) -> None:
        super().validate()
        self.layer.check(self._transformer_layers(), self.name)  # loads the checkpoint: a bad one fails here

    model_kind = "fairseq checkpoint"

    def _transformer_layers(self) -> int:
        return self.model.config.num_hidden_layers

    def _build_model(self):
        from featbench.encoders.checkpoint import load_checkpoint, model_config
        from featbench.encoders.fairseq_transformer import build_hf_model

        state = load_checkpoint(self.config.checkpoint)
        model_cfg, task_cfg = model_config(state, self.config.checkpoint)
        self._normalize = bool(task_cfg.get("normalize", False))
        return build_hf_model(state["model"], model_cfg, self.config.checkpoint)

    @property
    def columns(self) -> list[str]:
        cfg = self.model.config
        return self._columns(cfg.num_hidden_layers, cfg.hidden_size)

    @property
    def frame_rate(self) -> float:
        return 50.0

    def extract(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        return self.extract_batch([signal], sample_rate)[0]

    def extract_batch(self, signals: list[np.ndarray], sample_rate: int) -> list[np.ndarray]:
        import torch

        model = self.model
        if self._normalize:  # as fairseq's dataset does when task.normalize=True, per clip
            signals = [torch.nn.functional.layer_norm(torch.from_numpy(s), s.shape).numpy() for s in signals]
        return self._wav2vec_style_batch(model, signals)


@dataclass(frozen=True)
class HFConfig(EncoderOptions):
    model: str = ""
    whisper_mode: str = "adaptive"


class HFFamily(_PretrainedFamily):
    name = "hf"
    description = "Hugging Face model folder (wav2vec2, HuBERT, WavLM, data2vec-audio, Whisper encoder), any layer, 50 Hz"
    Config = HFConfig
    path_option = "model"

    def validate(self) -> None:
        """Options, the folder's config.json, the model type and the layer number: all before any clip."""
        super().validate()
        if self.config.whisper_mode not in ("adaptive", "padded"):
            raise FeatbenchError(f"{self.name}.whisper_mode must be 'adaptive' or 'padded', not '{self.config.whisper_mode}'")
        if not (Path(self.config.model) / "config.json").is_file():
            raise FeatbenchError(f"{self.config.model}: not a Hugging Face model folder (no config.json)")
        if installed_version("transformers") is None:
            raise FeatbenchError(f"family '{self.name}' needs the transformers package (pip install 'featbench[hf]')")
        with self._loading("model configuration"):
            config = hf_config(Path(self.config.model))
        if config.model_type not in SUPPORTED_HF:
            raise FeatbenchError(f"{self.config.model}: model type {str(config.model_type)[:80]!r} is not supported "
                                 f"({', '.join(SUPPORTED_HF)})")
        self.model_type = config.model_type
        whisper = self.model_type == "whisper"
        self.shape = checked_shape(config.encoder_layers if whisper else config.num_hidden_layers,
                                   config.d_model if whisper else config.hidden_size, self.config.model)
        if whisper and self.config.chunk_seconds > 30:
            raise FeatbenchError(f"{self.name}.chunk_seconds={self.config.chunk_seconds}: Whisper windows are at most 30 s")
        self.layer.check(self.shape[0], self.name)

    def _transformer_layers(self) -> int:
        return self.shape[0]

    def _build_model(self):
        import torch
        from transformers import AutoFeatureExtractor, AutoModel
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self._extractor = AutoFeatureExtractor.from_pretrained(self.config.model, local_files_only=True,
                                                               trust_remote_code=False)
        model = AutoModel.from_pretrained(self.config.model, local_files_only=True, dtype=torch.float32,
                                          trust_remote_code=False)
        return (model.get_encoder() if self.model_type == "whisper" else model).eval()

    @property
    def columns(self) -> list[str]:
        return self._columns(*self.shape)

    @property
    def frame_rate(self) -> float:
        return 50.0

    def extract(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        return self.extract_batch([signal], sample_rate)[0]

    def _whisper_select(self, states: np.ndarray) -> np.ndarray:
        import torch

        final = None
        if self.layer.is_last:
            with torch.no_grad():
                final = to_numpy(self.model.layer_norm(place_like(torch.from_numpy(states[-1]), self.model)))
        return self._select(states, final)

    def extract_batch(self, signals: list[np.ndarray], sample_rate: int) -> list[np.ndarray]:
        """Batched where exact: Whisper windows (padded, or with an attention mask), and layer-norm wav2vec 2.0-style
        front ends."""
        model = self.model
        if self.model_type == "whisper":
            chunk = min(self.config.chunk_seconds, 30.0)
            mode = self.config.whisper_mode
            out: list = [None] * len(signals)
            short = [i for i, s in enumerate(signals) if len(s) <= chunk * 16000]
            if len(short) > 1:
                for i, states in zip(short, whisper_states_batch(model, self._extractor, [signals[i] for i in short], mode)):
                    out[i] = self._whisper_select(states)
            for i, signal in enumerate(signals):
                if out[i] is None:
                    out[i] = self._whisper_select(stitch(len(signal), chunk, self.config.overlap_seconds,
                                                         lambda s, e, x=signal: whisper_states(model, self._extractor, x[s:e], mode)))
            return out
        if getattr(self._extractor, "do_normalize", False):  # the model's own per-clip normalisation, before chunking
            signals = [(s - s.mean()) / np.sqrt(s.var() + 1e-7) for s in signals]
        return self._wav2vec_style_batch(model, signals)


class WhisperEncoderLayers(HFFamily):
    """Alias of `hf` for readability in stores: `--features whisper --set whisper.model=PATH`."""

    name = "whisper"
    description = "alias of hf for a Whisper model folder (encoder only)"
