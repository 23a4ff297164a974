"""Pretrained families: tiny randomly initialised models built from configs, plus the real whisper-base."""
import numpy as np
import pytest
import torch

from featbench.errors import FeatbenchError
from featbench.features import build_family
from tests.conftest import SHARED, tone

WHISPER_BASE = SHARED / "models" / "whisper-base"
REF = SHARED / "models" / "fairseq-reference"
TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
            conv_dim=[16] * 7, conv_kernel=[10, 3, 3, 3, 3, 2, 2], conv_stride=[5, 2, 2, 2, 2, 2, 2],
            num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4)


def frames(kind: str, n_samples: int) -> int:
    """Output frames: Whisper keeps complete 20 ms frames; the wav2vec 2.0 family's conv stack gives (n - 400) // 320 + 1."""
    return n_samples // 320 if kind == "whisper" else (n_samples - 400) // 320 + 1


def _save_tiny(kind: str, folder):
    import transformers as tf

    torch.manual_seed(0)
    if kind == "whisper":
        config = tf.WhisperConfig(d_model=32, encoder_layers=2, encoder_attention_heads=2, decoder_layers=1,
                                  decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, vocab_size=64,
                                  num_mel_bins=80, max_source_positions=1500, max_target_positions=32,
                                  pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=3)
        tf.WhisperModel(config).save_pretrained(folder)
        tf.WhisperFeatureExtractor().save_pretrained(folder)
        return folder
    classes = {"wav2vec2": (tf.Wav2Vec2Config, tf.Wav2Vec2Model), "hubert": (tf.HubertConfig, tf.HubertModel),
               "wavlm": (tf.WavLMConfig, tf.WavLMModel), "data2vec-audio": (tf.Data2VecAudioConfig, tf.Data2VecAudioModel)}
    config_cls, model_cls = classes[kind]
    extra = {"num_buckets": 16, "max_bucket_distance": 64} if kind == "wavlm" else {}
    model_cls(config_cls(**TINY, **extra)).save_pretrained(folder)
    tf.Wav2Vec2FeatureExtractor(do_normalize=True).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module", params=["wav2vec2", "hubert", "wavlm", "data2vec-audio", "whisper"])
def tiny_model(request, tmp_path_factory):
    return request.param, _save_tiny(request.param, tmp_path_factory.mktemp(request.param))


def test_layers_shapes_and_names(tiny_model):
    kind, folder = tiny_model
    x = tone(1.3)
    every = build_family("hf", {"model": str(folder), "layer": "all"})
    states = every.extract(x, 16000)
    assert states.shape == (frames(kind, len(x)), 3 * 32) and every.dim == 96 and every.columns[32] == "L01_000"
    assert np.isfinite(states).all()
    one = build_family("hf", {"model": str(folder), "layer": "1"}).extract(x, 16000)
    np.testing.assert_allclose(one, states[:, 32:64], atol=1e-5)
    last = build_family("hf", {"model": str(folder)}).extract(x, 16000)
    assert last.shape == (frames(kind, len(x)), 32)
    with pytest.raises(FeatbenchError, match=r"hf.layer=7: the model has layers 0..2"):
        build_family("hf", {"model": str(folder), "layer": "7"})  # at construction, before any clip


def test_long_clips_are_chunked_and_stitched(tiny_model):
    kind, folder = tiny_model
    x = tone(7.3, seed=3)
    family = build_family("hf", {"model": str(folder), "layer": "all", "chunk_seconds": "2", "overlap_seconds": "0.4"})
    states = family.extract(x, 16000)
    assert states.shape[0] == frames(kind, len(x)) and np.isfinite(states).all()
    whole = build_family("hf", {"model": str(folder), "layer": "all", "chunk_seconds": "30"}).extract(x, 16000)
    assert whole.shape == states.shape
    if kind == "whisper":  # the first window's core frames see the same audio up to the window edge
        assert np.corrcoef(states[10:50].ravel(), whole[10:50].ravel())[0, 1] > 0.5


