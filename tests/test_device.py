"""--device and --precision: the device typed once and checked before any clip, every device path run on the CPU
through the same helpers, CPU results unchanged bit for bit, and encoder precision recorded and measured."""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from featbench.cli import app
from featbench.device import CPU, Device, DeviceKind, Precision, place, place_like, to_numpy
from featbench.errors import FeatbenchError
from featbench.features import build_family
from tests.conftest import SHARED, tone
from tests.test_pretrained_families import _save_tiny

runner = CliRunner()
NO_CUDA = "--device {}: no CUDA device (torch.cuda.is_available() is False)"
needs_no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a machine without CUDA")


@pytest.mark.parametrize("text, kind, index", [("auto", "auto", None), ("CPU", "cpu", None), ("cuda", "cuda", None),
                                               ("cuda:3", "cuda", 3), (" mps ", "mps", None)])
def test_device_parse(text, kind, index):
    device = Device.parse(text)
    assert (device.kind.value, device.index) == (kind, index) and Device.parse(str(device)) == device


@pytest.mark.parametrize("text", ["gpu", "cuda:", "cuda:x", "cpu:0", "mps:1", "cuda:-1", ""])
def test_bad_device_is_one_line(text):
    with pytest.raises(FeatbenchError, match=r"^--device .*: choose auto, cpu, cuda, cuda:N or mps$"):
        Device.parse(text)


@needs_no_gpu
@pytest.mark.parametrize("text", ["cuda", "cuda:3"])
def test_missing_cuda_is_named(text):
    with pytest.raises(FeatbenchError) as err:
        Device.parse(text).resolve()
    assert str(err.value) == NO_CUDA.format(text)
    assert Device.parse("auto").resolve() == (Device(DeviceKind.MPS) if torch.backends.mps.is_available() else CPU)
    if not torch.backends.mps.is_available():
        with pytest.raises(FeatbenchError, match=r"^--device mps: no MPS device \(torch.backends.mps.is_available\(\) is False\)$"):
            Device.parse("mps").resolve()


