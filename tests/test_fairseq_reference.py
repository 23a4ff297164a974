"""fairseq checkpoints without fairseq: every fixture in ../shared/models/fairseq-reference reproduced."""
import json
import sys

import numpy as np
import pytest
import torch

from featbench.errors import FeatbenchError
from featbench.encoders.checkpoint import load_checkpoint, model_config
from featbench.encoders.fairseq_transformer import build_hf_model
from featbench.encoders.wav2vec1 import Wav2VecV1, Wav2VecV1Config
from tests.conftest import SHARED

REF = SHARED / "models" / "fairseq-reference"
pytestmark = pytest.mark.skipif(not REF.is_dir(), reason=f"fairseq reference fixtures not found at {REF}")
TOL = dict(atol=1e-5, rtol=1e-5)  # the fixtures' stated tolerance across torch builds and CPUs
CLIPS = ["clip1", "clip2", "clip3"]
MARGIN = 1e-4  # vq-wav2vec: codes whose lead over the runner-up is smaller may flip under another summation order


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def inputs():
    return np.load(REF / "inputs.npz")


def test_no_fairseq_or_omegaconf_needed():
    assert "fairseq" not in sys.modules
    for name in ["wav2vec1_large_c64", "wav2vec2_base_tiny_dictcfg", "hubert_base_tiny_cfg"]:
        state = load_checkpoint(REF / f"{name}.pt")
        assert isinstance(state["model"], dict)
    assert "fairseq" not in sys.modules and "omegaconf" not in sys.modules


def _wav2vec1(name: str) -> Wav2VecV1:
    state = load_checkpoint(REF / f"{name}.pt")
    args, _ = model_config(state)
    model = Wav2VecV1(Wav2VecV1Config.from_args(args, name))
    model.load_fairseq_state(state["model"], name)
    return model.eval()


@pytest.mark.parametrize("name", ["wav2vec1_large_c64", "wav2vec1_flags_c32", "wav2vec1_gru_c64"])
def test_wav2vec1_reproduces_fairseq(name, inputs):
    model = _wav2vec1(name)
    ref = np.load(REF / f"{name}.npz")
    for clip in CLIPS:
        with torch.no_grad():
            z, c = model(torch.from_numpy(inputs[f"{clip}_raw"]).reshape(1, -1))
        np.testing.assert_allclose(z.numpy(), ref[f"{clip}_z"], **TOL)
        np.testing.assert_allclose(c.numpy(), ref[f"{clip}_c"], **TOL)


def _receptive_field(model: Wav2VecV1) -> int:
    """How many earlier frames of q each frame of c sees (the aggregator pads on the left only)."""
    return sum(k - 1 for _, k, _ in model.cfg.aggregator_layers)


@pytest.mark.parametrize("name, kind", [("vqwav2vec_gumbel_c32", "gumbel"), ("vqwav2vec_kmeans_c32", "kmeans")])
def test_vq_wav2vec_reproduces_fairseq(name, kind, inputs):
    """z, q, codes and c (run on q) as fairseq computed them; codes exactly where fairseq's margin is >= 1e-4, q and
    c on the frames whose codes (and, for c, those of its receptive field) agree."""
    model = _wav2vec1(name)
    assert model.cfg.vq.kind == kind and model.cfg.log_compression  # absent from the args: fairseq's default True
    ref = np.load(REF / f"{name}.npz")
    for clip in CLIPS:
        with torch.no_grad():
            out = {k: v.numpy() for k, v in model.encode(torch.from_numpy(inputs[f"{clip}_raw"]).reshape(1, -1)).items()}
            c_of_ref_q = model.feature_aggregator(torch.from_numpy(ref[f"{clip}_q"])).numpy()
        np.testing.assert_allclose(out["z"], ref[f"{clip}_z"], **TOL)
        sure = ref[f"{clip}_margin"] >= MARGIN
        assert out["codes"].shape == ref[f"{clip}_idx"].shape and out["codes"].dtype == np.int64
        np.testing.assert_array_equal(out["codes"][sure], ref[f"{clip}_idx"][sure])
        agree = (out["codes"] == ref[f"{clip}_idx"]).all(-1)[0]
        assert agree.mean() > 0.99
        np.testing.assert_allclose(out["q"][..., agree], ref[f"{clip}_q"][..., agree], **TOL)
        field = _receptive_field(model)
        clean = np.convolve(~agree, np.ones(field + 1), mode="full")[:agree.size] == 0  # no disagreement in [t - field, t]
        np.testing.assert_allclose(out["c"][..., clean], ref[f"{clip}_c"][..., clean], **TOL)
        np.testing.assert_allclose(c_of_ref_q, ref[f"{clip}_c"], **TOL)  # the context network alone, every frame


def test_vq_codes_are_sensitive_to_the_quantizer_args(inputs):
    """A loader that ignored combine_groups or the gumbel projection's depth could not load the weights; one that
    took codes from z instead of the projection would pick other codes."""
    state = load_checkpoint(REF / "vqwav2vec_gumbel_c32.pt")
    args, _ = model_config(state)
    with pytest.raises(FeatbenchError, match="do not fit"):
        Wav2VecV1(Wav2VecV1Config.from_args({**args, "combine_groups": False})).load_fairseq_state(state["model"])
    with pytest.raises(FeatbenchError, match="do not fit"):
        Wav2VecV1(Wav2VecV1Config.from_args({**args, "vq_depth": 1})).load_fairseq_state(state["model"])
    model = _wav2vec1("vqwav2vec_gumbel_c32")
    ref = np.load(REF / "vqwav2vec_gumbel_c32.npz")["clip1_idx"]
    with torch.no_grad():
        z = model.feature_extractor(torch.from_numpy(inputs["clip1_raw"]).reshape(1, -1))
        logits = model.vector_quantizer.logits(z)
    assert (logits.max(-1)[1].numpy() == ref).all() and not (logits.min(-1)[1].numpy() == ref).all()


