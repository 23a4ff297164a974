"""Storage forms (featbench.features.storage): float16 stores and pooled-only stores, end to end."""
from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.errors import CorruptStoreError, FeatbenchError
from featbench.features import build_family
from featbench.pooling import pool
from featbench.store import FamilyMeta, StoreWriter, family_path, read_family, verify
from featbench.train.runner import Experiment, run_training

runner = CliRunner()

ROW_KEY = ["view", "classifier", "budget", "fold", "seed"]
SCORES = ["ua", "wa", "macro_f1", "confusion", "hparams", "choice"]


@pytest.fixture(scope="module")
def stores(demo_corpus_master, tmp_path_factory):
    """The demo corpus extracted four times: frames as float32, fbank as float16, pooled, and 'hf' with layer 1
    alone (layer=1); 'hf' is a tiny randomly initialised wav2vec 2.0 with every layer (3 layers of 32)."""
    import torch
    import transformers as tf

    from featbench.corpus import load_corpus
    from featbench.extract import run_extraction

    root = tmp_path_factory.mktemp("storage")
    torch.manual_seed(0)
    model = root / "tiny-w2v2"
    tf.Wav2Vec2Model(tf.Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, conv_dim=[16] * 7,
        conv_kernel=[10, 3, 3, 3, 3, 2, 2], conv_stride=[5, 2, 2, 2, 2, 2, 2], num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4)).save_pretrained(model)
    tf.Wav2Vec2FeatureExtractor(do_normalize=True).save_pretrained(model)
    table = load_corpus("demo", demo_corpus_master)
    hf = {"model": str(model), "layer": "all"}
    specs = {"frames": [("fbank", {}), ("hf", hf)],
             "half": [("fbank", {"dtype": "float16"})],
             "pooled": [("fbank", {"pooled": "true"}), ("hf", {**hf, "pooled": "true"})],
             "one": [("hf", {**hf, "layer": "1"})]}
    for name, spec in specs.items():
        report = run_extraction(table, spec, root / name, progress=False)
        assert report.failed == 0, report.summary()
    return {name: root / name for name in specs}


@pytest.mark.parametrize("name, options, expected", [  # hashes of featbench before storage options existed
    ("fbank", {}, "39757fe27915"),
    ("fbank", {"n_mels": 40}, "0b64a0a5f79e"),
    ("egemaps-func", {}, "877bfa4d7bd3"),
    ("egemaps-lld", {}, "ffcdc973968a"),
])
def test_default_storage_keeps_the_config_hash(name, options, expected):
    assert build_family(name, options).config_hash() == expected
    assert build_family(name, {**options, "dtype": "float32", "pooled": "false"}).config_hash() == expected
    assert build_family(name, {**options, "dtype": "float16"}).config_hash() != expected
    if name != "egemaps-func":
        hashes = {build_family(name, {**options, **extra}).config_hash()
                  for extra in ({"pooled": "true"}, {"pooled": "true", "dtype": "float16"})}
        assert len(hashes) == 2 and expected not in hashes


def test_float16_store_is_half_the_size_rounds_and_checks(stores, tmp_path):
    full, half = read_family(stores["frames"], "fbank"), read_family(stores["half"], "fbank")
    assert half.features.dtype == np.float16 and full.features.dtype == np.float32
    assert half.meta.dtype == "float16" and half.meta.config["dtype"] == "float16"
    assert "dtype" not in full.meta.config and "pooled" not in full.meta.config  # the default form, as before
    np.testing.assert_array_equal(half.features, full.features.astype(np.float16))
    ratio = family_path(stores["half"], "fbank").stat().st_size / family_path(stores["frames"], "fbank").stat().st_size
    assert 0.45 < ratio < 0.6, ratio
    assert [h.line() for h in verify(stores["half"])] == ["fbank: 32 clips ok"]

    import shutil

    shutil.copytree(stores["half"], tmp_path / "s")
    path = family_path(tmp_path / "s", "fbank")
    with h5py.File(path, "r") as h5:
        base, victim, offset = h5["features"].id.get_offset(), h5["ids"].asstr()[5], int(h5["offsets"][5])
        dim = h5["features"].shape[1]
    with open(path, "r+b") as handle:  # one byte of one value of one clip
        handle.seek(base + (offset * dim + 7) * 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0x10]))
    with pytest.raises(CorruptStoreError, match=victim):
        read_family(tmp_path / "s", "fbank")
    assert verify(tmp_path / "s")[0].damaged == [victim]


