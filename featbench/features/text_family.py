"""The `text` family: token-level hidden states of a local Hugging Face text encoder (BERT, RoBERTa,
MiniLM, ...) over each utterance's transcript.

One row per word-piece (sub-word) token of the transcript, row kind ``tokens``. The tokenizer's special
tokens ([CLS], [SEP], <s>, </s>) go through the model as it was trained, but their rows are not stored:
row k is the k-th token of ``tokenizer.tokenize(transcript)``. The store keeps each row's token string
beside it (``tokens``), and each utterance's transcript (``text``) and where it came from
(``text_source``): ``read_family(store, "text").tokens(uid)``.

Options (``--set text.option=value``):

- ``model=FOLDER``: a local Hugging Face text encoder folder with its tokenizer (a model type that
  transformers gives a masked-language-model head: BERT, RoBERTa, MiniLM, DistilBERT, DeBERTa, ...).
  A fingerprint of the folder is part of the config hash, so a different model never mixes into a store.
- ``layer=last`` (the model's final output), a number (0 = the embeddings, k = the output of layer k)
  or ``all`` (every hidden state side by side, columns ``Lkk_ddd``, train on ``text@L3``, ``text@all``,
  ``text@auto``, ``text@weighted``).
- ``source=auto`` (the corpus transcript when it is not empty, else the ASR transcript in
  ``<store>/transcripts.csv`` made by ``featbench transcribe``), ``corpus`` or ``asr``.
- ``max_tokens=512``: at most this many tokens per transcript, special tokens included, and never more
  than the model's positions (the smaller is used, and recorded in the config); longer transcripts are
  truncated.

- ``precision=float32`` (float16 or bfloat16: the encoder computes in that type, see `featbench.device`).

Encoding is under ``torch.no_grad``, on the CPU unless extraction is given another device (``--device``);
several transcripts are sorted by length and
padded with an attention mask (within float rounding of one at a time). The per-clip resume hash is a hash
of the transcript encoded (`text_hash`), so a changed transcript is encoded again.

>>> from featbench.features import build_family
>>> build_family("text", {"layer": "all"})
Traceback (most recent call last):
featbench.errors.FeatbenchError: family 'text' needs the option text.model=PATH (a local Hugging Face text encoder folder)
>>> TextSource.parse("ASR"), text_hash(" Kids are talking by the door. ") == text_hash("Kids are talking by the door.")
(<TextSource.ASR: 'asr'>, True)
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from featbench.errors import FeatbenchError
from featbench.features.base import TextFeatureFamily
from featbench.device import Precision, place, to_numpy
from featbench.features.pretrained_options import Layer, LoadErrors, checked_shape, fingerprint, with_precision
from featbench.row_kinds import RowKind

# Files a tokenizer is loaded from; transformers >= 5 builds an empty tokenizer (special tokens only) without them.
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model",
                   "tokenizer.model", "spm.model")
# Model types whose positions start after the padding index (max_position_embeddings counts 2 more).
_OFFSET_POSITIONS = ("roberta", "xlm-roberta", "xlm-roberta-xl", "roberta-prelayernorm", "camembert", "longformer",
                     "data2vec-text", "xmod", "mpnet", "luke", "ibert")
MAX_BATCH = 32  # transcripts per padded forward pass


class TextSource(str, Enum):
    """Where a transcript comes from.

    - AUTO: the corpus transcript when it is not empty, else the ASR one
    - CORPUS: the corpus table's ``transcript`` column (IEMOCAP transcriptions, a CSV manifest's column)
    - ASR: ``<store>/transcripts.csv``, written by ``featbench transcribe``
    """

    AUTO = "auto"
    CORPUS = "corpus"
    ASR = "asr"

    @classmethod
    def parse(cls, text) -> TextSource:
        value = str(text).strip().lower()
        try:
            return cls(value)
        except ValueError:
            raise FeatbenchError(f"text.source must be 'auto', 'corpus' or 'asr', not '{value}'") from None


def clean_text(text) -> str:
    """The transcript as encoded: surrounding white space removed."""
    return str(text).strip()


def text_hash(text) -> str:
    """The per-clip resume hash of a text family: sha256 (16 hex digits) of the transcript encoded."""
    return hashlib.sha256(clean_text(text).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Transcript:
    """The transcript chosen for one utterance: its text, where it came from ('corpus' or 'asr:<model>'),
    and why it cannot be used ('' when it can)."""

    text: str
    source: str
    problem: str = ""


def choose_transcripts(source: TextSource, ids: list[str], corpus: dict[str, str],
                       asr: dict[str, tuple[str, str, str]], family: str = "text",
                       store: str = "the store") -> dict[str, Transcript]:
    """{id: Transcript} for `ids` by the `source` rule. `corpus` maps id -> corpus transcript; `asr` maps
    id -> (text, ASR model name, problem) from the store's transcripts ('' problem when usable).

    With no usable transcript at all for the chosen source, one FeatbenchError line (before any clip);
    otherwise a clip without one is a Transcript with a `problem` (a per-clip failure).

    >>> choose_transcripts(TextSource.AUTO, ["a", "b"], {"a": "Hi.", "b": ""}, {"b": ("Yes.", "whisper-base", "")})["b"]
    Transcript(text='Yes.', source='asr:whisper-base', problem='')
    >>> choose_transcripts(TextSource.CORPUS, ["a"], {"a": " "}, {})
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: text.source=corpus: the corpus has no transcripts for these 1 clips; give a 'transcript' column (a CSV manifest) or use text.source=asr after `featbench transcribe`
    """
    corpus = {uid: clean_text(corpus.get(uid, "")) for uid in ids}
    asr = {uid: (clean_text(t), model, problem) for uid, (t, model, problem) in asr.items() if uid in set(ids)}
    have_corpus = any(corpus.values())
    have_asr = any(t for t, _, _ in asr.values())
    run = f"run `featbench transcribe` into {store}"
    if source is TextSource.CORPUS and not have_corpus:
        raise FeatbenchError(f"{family}.source=corpus: the corpus has no transcripts for these {len(ids)} clips; give a "
                             f"'transcript' column (a CSV manifest) or use {family}.source=asr after `featbench transcribe`")
    if source is TextSource.ASR and not have_asr:
        raise FeatbenchError(f"{family}.source=asr: {store} holds no ASR transcript of these {len(ids)} clips; {run} first")
    if source is TextSource.AUTO and not have_corpus and not have_asr:
        raise FeatbenchError(f"{family}: no transcripts for these {len(ids)} clips (the corpus has none and {store} holds "
                             f"no ASR transcripts); {run}, or give a 'transcript' column (a CSV manifest)")
    chosen = {}
    for uid in ids:
        if source is not TextSource.ASR and corpus[uid]:
            chosen[uid] = Transcript(corpus[uid], "corpus")
            continue
        text, model, problem = asr.get(uid, ("", "", ""))
        label = f"asr:{model}" if model else "asr"
        if source is TextSource.CORPUS:
            chosen[uid] = Transcript("", "corpus", "empty transcript in the corpus")
        elif problem:
            chosen[uid] = Transcript("", label, problem)
        elif text:
            chosen[uid] = Transcript(text, label)
        elif uid in asr:
            chosen[uid] = Transcript("", label, "empty ASR transcript (no speech recognised)")
        else:
            where = "no corpus transcript and " if source is TextSource.AUTO else ""
            chosen[uid] = Transcript("", "asr", f"{where}no ASR transcript in the store ({run})")
    return chosen


def _count(number, folder: str, where: str) -> int | None:
    """A size from a model folder's files (None when absent): a whole number of at least 0 (a float of the
    tokenizer's "no limit" kind, 1e30, is taken whole), or FeatbenchError naming the folder and the field.

    >>> _count(512, "m", "x"), _count(None, "m", "x"), _count(1e30, "m", "x") > 1 << 30
    (512, None, True)
    """
    if number is None:
        return None
    if isinstance(number, bool) or not isinstance(number, (int, float)) or number != number or number < 0:
        raise FeatbenchError(f"{folder}: {where} is {str(number)[:40]!r}, not a whole number of at least 0")
    return int(min(number, 1 << 62))

@dataclass(frozen=True)
class TextConfig:
    model: str = ""
    layer: str = "last"
    source: str = "auto"
    max_tokens: int = 512
    precision: str = "float32"


class TextEncoder(TextFeatureFamily):
    """Token-level hidden states of a Hugging Face text encoder; special tokens are not stored (see module)."""

    name = "text"
    description = ("token-level hidden states of a local Hugging Face text encoder (BERT, RoBERTa, MiniLM) over "
                   "each transcript, special tokens excluded")
    Config = TextConfig
    accelerated = True

    def validate(self) -> None:
        """Options, the folder, its model type, tokenizer and layer count: all before any clip."""
        self.precision = Precision.parse(self.config.precision, f"{self.name}.precision")
        value = self.config.model
        if not value:
            raise FeatbenchError(f"family '{self.name}' needs the option {self.name}.model=PATH "
                                 "(a local Hugging Face text encoder folder)")
        folder = Path(value).expanduser()
        if not folder.exists():
            raise FeatbenchError(f"{value}: not found (option {self.name}.model)")
        if not (folder / "config.json").is_file():
            raise FeatbenchError(f"{value}: not a Hugging Face model folder (no config.json)")
        self.layer = Layer.parse(self.config.layer)
        self.source = TextSource.parse(self.config.source)
        try:
            from transformers import AutoConfig
            from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES
        except ImportError:
            raise FeatbenchError(f"family '{self.name}' needs the transformers package (pip install 'featbench[hf]')") from None
        with self._loading("model configuration"):
            config = AutoConfig.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
        kind = getattr(config, "model_type", "")
        if kind not in MODEL_FOR_MASKED_LM_MAPPING_NAMES or getattr(config, "is_encoder_decoder", False):
            raise FeatbenchError(f"{value}: model type '{kind}' is not a text encoder (option {self.name}.model takes "
                                 "a BERT, RoBERTa, MiniLM, ... folder)")
        self.shape = checked_shape(getattr(config, "num_hidden_layers", None), getattr(config, "hidden_size", None), value)
        self.layer.check(self.shape[0], self.name)
        if not any((folder / name).is_file() for name in TOKENIZER_FILES):
            raise FeatbenchError(f"{value}: no tokenizer in the folder (none of {', '.join(TOKENIZER_FILES)})")
        tokenizer = self.tokenizer
        with self._loading("tokenizer"):  # a special token outside the vocabulary sends transformers into a loop
            size, specials = len(tokenizer), set(tokenizer.all_special_ids)
            least = tokenizer.num_special_tokens_to_add() + 1
            trial = list(tokenizer("the")["input_ids"])
        if size <= len(specials):
            raise FeatbenchError(f"{value}: the tokenizer has no vocabulary besides its special tokens")
        if not trial or not all(isinstance(i, int) and 0 <= i < size for i in trial):
            raise FeatbenchError(f"{value}: the tokenizer encodes 'the' as {str(trial)[:60]}, ids outside its "
                                 f"vocabulary of {size}")
        vocab = _count(getattr(config, "vocab_size", None), value, "config.json vocab_size")
        if vocab and len(tokenizer) > vocab:
            raise FeatbenchError(f"{value}: the tokenizer has {size} tokens, the model only {vocab}")
        limit = _count(getattr(config, "max_position_embeddings", None), value, "config.json max_position_embeddings") or 1 << 30
        if kind in _OFFSET_POSITIONS:
            limit -= (_count(getattr(config, "pad_token_id", None), value, "config.json pad_token_id") or 0) + 1
        longest = _count(tokenizer.model_max_length, value, "tokenizer_config.json model_max_length")
        if longest and longest < 1 << 30:
            limit = min(limit, longest)
        if self.config.max_tokens < least:
            raise FeatbenchError(f"{self.name}.max_tokens={self.config.max_tokens}: at least {least} "
                                 "(the special tokens and one token of text)")
        if limit < least:
            raise FeatbenchError(f"{value}: the model takes {limit} tokens at most, fewer than the {least} a transcript "
                                 "needs (the special tokens and one token of text)")
        self.max_tokens = min(self.config.max_tokens, limit)

    def _loading(self, what: str):
        return LoadErrors(self.config.model, f"{self.name}.model", what)

    @property
    def tokenizer(self):
        """The folder's tokenizer, loaded on first use (after pickling to a worker too)."""
        if getattr(self, "_tokenizer", None) is None:
            from transformers import AutoTokenizer

            with self._loading("tokenizer"):
                self._tokenizer = AutoTokenizer.from_pretrained(str(Path(self.config.model).expanduser()),
                                                                local_files_only=True, trust_remote_code=False)
        return self._tokenizer

    @property
    def model(self):
        """The encoder, loaded on first use, in evaluation mode (no dropout), on the family's device in its precision."""
        if getattr(self, "_model", None) is None:
            import torch
            from transformers import AutoModel
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            with self._loading("text encoder"):
                model = AutoModel.from_pretrained(str(Path(self.config.model).expanduser()),
                                                  local_files_only=True, dtype=torch.float32,
                                                  trust_remote_code=False).eval()
                self._model = place(model, self.device, self.precision)
        return self._model

    def load(self) -> None:
        _ = self.tokenizer, self.model

    # -- description -------------------------------------------------------------------------
    @property
    def columns(self) -> list[str]:
        layers, dim = self.shape
        if self.layer.is_all:
            from featbench.layers import layer_column_names

            return layer_column_names(layers + 1, dim)
        return [f"d{d:03d}" for d in range(dim)]

    @property
    def frame_rate(self) -> float:
        return 0.0  # tokens have no rate in time

    @property
    def row_kind(self) -> RowKind:
        return RowKind.TOKENS

    @property
    def n_layers(self) -> int:
        return self.shape[0] + 1 if self.layer.is_all else 0

    def config_dict(self) -> dict:
        layer = str(self.layer.index) if self.layer.kind == "index" else self.layer.kind
        return with_precision({"model": str(Path(self.config.model).expanduser().resolve()), "layer": layer,
                               "source": self.source.value, "max_tokens": self.max_tokens}, self.precision)

    def library_versions(self) -> dict[str, str]:
        import tokenizers
        import torch
        import transformers

        return {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__,
                "tokenizers": tokenizers.__version__, "model_fingerprint": fingerprint(Path(self.config.model).expanduser())}

    def identity(self) -> dict:
        """Family, options and versions (with the model's fingerprint); the audio settings play no part."""
        return {"family": self.name, "config": self.config_dict(), "versions": self.library_versions()}

    # -- work ----------------------------------------------------------------------------------
    def _tokenize(self, texts: list[str], **kwargs):
        texts = [clean_text(t) for t in texts]
        for text in texts:
            if not text:
                raise ValueError("empty transcript")
        return self.tokenizer(texts, add_special_tokens=True, truncation=True, max_length=self.max_tokens,
                              return_special_tokens_mask=True, **kwargs)

    def _encode(self, texts: list[str]) -> list[np.ndarray]:
        """One padded forward pass: the selected rows of each transcript's non-special tokens."""
        import torch

        batch = self._tokenize(texts, padding=True, return_tensors="pt")
        special = batch.pop("special_tokens_mask").bool()
        with torch.no_grad():
            out = self.model(**{k: place(v, self.device) for k, v in batch.items()}, output_hidden_states=True)
        keep = place(batch["attention_mask"].bool() & ~special, self.device)
        arrays = []
        for i in range(len(texts)):
            if not keep[i].any():
                raise ValueError("the transcript gives no token besides the special ones")
            if self.layer.is_all:
                states = torch.stack([h[i, keep[i]] for h in out.hidden_states])  # (L + 1, n, D)
                rows = states.transpose(0, 1).reshape(states.shape[1], -1)
            elif self.layer.is_last:
                rows = out.last_hidden_state[i, keep[i]]
            else:
                rows = out.hidden_states[self.layer.index][i, keep[i]]
            arrays.append(np.ascontiguousarray(to_numpy(rows), dtype=np.float32))
        return arrays

    def extract_text(self, texts: list[str]) -> list[np.ndarray]:
        """Features of each transcript, one at a time (no padding): float32 (tokens, dim) each."""
        return [self._encode([text])[0] for text in texts]

    def extract_text_batch(self, texts: list[str]) -> list[np.ndarray]:
        """Features of several transcripts: sorted by token count, padded batches of up to MAX_BATCH with an
        attention mask; the same as `extract_text` within float rounding."""
        lengths = [len(ids) for ids in self._tokenize(texts)["input_ids"]]
        order = sorted(range(len(texts)), key=lambda i: (lengths[i], i))
        out: list = [None] * len(texts)
        for start in range(0, len(order), MAX_BATCH):
            chunk = order[start:start + MAX_BATCH]
            for i, array in zip(chunk, self._encode([texts[i] for i in chunk])):
                out[i] = array
        return out

    def row_tokens(self, texts: list[str]) -> list[list[str]]:
        """The token string of every stored row (the tokenizer's own spelling, e.g. '##ing', 'Ġthe')."""
        batch = self._tokenize(texts)
        return [[token for token, special in zip(self.tokenizer.convert_ids_to_tokens(ids), mask) if not special]
                for ids, mask in zip(batch["input_ids"], batch["special_tokens_mask"])]
