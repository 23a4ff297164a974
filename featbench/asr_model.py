"""The Whisper folder of `featbench transcribe`: checked before any clip (`check_asr_model`), loaded once per
worker (`load_asr`), and transformers kept quiet meanwhile.

>>> AsrModel("/models/whisper-base", "whisper-base", "abc123", language="en").name
'whisper-base'
"""
from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterator

from featbench.errors import FeatbenchError
from featbench.schema import MapOf, check


@dataclass(frozen=True)
class AsrModel:
    """A checked Whisper folder: what workers load, and what every transcript row records.

    path: the resolved folder; name: its name (the `model` column); fingerprint: content fingerprint
    (the `model_fingerprint` column, part of the resume key); language: the forced language code, or None
    to detect it per clip; multilingual: False for English-only models.
    """

    path: str
    name: str
    fingerprint: str
    language: str | None = None
    multilingual: bool = True


def _language_code(language: str | None, generation_config, path: Path) -> str | None:
    """'en', 'English', '<|en|>' -> 'en', checked against the model's languages; None stays None."""
    if language is None:
        return None
    from transformers.models.whisper.tokenization_whisper import TO_LANGUAGE_CODE

    text = str(language).strip().lower()
    code = TO_LANGUAGE_CODE.get(text, text.strip("<|>"))
    if not getattr(generation_config, "is_multilingual", True):
        if code != "en":
            raise FeatbenchError(f"--language {language}: {path} is an English-only Whisper model")
        return "en"
    known = sorted(t.strip("<|>") for t in (generation_config.lang_to_id or {}))
    if code not in known:
        raise FeatbenchError(f"--language {language}: not a language of {path.name} (give a code such as en, de, fr "
                             f"or a name such as english; it knows {len(known)}: {', '.join(known[:12])}, ...)")
    return code


def _check_files(path: Path) -> None:
    """The files besides config.json and the weights that a Whisper speech-recognition folder needs."""
    if not ((path / "tokenizer.json").is_file() or (path / "vocab.json").is_file()):
        raise FeatbenchError(f"{path}: no tokenizer (tokenizer.json, or vocab.json + merges.txt); transcribe needs "
                             "a Whisper folder saved with its tokenizer (WhisperProcessor.save_pretrained)")
    if not (path / "preprocessor_config.json").is_file():
        raise FeatbenchError(f"{path}: no preprocessor_config.json (the Whisper feature extractor); "
                             "save the folder with WhisperProcessor.save_pretrained")


_TOKEN_IDS = MapOf(int, "an object of token -> id")
GENERATION_SCHEMA = {"lang_to_id?": _TOKEN_IDS, "task_to_id?": _TOKEN_IDS, "no_timestamps_token_id?": int,
                     "is_multilingual?": bool}
"""The fields of generation_config.json that featbench reads (a missing one is named by check_asr_model)."""


def _check_generation_file(path: Path) -> None:
    """The Whisper generation settings featbench reads must have their types: one line naming the field.

    >>> import tempfile; p = Path(tempfile.mkdtemp()) / "generation_config.json"; _ = p.write_text('{"lang_to_id": [1]}')
    >>> _check_generation_file(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: .../generation_config.json: field 'lang_to_id' must be an object of token -> id (got list)
    """
    try:
        settings = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise FeatbenchError(f"{path}: unreadable ({str(err).splitlines()[0]})") from None
    check(settings, GENERATION_SCHEMA, path)


def check_asr_model(path: str | Path, language: str | None = None) -> AsrModel:
    """Check a Whisper folder and a language before any clip is read; FeatbenchError (one line) otherwise.

    The folder must hold a Whisper encoder-decoder (config.json with model_type 'whisper'), a tokenizer, a
    feature extractor and Whisper's generation settings (generation_config.json with the language and task
    tokens); the weights are loaded once here so that a damaged file fails now. `language` must be one the
    model knows. Returns the AsrModel that `transcribe.run_transcription` takes.
    """
    from featbench.features.pretrained_options import LoadErrors, fingerprint

    path = Path(path).expanduser()
    if not path.exists():
        raise FeatbenchError(f"{path}: not found (--model)")
    if not (path / "config.json").is_file():
        raise FeatbenchError(f"{path}: not a Hugging Face model folder (no config.json)")
    try:
        from transformers import AutoConfig, GenerationConfig
    except ImportError:
        raise FeatbenchError("transcribe needs the transformers package (pip install 'featbench[hf]')") from None
    with LoadErrors(path, "--model", "model configuration"), quiet_transformers():
        config = AutoConfig.from_pretrained(path, local_files_only=True, trust_remote_code=False)
    if config.model_type != "whisper" or not getattr(config, "is_encoder_decoder", False):
        raise FeatbenchError(f"{path}: model type '{config.model_type}' is not a Whisper speech-recognition model "
                             "(transcribe needs a Whisper encoder-decoder folder with its tokenizer)")
    _check_files(path)
    try:
        with quiet_transformers():
            generation = GenerationConfig.from_pretrained(path, local_files_only=True)
    except OSError:
        generation = None
    if generation is not None:
        _check_generation_file(path / "generation_config.json")
    needed = ["no_timestamps_token_id", "lang_to_id", "task_to_id"] if getattr(generation, "is_multilingual", True) \
        else ["no_timestamps_token_id"]
    if generation is None or any(not getattr(generation, name, None) for name in needed):
        raise FeatbenchError(f"{path}: no Whisper generation settings (generation_config.json with "
                             f"{', '.join(needed)}); save the model with its generation config")
    code = _language_code(language, generation, path)
    spec = AsrModel(path=str(path.resolve()), name=path.resolve().name, fingerprint=fingerprint(path),
                    language=code, multilingual=bool(getattr(generation, "is_multilingual", True)))
    load_asr(spec)  # weights and tokenizer open now, so that a damaged file fails before any clip
    return spec


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """No progress bars or generation advice from transformers within the block (one line per error is ours)."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        hf_logging.enable_progress_bar()


def load_asr(spec: AsrModel, device=None) -> tuple:
    """(model, processor, spec) for `transcribe_batch`: float32, local files only, once per worker, on this worker's
    `device` (a `featbench.device.Device`, None: the CPU; worker i of n GPUs: cuda:(i mod n))."""
    import torch
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    from featbench.device import CPU, place
    from featbench.features.pretrained_options import LoadErrors
    from featbench.worker_process import worker_index

    on = (device or CPU).for_worker(worker_index()).activate()
    with LoadErrors(spec.path, "--model", "Whisper model and tokenizer"), quiet_transformers():
        processor = WhisperProcessor.from_pretrained(spec.path, local_files_only=True)
        model = WhisperForConditionalGeneration.from_pretrained(spec.path, local_files_only=True, dtype=torch.float32)
    return place(model.eval(), on), processor, spec