def test_pooled_store_holds_exactly_what_training_pools(stores):
    for name in ("fbank", "hf"):
        frames, kept = read_family(stores["frames"], name), read_family(stores["pooled"], name)
        assert list(kept.ids) == list(frames.ids) and (kept.lengths == 1).all()
        assert kept.meta.rows == "utterance" and kept.meta.pooled and kept.meta.layers == frames.meta.layers
        assert kept.meta.columns == [f"mean_{c}" for c in frames.meta.columns] + [f"std_{c}" for c in frames.meta.columns]
        assert kept.features.dtype == np.float32
        np.testing.assert_array_equal(kept.features, pool(frames.features, frames.offsets, frames.lengths))
        assert kept.meta.layer_dim == frames.meta.layer_dim
    assert [h.line() for h in verify(stores["pooled"])] == ["fbank: 32 clips ok", "hf: 32 clips ok"]


def test_training_on_a_pooled_store_gives_the_same_rows(stores, tmp_path):
    exp = dict(families=["fbank", "hf", "hf@L1", "hf@auto", "hf@weighted"], classifiers=["logreg"], budgets=[4, "all"],
               seeds=[0], n_folds=4, corpus="demo")
    for name in ("frames", "pooled"):
        run_training(Experiment(store=stores[name], **exp), tmp_path / f"{name}.csv", progress=False)
    a, b = (pd.read_csv(tmp_path / f"{name}.csv").sort_values(ROW_KEY).reset_index(drop=True) for name in ("frames", "pooled"))
    assert len(a) == 5 * 2 * 4
    pd.testing.assert_frame_equal(a[ROW_KEY + SCORES], b[ROW_KEY + SCORES])
    assert (a.family_config_hash != b.family_config_hash).all()  # a pooled store is its own config


def test_a_store_extracted_with_layer_1_is_addressed_as_hf_at_L1(stores, tmp_path):
    """`hf.layer=1` holds what `hf.layer=all` holds in its L01 columns; both are trained as `hf@L1`, to the same rows."""
    one, every = read_family(stores["one"], "hf"), read_family(stores["frames"], "hf")
    assert one.meta.layer_numbers == (1,) and every.meta.layer_numbers == (0, 1, 2)
    np.testing.assert_array_equal(one.features, every.meta.slice(every.features, 1))
    exp = dict(families=["hf@L1"], classifiers=["logreg"], budgets=[4, "all"], seeds=[0], n_folds=4, corpus="demo")
    for name in ("frames", "one"):
        run_training(Experiment(store=stores[name], **exp), tmp_path / f"{name}.csv", progress=False)
    a, b = (pd.read_csv(tmp_path / f"{name}.csv").sort_values(ROW_KEY).reset_index(drop=True) for name in ("frames", "one"))
    assert len(a) == 2 * 4
    pd.testing.assert_frame_equal(a[ROW_KEY + SCORES], b[ROW_KEY + SCORES])
    result = runner.invoke(app, ["train", str(stores["one"]), "--features", "hf@L2", "--classifiers", "logreg",
                                 "--out", str(tmp_path / "r.csv"), "--no-progress"])
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert "'hf@L2': family 'hf' holds layer L1 only (extracted with layer=1), not L2" in result.output