def test_whisper_modes_on_tiny_model(tmp_path):
    from transformers import WhisperFeatureExtractor, WhisperModel

    folder = _save_tiny("whisper", tmp_path / "w")
    x = tone(2.0)
    padded = build_family("hf", {"model": str(folder), "whisper_mode": "padded"}).extract(x, 16000)
    adaptive = build_family("hf", {"model": str(folder), "whisper_mode": "adaptive"}).extract(x, 16000)
    assert padded.shape == adaptive.shape == (100, 32)
    encoder = WhisperModel.from_pretrained(folder).encoder.eval()
    mel = WhisperFeatureExtractor.from_pretrained(folder)(x, sampling_rate=16000, return_tensors="pt").input_features
    with torch.no_grad():
        official = encoder(mel).last_hidden_state[0, :100].numpy()
    np.testing.assert_allclose(padded, official, atol=1e-5)  # padded mode is the official computation


def test_bad_options(tmp_path):
    with pytest.raises(FeatbenchError, match="needs the option hf.model=PATH"):
        build_family("hf")
    with pytest.raises(FeatbenchError, match="not found"):
        build_family("hf", {"model": str(tmp_path / "nope")})
    with pytest.raises(FeatbenchError, match="not a Hugging Face model folder"):
        build_family("hf", {"model": str(tmp_path)})
    folder = _save_tiny("wav2vec2", tmp_path / "m")
    with pytest.raises(FeatbenchError, match="layer must be"):
        build_family("hf", {"model": str(folder), "layer": "middle"})
    with pytest.raises(FeatbenchError, match="whisper_mode"):
        build_family("hf", {"model": str(folder), "whisper_mode": "fast"})


@pytest.mark.skipif(not REF.is_dir(), reason=f"fairseq reference fixtures not found at {REF}")
def test_fairseq_families_through_the_store(demo_corpus, tmp_path):
    from featbench.corpus import load_corpus
    from featbench.extract import run_extraction
    from featbench.store import read_family

    table = load_corpus("demo", demo_corpus).head(3)
    specs = [("wav2vec1", {"checkpoint": str(REF / "wav2vec1_large_c64.pt")}),
             ("fairseq", {"checkpoint": str(REF / "hubert_base_tiny_cfg.pt"), "layer": "all"})]
    report = run_extraction(table, specs, tmp_path / "store", progress=False)
    assert report.extracted == 3, report.summary()
    v1 = read_family(tmp_path / "store", "wav2vec1")
    assert v1.meta.dim == 64 and v1.meta.frame_rate == 100.0
    hub = read_family(tmp_path / "store", "fairseq")
    assert hub.meta.dim == 3 * 96 and hub.meta.columns[96] == "L01_000"
    assert "model_fingerprint" in hub.meta.versions


@pytest.mark.skipif(not REF.is_dir(), reason=f"fairseq reference fixtures not found at {REF}")
@pytest.mark.parametrize("name", ["vqwav2vec_gumbel_c32", "vqwav2vec_kmeans_c32"])
def test_vq_wav2vec_family_outputs(name):
    """Every output of the family is fairseq's (the reference clips), in (frames, dim) float32, 100 Hz."""
    wave, ref = np.load(REF / "inputs.npz")["clip1_raw"].reshape(-1), np.load(REF / f"{name}.npz")
    families = {out: build_family("wav2vec1", {"checkpoint": str(REF / f"{name}.pt"), "output": out})
                for out in ("z", "q", "codes", "c")}
    sure = (ref["clip1_margin"][0] >= 1e-4).all(-1)
    for out, family in families.items():
        array = family.extract(wave, 16000)
        assert array.dtype == np.float32 and array.shape[1] == family.dim and family.frame_rate == 100.0
        expected = ref["clip1_idx"][0] if out == "codes" else ref[f"clip1_{out}"][0].T
        np.testing.assert_allclose(array[sure], expected[sure], atol=1e-5, rtol=1e-5)
    assert families["codes"].columns == ["code_g0", "code_g1"] and families["q"].columns[:2] == ["q000", "q001"]
    hashes = {f.config_hash() for f in families.values()}
    assert len(hashes) == 4