def test_wav2vec1_ignoring_args_is_caught(inputs):
    """The flags fixture exists to catch a loader that uses defaults instead of the checkpoint's args."""
    state = load_checkpoint(REF / "wav2vec1_flags_c32.pt")
    args, _ = model_config(state)
    wrong = Wav2VecV1Config.from_args({**args, "skip_connections_feat": False})
    model = Wav2VecV1(wrong)
    model.load_fairseq_state(state["model"])
    with torch.no_grad():
        z, _ = model(torch.from_numpy(inputs["clip1_raw"]).reshape(1, -1))
    assert not np.allclose(z.numpy(), np.load(REF / "wav2vec1_flags_c32.npz")["clip1_z"], **TOL)


@pytest.mark.parametrize("name, refname", [
    ("wav2vec2_base_tiny_args2020", "wav2vec2_base_tiny_args2020"),
    ("wav2vec2_base_tiny_dictcfg", "wav2vec2_base_tiny_args2020"),
    ("wav2vec2_large_tiny_cfg", "wav2vec2_large_tiny_cfg"),
    ("hubert_base_tiny_cfg", "hubert_base_tiny_cfg"),
])
def test_wav2vec2_and_hubert_reproduce_fairseq(name, refname, inputs):
    state = load_checkpoint(REF / f"{name}.pt")
    model_cfg, task_cfg = model_config(state)
    model = build_hf_model(state["model"], model_cfg, name)
    ref = np.load(REF / f"{refname}.npz")
    sidecar = json.loads((REF / f"{name}.json").read_text())
    assert bool(task_cfg.get("normalize")) == bool(sidecar["task_normalize"])
    suffix = "_layernorm" if task_cfg.get("normalize") else "_raw"
    captured = {}
    for k, layer in enumerate(model.encoder.layers):
        layer.register_forward_hook(lambda m, i, o, k=k: captured.__setitem__(k, o[0] if isinstance(o, tuple) else o))
    hubert = name.startswith("hubert")
    for clip in CLIPS:
        wave = torch.from_numpy(inputs[f"{clip}{suffix}"]).reshape(1, -1)
        with torch.no_grad():
            out = model(wave)
            conv = model.feature_extractor(wave)
            projection = model.feature_projection(conv.transpose(1, 2))  # HuBERT: projected; wav2vec 2.0: (projected, normed)
        np.testing.assert_allclose(conv.numpy(), ref[f"{clip}_conv"], **TOL)
        np.testing.assert_allclose(out.last_hidden_state.numpy(), ref[f"{clip}_x"], **TOL)
        for k in range(len(model.encoder.layers)):
            key = f"{clip}_layer{k + 1}" if hubert else f"{clip}_layer{k}_x"
            np.testing.assert_allclose(captured[k].numpy(), ref[key], **TOL)
        if hubert:
            np.testing.assert_allclose(projection.numpy(), ref[f"{clip}_features_ret_conv"], **TOL)
        else:
            np.testing.assert_allclose(projection[1].numpy(), ref[f"{clip}_features"], **TOL)


def test_unsupported_args_are_refused_by_name():
    state = load_checkpoint(REF / "wav2vec1_large_c64.pt")
    args, _ = model_config(state)
    with pytest.raises(FeatbenchError, match="vq_type='rvq'"):
        Wav2VecV1Config.from_args({**args, "vq_type": "rvq"}, "wav2vec1_large_c64.pt")
    with pytest.raises(FeatbenchError, match="wav2vec1_large_c64.pt: vq-wav2vec option vq_dim=32 .quantized width other"):
        Wav2VecV1Config.from_args({**args, "vq_type": "gumbel", "vq_dim": 32}, "wav2vec1_large_c64.pt")
    with pytest.raises(FeatbenchError, match="vq_groups=3 .must divide the encoder width 64"):
        Wav2VecV1Config.from_args({**args, "vq_type": "kmeans", "vq_groups": 3}, "wav2vec1_large_c64.pt")
    state = load_checkpoint(REF / "wav2vec2_large_tiny_cfg.pt")
    cfg, _ = model_config(state)
    with pytest.raises(FeatbenchError, match="layer_type='conformer'"):
        build_hf_model(state["model"], {**cfg, "layer_type": "conformer"}, "x.pt")
    with pytest.raises(FeatbenchError, match="pos_conv_depth=5"):
        build_hf_model(state["model"], {**cfg, "pos_conv_depth": 5}, "x.pt")


def test_mismatched_weights_are_refused(tmp_path):
    state = load_checkpoint(REF / "wav2vec1_large_c64.pt")
    args, _ = model_config(state)
    model = Wav2VecV1(Wav2VecV1Config.from_args({**args, "log_compression": False, "conv_aggregator_layers": "[(64, 2, 1)]"}))
    with pytest.raises(FeatbenchError, match="do not fit"):
        model.load_fairseq_state(state["model"], "wav2vec1_large_c64.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(FeatbenchError, match="bad.pt: not a readable"):
        load_checkpoint(bad)