def test_gpu_choice_per_worker(monkeypatch):
    """With GPUs (faked here): auto picks cuda, worker i takes cuda:(i mod n), a GPU that is not there is named."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert Device.parse("auto").resolve() == Device(DeviceKind.CUDA)
    assert [str(Device(DeviceKind.CUDA).for_worker(i)) for i in range(5)] == ["cuda:0", "cuda:1", "cuda:0", "cuda:1", "cuda:0"]
    assert str(Device.parse("cuda:1").for_worker(4)) == "cuda:1"
    with pytest.raises(FeatbenchError, match=r"^--device cuda:2: this machine has 2 CUDA devices \(cuda:0 to cuda:1\)$"):
        Device.parse("cuda:2").resolve()
    assert Device(DeviceKind.CUDA).resources() == {"GPU": 1} and CPU.resources() is None


def test_place_and_to_numpy_leave_cpu_float32_alone():
    x = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    assert place(x, CPU) is x and place(x, CPU, Precision.FLOAT32) is x
    assert np.shares_memory(to_numpy(x), x.numpy())
    module = torch.nn.Linear(3, 1)
    assert place(module, CPU) is module and place_like(x, module) is x
    half = place(torch.nn.Linear(3, 1), CPU, Precision.BFLOAT16)
    moved = place_like(x, half)
    assert moved.dtype == torch.bfloat16 and place_like(torch.ones(2, dtype=torch.long), half).dtype == torch.long
    assert to_numpy(half(moved)).dtype == np.float32


def test_local_workers_are_numbered_from_zero():
    from featbench.executors import Local
    from tests.worker_tasks import worker_number

    with Local(2) as executor:
        assert sorted(set(executor.run(worker_number, list(range(6))))) == [0, 1]


def _tiny_folder(kind, tmp_path_factory):
    return _save_tiny(kind, tmp_path_factory.mktemp(f"tiny-{kind}"))


@pytest.fixture(scope="module")
def tiny_whisper(tmp_path_factory):
    return _tiny_folder("whisper", tmp_path_factory)


def test_precision_enters_the_hash_only_when_not_float32(tiny_whisper):
    from featbench.store import FamilyMeta

    base = {"model": str(tiny_whisper), "layer": "all"}
    default, explicit = build_family("whisper", base), build_family("whisper", {**base, "precision": "fp32"})
    brain = build_family("whisper", {**base, "precision": "bf16"})
    assert default.config_hash() == explicit.config_hash() != brain.config_hash()
    assert "precision" not in FamilyMeta.of(default).config and FamilyMeta.of(default).precision == "float32"
    assert FamilyMeta.of(brain).config["precision"] == FamilyMeta.of(brain).precision == "bfloat16"
    with pytest.raises(FeatbenchError, match=r"^whisper.precision='int8': choose float32, float16 or bfloat16$"):
        build_family("whisper", {**base, "precision": "int8"})


@pytest.mark.parametrize("kind", ["whisper", "wav2vec2"])
def test_bfloat16_on_cpu_is_close_to_float32_but_not_equal(kind, tmp_path_factory):
    """Pooled (mean over frames) features of a tiny model: bfloat16 keeps ~3 significant digits."""
    folder = _tiny_folder(kind, tmp_path_factory)
    x = [tone(1.2, seed=1), tone(0.8, seed=2, freq=300)]
    full = [build_family("hf", {"model": str(folder), "layer": "all"}).extract(s, 16000) for s in x]
    brain = [build_family("hf", {"model": str(folder), "layer": "all", "precision": "bfloat16"}).extract(s, 16000) for s in x]
    for a, b in zip(full, brain):
        assert b.dtype == np.float32 and b.shape == a.shape
        pa, pb = a.mean(0), b.mean(0)
        cosine = float(pa @ pb / np.linalg.norm(pa) / np.linalg.norm(pb))
        assert 0.999 < cosine < 1.0 and np.abs(a - b).max() > 0


def test_cli_precision_is_stored_and_needs_a_neural_family(demo_corpus, tiny_whisper, tmp_path):
    from featbench.store import read_family

    base = ["extract", "demo", str(demo_corpus), "--features", "whisper", "--set", f"whisper.model={tiny_whisper}",
            "--no-progress", "--classes", "sad"]
    result = runner.invoke(app, [*base, "--out", str(tmp_path / "bf16"), "--precision", "bfloat16"])
    assert result.exit_code == 0, result.output
    assert read_family(tmp_path / "bf16", "whisper").meta.precision == "bfloat16"
    result = runner.invoke(app, ["extract", "demo", str(demo_corpus), "--features", "fbank", "--precision", "float16",
                                 "--out", str(tmp_path / "f")])
    assert result.exit_code == 1 and result.output.strip() == (
        "featbench: error: --precision float16: none of the families fbank runs a neural encoder")
    assert not (tmp_path / "f").exists()


@needs_no_gpu
@pytest.mark.parametrize("command", ["extract", "transcribe", "train", "predict"])
def test_missing_cuda_is_one_line_before_any_clip(command, demo_corpus, demo_store, tmp_path):
    out = tmp_path / "out"
    args = {"extract": ["extract", "demo", str(demo_corpus), "--features", "fbank", "--out", str(out)],
            "transcribe": ["transcribe", "demo", str(demo_corpus), "--model", str(SHARED / "models" / "whisper-base"),
                           "--out", str(out)],
            "train": ["train", str(demo_store), "--out", str(out)],
            "predict": ["predict", str(tmp_path / "model"), str(demo_corpus), "--out", str(out)]}[command]
    if command == "transcribe" and not (SHARED / "models" / "whisper-base").is_dir():
        pytest.skip("transcribe checks its Whisper folder first: ../shared/models/whisper-base is absent")
    (tmp_path / "model").mkdir()  # predict checks that its model folder exists first, before loading anything
    result = runner.invoke(app, [*args, "--device", "cuda"])
    assert result.exit_code == 1 and result.output.strip() == "featbench: error: " + NO_CUDA.format("cuda")
    assert not out.exists()


def _arrays(store) -> dict:
    from featbench.store import list_families, read_family

    out = {}
    for family in list_families(store):
        fs = read_family(store, family)
        out.update({(family, uid): np.array(fs.get(uid)) for uid in fs.ids})
    return out


def test_extraction_on_cpu_is_the_default_bit_for_bit(demo_corpus, tiny_whisper, tmp_path):
    args = ["extract", "demo", str(demo_corpus), "--features", "whisper,fbank", "--set", f"whisper.model={tiny_whisper}",
            "--set", "whisper.layer=all", "--no-progress", "--classes", "sad,angry", "--batch-size", "3"]
    for name, extra in (("default", []), ("cpu", ["--device", "cpu"])):
        result = runner.invoke(app, [*args, "--out", str(tmp_path / name), *extra])
        assert result.exit_code == 0, result.output
    default, cpu = _arrays(tmp_path / "default"), _arrays(tmp_path / "cpu")
    assert sorted(default) == sorted(cpu) and len(default) == 32
    for key, array in default.items():
        assert array.dtype == cpu[key].dtype and np.array_equal(array, cpu[key]), key


def test_training_on_cpu_is_the_default_bit_for_bit(layered, tmp_path):
    """The torch parts of a grid (sequence model, learned layer weights) give the same numbers with --device cpu."""
    args = ["train", str(layered), "--features", "toy@weighted", "--classifiers", "seq,logreg", "--seq-epochs", "3",
            "--budgets", "all", "--seeds", "0", "--folds", "2", "--no-progress"]
    for name, extra in (("default", []), ("cpu", ["--device", "cpu"])):
        result = runner.invoke(app, [*args, "--out", str(tmp_path / f"{name}.csv"), *extra])
        assert result.exit_code == 0, result.output
    default, cpu = (pd.read_csv(tmp_path / f"{name}.csv").drop(columns=["fit_seconds", "predict_seconds"])
                    .sort_values(["classifier", "fold"]).reset_index(drop=True) for name in ("default", "cpu"))
    assert set(default["classifier"]) == {"seq", "logreg"} and len(default) == 4
    pd.testing.assert_frame_equal(default, cpu, check_exact=True)