@pytest.mark.skipif(not REF.is_dir(), reason=f"fairseq reference fixtures not found at {REF}")
def test_vq_outputs_are_refused_for_wav2vec_and_bad_outputs_for_all():
    plain = str(REF / "wav2vec1_large_c64.pt")
    with pytest.raises(FeatbenchError, match=r"wav2vec1.output=codes: .*wav2vec1_large_c64.pt is wav2vec without a quantizer"):
        build_family("wav2vec1", {"checkpoint": plain, "output": "codes"})
    with pytest.raises(FeatbenchError, match=r"wav2vec1.output='idx': choose c, z, q, codes"):
        build_family("wav2vec1", {"checkpoint": str(REF / "vqwav2vec_kmeans_c32.pt"), "output": "idx"})


@pytest.mark.skipif(not REF.is_dir(), reason=f"fairseq reference fixtures not found at {REF}")
def test_vq_codes_through_the_store(demo_corpus, tmp_path):
    from featbench.corpus import load_corpus
    from featbench.extract import run_extraction
    from featbench.store import read_family

    table = load_corpus("demo", demo_corpus).head(3)
    spec = [("wav2vec1", {"checkpoint": str(REF / "vqwav2vec_gumbel_c32.pt"), "output": "codes"})]
    report = run_extraction(table, spec, tmp_path / "store", progress=False)
    assert report.extracted == 3, report.summary()
    codes = read_family(tmp_path / "store", "wav2vec1")
    assert codes.meta.dim == 2 and codes.meta.frame_rate == 100.0 and codes.meta.columns == ["code_g0", "code_g1"]
    values = codes.features
    assert values.dtype == np.float32 and (values == np.round(values)).all() and values.min() >= 0 and values.max() < 16


@pytest.mark.skipif(not WHISPER_BASE.is_dir(), reason=f"real whisper-base not found at {WHISPER_BASE}")
def test_real_whisper_base():
    from transformers import AutoFeatureExtractor, WhisperModel

    from featbench.audio import load
    from tests.conftest import RAVDESS

    clip = RAVDESS / "Actor_01" / "03-01-05-02-01-01-01.flac"
    x = load(clip) if clip.is_file() else tone(3.0)
    padded = build_family("whisper", {"model": str(WHISPER_BASE), "whisper_mode": "padded"}).extract(x, 16000)
    adaptive = build_family("whisper", {"model": str(WHISPER_BASE)}).extract(x, 16000)
    encoder = WhisperModel.from_pretrained(WHISPER_BASE, dtype=torch.float32).encoder.eval()
    mel = AutoFeatureExtractor.from_pretrained(WHISPER_BASE)(x, sampling_rate=16000, return_tensors="pt").input_features
    with torch.no_grad():
        official = encoder(mel).last_hidden_state[0, :len(x) // 320].numpy()
    np.testing.assert_allclose(padded, official, atol=1e-4)
    a, p = adaptive.mean(0), padded.mean(0)
    assert a @ p / np.linalg.norm(a) / np.linalg.norm(p) > 0.95


@pytest.mark.skipif(not WHISPER_BASE.is_dir(), reason=f"real whisper-base not found at {WHISPER_BASE}")
def test_whisper_layer_4_is_layer_L4_of_every_layer():
    """`whisper.layer=4` records that it holds layer 4 (so `whisper@L4` addresses it) and holds exactly what
    `layer=all` holds where FamilyMeta says layer 4 sits."""
    from featbench.store import FamilyMeta

    one = build_family("whisper", {"model": str(WHISPER_BASE), "layer": "4", "whisper_mode": "padded"})
    every = build_family("whisper", {"model": str(WHISPER_BASE), "layer": "all", "whisper_mode": "padded"})
    meta_one, meta_every = FamilyMeta.of(one), FamilyMeta.of(every)
    assert meta_one.layer_numbers == (4,) and meta_every.layer_numbers == tuple(range(7))
    assert meta_every.columns[4 * 512] == "L04_000"
    x = tone(1.0)
    alone = one.extract(x, 16000)  # a 30 s window of whisper-base: seconds each, so extracted once
    np.testing.assert_array_equal(alone, meta_every.slice(every.extract(x, 16000), 4))
    with pytest.raises(FeatbenchError, match=r"holds layer L4 only \(extracted with layer=4\), not L5"):
        meta_one.slice(alone, 5)


@pytest.mark.parametrize("kind, options", [
    ("wav2vec2-layer-norm", {"layer": "all"}),
    ("wav2vec2", {"layer": "all"}),
    ("whisper", {"layer": "all", "whisper_mode": "padded"}),
    ("whisper", {"layer": "last", "whisper_mode": "adaptive"}),
])
def test_batches_give_the_same_features_as_single_clips(kind, options, tmp_path):
    import transformers as tf

    if kind == "wav2vec2-layer-norm":  # the large-model layout: per-frame norms, so padding changes no valid frame
        torch.manual_seed(0)
        tf.Wav2Vec2Model(tf.Wav2Vec2Config(**TINY, feat_extract_norm="layer", do_stable_layer_norm=True)).save_pretrained(tmp_path)
        tf.Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=True).save_pretrained(tmp_path)
        folder = tmp_path
    else:
        folder = _save_tiny(kind, tmp_path)
    family = build_family("hf", {"model": str(folder), **options})
    clips = [tone(0.9, seed=1), tone(1.6, seed=2, freq=180), tone(1.25, seed=3, freq=300)]
    batched = family.extract_batch(clips, 16000)
    for clip, together in zip(clips, batched):
        alone = family.extract(clip, 16000)
        assert together.shape == alone.shape
        np.testing.assert_allclose(together, alone, atol=2e-5)