def test_sequence_model_on_float16_frames_and_refused_on_a_pooled_store(stores, tmp_path):
    exp = Experiment(stores["half"], ["fbank"], ["seq"], [4], [0], n_folds=4, seq_epochs=2)
    report = run_training(exp, tmp_path / "seq.csv", progress=False)
    assert report.rows_added == 4 and pd.read_csv(tmp_path / "seq.csv").ua.between(0, 1).all()
    result = runner.invoke(app, ["train", str(stores["pooled"]), "--features", "fbank", "--classifiers", "seq",
                                 "--out", str(tmp_path / "r.csv"), "--no-progress"])
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert "family 'fbank' has one row per utterance; the sequence classifier needs frame-level features" in result.output


@pytest.mark.parametrize("family, setting, message", [
    ("fbank", "fbank.dtype=float64", "fbank.dtype='float64': choose float32 or float16"),
    ("egemaps-func", "egemaps-func.pooled=true", "egemaps-func.pooled=true: only frame-level families are stored "
                                                 "pooled; egemaps-func has one row per utterance already"),
    ("raw", "raw.pooled=true", "raw.pooled=true: only frame-level families are stored pooled; raw has waveform rows"),
    ("raw", "raw.dtype=float16", "raw.dtype=float16: the waveform is kept as float32"),
    ("compare-lld", "compare-lld.dtype=float16", "compare-lld.dtype=float16: its spectral variance reaches ~1e7"),
    ("fbank", "fbank.pooled=often", "fbank.pooled='often': not a yes/no value"),
])
def test_bad_storage_options_are_one_line_before_any_clip(demo_corpus, tmp_path, family, setting, message):
    store = tmp_path / "store"
    result = runner.invoke(app, ["extract", "demo", str(demo_corpus), "--features", family, "--set", setting,
                                 "--out", str(store), "--no-progress"])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.output, result.output
    assert not store.exists()


def test_unknown_option_lists_the_storage_options():
    with pytest.raises(FeatbenchError, match="has no option 'bands'; options: n_mels, .*, dtype, pooled$"):
        build_family("fbank", {"bands": 40})


def test_float16_overflow_fails_the_clip_not_the_store(tmp_path):
    family = build_family("fbank", {"dtype": "float16"})
    with pytest.raises(ValueError, match="a value of 7e\\+04 does not fit float16"):
        family.storage.apply(np.array([[1.0, 7e4]], np.float32))
    meta = FamilyMeta("toy", "", {}, "h", {}, {}, 16000, 100.0, ["a", "b"], dtype="float16")
    with StoreWriter(tmp_path) as writer:
        writer.prepare(meta)
        with pytest.raises(ValueError, match="does not fit float16"):
            writer.add("toy", "u1", "h1", np.array([[1.0, -1e6]], np.float32))
        writer.add("toy", "u2", "h2", np.array([[1.0, 0.1]], np.float32))
        writer.consolidate("toy", ["u2"])
    np.testing.assert_array_equal(read_family(tmp_path, "toy").get("u2"), np.array([[1.0, 0.1]], np.float16))


def test_files_without_storage_attributes_read_as_float32_frames(tmp_path):
    meta = FamilyMeta("toy", "", {}, "h", {}, {}, 16000, 100.0, ["a", "b"])
    with StoreWriter(tmp_path) as writer:
        writer.prepare(meta)
        writer.add("toy", "u1", "h1", np.ones((3, 2), np.float32))
        writer.consolidate("toy", ["u1"])
    from tests.test_store_damage import _as_format_2

    _as_format_2(family_path(tmp_path, "toy"))
    with h5py.File(family_path(tmp_path, "toy"), "r+") as h5:  # as written before storage options existed
        del h5.attrs["dtype"], h5.attrs["pooled"]
    fs = read_family(tmp_path, "toy")
    assert (fs.meta.dtype, fs.meta.pooled, fs.meta.rows, fs.features.dtype) == ("float32", False, "frames", np.float32)