def test_extraction_with_batches_matches_single_clips(tmp_path):
    from featbench.corpus import load_corpus
    from featbench.extract import run_extraction
    from featbench.store import read_family
    from tests.conftest import write_wav

    folder = _save_tiny("whisper", tmp_path / "w")
    rows = []
    for i, seconds in enumerate([0.6, 1.4, 0.9, 2.1, 1.1]):
        write_wav(tmp_path / "c" / f"u{i}.wav", seconds=seconds, freq=150 + 40 * i)
        rows.append(f"c/u{i}.wav,{'ab'[i % 2]},s{i % 2}")
    (tmp_path / "m.csv").write_text("path,label,speaker\n" + "\n".join(rows) + "\n")
    table = load_corpus("csv", tmp_path / "m.csv")
    spec = [("whisper", {"model": str(folder), "layer": "all", "whisper_mode": "padded"})]
    run_extraction(table, spec, tmp_path / "one", progress=False)
    run_extraction(table, spec, tmp_path / "batched", progress=False, batch_size=3)
    a, b = read_family(tmp_path / "one", "whisper"), read_family(tmp_path / "batched", "whisper")
    assert list(a.ids) == list(b.ids)
    np.testing.assert_allclose(a.features, b.features, atol=2e-5)


def _damaged_copy(name: str, key: str, folder) -> str:
    """The reference checkpoint `name` with the tensor `key` all NaN (args and weights only)."""
    from featbench.encoders.checkpoint import load_checkpoint

    state = load_checkpoint(REF / f"{name}.pt")
    model = dict(state["model"])
    model[key] = torch.full_like(model[key], float("nan"))
    path = folder / f"{name}-nan.pt"
    torch.save({"args": state["args"], "model": model}, path)
    return str(path)


@pytest.mark.skipif(not REF.is_dir(), reason=f"fairseq reference fixtures not found at {REF}")
@pytest.mark.parametrize("name, key", [("vqwav2vec_gumbel_c32", "feature_extractor.conv_layers.0.0.weight"),
                                       ("vqwav2vec_kmeans_c32", "feature_extractor.conv_layers.0.0.weight"),
                                       ("vqwav2vec_kmeans_c32", "vector_quantizer.embedding")])
def test_vq_codes_from_a_nan_checkpoint_fail_the_clip(name, key, demo_corpus, tmp_path):
    """A NaN encoder output (or k-means codebook) made every code 0 (the argmax/argmin of NaN) and the clip 'ok',
    for output=codes, q and even c (which runs on q); now each clip fails as a non-finite output=c does."""
    from featbench.corpus import load_corpus
    from featbench.extract import run_extraction

    checkpoint = _damaged_copy(name, key, tmp_path)
    for out in ("codes", "q", "c"):
        with pytest.raises(ValueError, match="non-finite vq-wav2vec"):
            build_family("wav2vec1", {"checkpoint": checkpoint, "output": out}).extract(tone(0.5), 16000)
    table = load_corpus("demo", demo_corpus).head(2)
    spec = [("wav2vec1", {"checkpoint": checkpoint, "output": "codes"})]
    report = run_extraction(table, spec, tmp_path / "store", progress=False)
    assert report.extracted == 0 and report.failed == 2, report.summary()


def test_a_model_folder_asking_to_run_its_own_code_is_refused_without_a_prompt(tmp_path, capsys):
    """transformers asks on stdin ('Do you wish to run the custom code? [y/N]', 15 s) before running a folder's own
    modules (config.json 'auto_map') when no trust_remote_code is given; featbench gives False: one line, no prompt."""
    import json

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "evilnet", "auto_map": {"AutoConfig": "evil.Config",
                                                                                        "AutoModel": "evil.Model"}}))
    (folder / "evil.py").write_text(f"open({str(tmp_path / 'ran')!r}, 'w').close()\n")
    with pytest.raises(FeatbenchError, match=f"{folder}: cannot load the model configuration") as err:
        build_family("hf", {"model": str(folder)})
    assert "\n" not in str(err.value) and not (tmp_path / "ran").exists()
    assert "custom code" not in capsys.readouterr().out  # no question asked


def test_config_json_read_without_transformers_gives_what_transformers_gives(tiny_model, tmp_path):
    """`hf_config` reads a saved model's config.json as JSON (checking a family imports no torch: `study plan` stays
    fast); the model type and layer shape equal AutoConfig's. A file that leaves a field to its class's default goes
    through AutoConfig; a crafted shape is one line."""
    import json

    from transformers import AutoConfig

    from featbench.features.pretrained_options import hf_config

    kind, folder = tiny_model
    names = ("encoder_layers", "d_model") if kind == "whisper" else ("num_hidden_layers", "hidden_size")
    ours, theirs = hf_config(folder), AutoConfig.from_pretrained(folder)
    assert type(ours).__name__ == "SimpleNamespace"  # read as JSON, not through transformers
    assert [getattr(ours, n) for n in ("model_type", *names)] == [getattr(theirs, n) for n in ("model_type", *names)]
    raw = json.loads((folder / "config.json").read_text())
    short = tmp_path / "short"
    short.mkdir()
    (short / "config.json").write_text(json.dumps({k: v for k, v in raw.items() if k != names[0]}))
    assert getattr(hf_config(short), names[0]) == getattr(type(theirs)(), names[0])  # the class default
    for layers, width in ((10 ** 6, 32), (2, 10 ** 9), (0, 32)):
        (short / "config.json").write_text(json.dumps({**raw, names[0]: layers, names[1]: width}))
        with pytest.raises(FeatbenchError, match=f"^{short}: config.json gives {layers} layers of width {width};"):
            build_family("hf", {"model": str(short), "layer": "all"})


@pytest.mark.skipif(not WHISPER_BASE.is_dir(), reason=f"real whisper-base not found at {WHISPER_BASE}")
def test_checking_a_whisper_family_imports_neither_torch_nor_transformers():
    """The config hash (torch's and transformers' versions, the model's fingerprint) and the folder's check read
    files and package metadata only; the model loads on the first clip."""
    import subprocess
    import sys

    code = ("import sys; from featbench.features import build_family; "
            f"f = build_family('whisper', {{'model': {str(WHISPER_BASE)!r}, 'layer': 'all'}}); f.config_hash(); "
            "print(f.shape, sorted({'torch', 'transformers'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[0] == "(6, 512) []"
