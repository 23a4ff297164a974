"""Surface: fairseq checkpoints a user hands featbench (``--set wav2vec1.checkpoint=PATH``, ``fairseq.checkpoint=PATH``).

A checkpoint is a pickle, and a pickle can call whatever it names while it loads. The first promise: nothing in a
checkpoint runs. Every case gets an empty trap folder that the hostile pickles try to write into (os.system,
builtins.eval / exec, subprocess, open, shutil, numpy.save, torch.save, a pickle inside the pickle); a case after
which the trap is not empty breaks the contract, whatever featbench said.

The contract of `load_checkpoint` + `model_config`, and of building the model the checkpoint describes (the family
a user names, as `extract` does before any clip): refused in one line naming the file (and a refused global by
name), or loaded with a 'model' of named tensors and configs of plain dicts; in bounded time and memory.
Generated cases: byte-mutated checkpoints (small synthetic ones made here, in the 2019 legacy and the zip format,
and the ../shared fairseq reference layouts when present), pickles calling dangerous or random disallowed
globals, pickles abusing the allowed ones, wrong types for 'model', 'args' and 'cfg', a config value replaced by
a hostile one, and storages or tensors claiming huge sizes.
"""

from __future__ import annotations

import functools
import io
import os
import pickle
import pickletools
import random
import struct
import subprocess
import time
import zipfile
from argparse import Namespace
from pathlib import Path

import pytest

from hostile.contract import (
    Case,
    Surface,
    assert_one_line_error,
    campaign,
    cases_budget,
    hostile_value,
    mutate,
    run_cli,
)
from tests.conftest import SHARED, write_wav

REF = SHARED / "models" / "fairseq-reference"
TINY = dict(
    arch="wav2vec",
    conv_feature_layers="[(16, 10, 5), (16, 8, 4)]",
    vq_type="none",
    conv_aggregator_layers="[(16, 2, 1), (16, 3, 1)]",
    log_compression=True,
    fp16=False,
)
VQ = dict(vq_type="gumbel", vq_vars=8, vq_groups=2)
KEYS = ("args", "cfg", "model", "task_state", "extra_state", "optimizer_history")


class CodeRan(Exception):
    """A checkpoint wrote into its trap folder while featbench opened it."""


class _Calls:
    """Pickles as a call of `function(*args)` (what an attacker's checkpoint holds)."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


# ---- building checkpoints: real pickles, hand-made pickles, both containers ----


@functools.cache
def tiny_weights(vq: bool) -> dict:
    """The state dict of a tiny wav2vec (v1) model (`TINY`, with vq-wav2vec's gumbel quantizer when `vq`)."""
    import torch

    from featbench.encoders.wav2vec1 import Wav2VecV1, Wav2VecV1Config

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return Wav2VecV1(Wav2VecV1Config.from_args({**TINY, **(VQ if vq else {})})).state_dict()


@functools.cache
def synthetic(layout: str) -> bytes:
    """A tiny wav2vec (v1) checkpoint as fairseq lays it out: 'args-legacy', 'args-zip', 'cfg-zip', 'vq-args-legacy'."""
    args, weights = {**TINY, **(VQ if layout.startswith("vq") else {})}, tiny_weights(layout.startswith("vq"))
    if "cfg" in layout:
        state = {"args": None, "cfg": {"model": {"_name": "wav2vec", **args}, "task": {}}, "model": weights}
    else:
        state = {
            "args": Namespace(**args),
            "model": weights,
            "optimizer_history": [{"num_updates": 1}],
            "extra_state": {"epoch": 1},
        }
    return _saved(state, zipped=layout.endswith("zip"))


def _saved(state, zipped: bool) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer, _use_new_zipfile_serialization=zipped)
    return buffer.getvalue()


@functools.cache
def bases() -> list[tuple[str, bytes, str]]:
    """(name, bytes, family) of every checkpoint the fuzzer starts from."""
    found = [
        (layout, synthetic(layout), "wav2vec1") for layout in ("args-legacy", "args-zip", "cfg-zip", "vq-args-legacy")
    ]
    for path in sorted(REF.glob("*.pt")) if REF.is_dir() else []:
        found.append(
            (path.stem, path.read_bytes(), "fairseq" if path.stem.startswith(("wav2vec2", "hubert")) else "wav2vec1")
        )
    return found


def value_ops(obj) -> bytes:
    """The pickle opcodes that push one plain value (no PROTO, no STOP)."""
    return pickletools.optimize(pickle.dumps(obj, protocol=2))[2:-1]


def call_ops(module: str, name: str, args: tuple) -> bytes:
    """Opcodes that call module.name(*args): GLOBAL, the argument tuple, REDUCE."""
    return b"c" + f"{module}\n{name}\n".encode() + value_ops(tuple(args)) + b"R"


def checkpoint_pickle(key: str, ops: bytes) -> bytes:
    """A protocol-2 pickle of {'model': {}, key: <what ops push>}."""
    return b"\x80\x02}" + value_ops("model") + b"}s" + value_ops(key) + ops + b"s."


def contained(pickled: bytes, container: str) -> bytes:
    """A pickle as torch.load meets it: in a zip archive's data.pkl, after the legacy format's header, or raw."""
    if container == "raw":
        return pickled
    if container == "legacy":
        header = b"".join(
            pickle.dumps(x, protocol=2)
            for x in (
                0x1950A86A20F9469CFC6C,
                1001,
                {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}},
            )
        )
        return header + pickled + pickle.dumps([], protocol=2)
    source, out = zipfile.ZipFile(io.BytesIO(_saved({"model": {}}, zipped=True))), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name in source.namelist():
            archive.writestr(name, pickled if name.endswith("/data.pkl") else source.read(name))
    return out.getvalue()


def dangers(trap: Path) -> list[tuple[str, str, tuple]]:
    """(module, name, args): calls that would write into `trap` if anything ran them."""
    t = str(trap / "ran")
    inner = pickle.dumps(_Calls(os.system, f"touch {t}"), protocol=2)
    opened = f"open({t!r}, 'w').close()"
    return [
        ("posix", "system", (f"touch {t}",)),
        ("os", "system", (f"touch {t}",)),
        ("builtins", "eval", (opened,)),
        ("builtins", "exec", (opened,)),
        ("__builtin__", "eval", (opened,)),
        ("io", "open", (t, "w")),
        ("builtins", "open", (t, "w")),
        ("subprocess", "call", (["touch", t],)),
        ("subprocess", "run", (["touch", t],)),
        ("subprocess", "check_output", (["touch", t],)),
        ("shutil", "copyfile", (__file__, t)),
        ("numpy", "save", (t, 0)),
        ("torch.serialization", "save", ({}, t)),
        ("torch", "save", ({}, t)),
        ("pickle", "loads", (inner,)),
        ("_pickle", "loads", (inner,)),
        ("fairseq.checkpoint_utils", "torch_persistent_save", ({}, t)),
        ("omegaconf.omegaconf", "OmegaConf", ()),
    ]


def canonical(module: str, name: str) -> str:
    return f"{'builtins' if module == '__builtin__' else module}.{name}"


# ---- the cases ----


def opened(path: Path, family: str | None):
    """What featbench does with a checkpoint: load it, read its config, build the family's model from it."""
    from featbench.encoders.checkpoint import load_checkpoint, model_config
    from featbench.features import build_family

    state = load_checkpoint(path)
    model_cfg, task_cfg = model_config(state, path)
    return state, model_cfg, task_cfg, build_family(family, {"checkpoint": str(path)}) if family else None


def well_formed(result) -> bool:
    import torch

    state, model_cfg, task_cfg, family = result
    return (
        all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state["model"].items())
        and isinstance(model_cfg, dict)
        and isinstance(task_cfg, dict)
        and (family is None or family.dim > 0)
    )


def trapped(action, trap: Path):
    """`action`, then a CodeRan (a contract break) if anything appeared in the trap folder."""

    def run():
        try:
            return action()
        finally:
            if any(trap.iterdir()):
                raise CodeRan(f"the checkpoint ran code: {[p.name for p in trap.iterdir()]} appeared in {trap}")

    return run


def _payload(rng: random.Random, trap: Path) -> tuple[bytes, str, list[str]]:
    """(pickle, what it is, the globals a refusal must name: none when it uses only allowed ones)."""
    from featbench.encoders.checkpoint import ALLOWED

    key, kind = rng.choice(KEYS), rng.randrange(5)
    if kind == 4:  # a list nested 10**5 deep, or one that holds itself
        depth = 10**5
        ops = b"]" * depth + b"a" * (depth - 1) if rng.random() < 0.5 else b"]q\x00h\x00a"
        return checkpoint_pickle(key, ops), f"{key}=deep or cyclic list", []
    if kind == 0:
        module, name, args = rng.choice(dangers(trap))
        ops, named = call_ops(module, name, args), [canonical(module, name)]
    elif kind == 1:
        module = rng.choice(
            [
                "os",
                "sys",
                "nt",
                "posix",
                "builtins",
                "subprocess",
                "socket",
                "ctypes",
                "code",
                "pty",
                "fairseq.tasks",
                "omegaconf.omegaconf",
                "torch.hub",
                "numpy.core.multiarray",
                "a b",
                "ñ",
                "".join(rng.choice("abcxyz_.") for _ in range(rng.randrange(1, 12))),
            ]
        )
        name = rng.choice(
            ["system", "eval", "Popen", "getattr", "__import__", "Dictionary", "x" * rng.randrange(1, 300)]
        )
        ops = call_ops(module, name, (hostile_value(rng),))
        named = [] if canonical(module, name) in ALLOWED else [canonical(module, name)]
    else:
        full = rng.choice(
            sorted(ALLOWED) + ["collections.OrderedDict", "torch.Size", "torch._utils._rebuild_tensor_v2"]
        )
        module, name = full.rsplit(".", 1)
        args = tuple(hostile_value(rng) for _ in range(rng.randrange(3)))
        ops = (
            call_ops(module, name, args)
            if kind == 2
            else b"c"
            + f"{module}\n{name}\n".encode()
            + value_ops(args)
            + b"\x81"
            + value_ops(hostile_value(rng))
            + b"b"
        )
        named = []
    return checkpoint_pickle(key, ops), f"{key}={'.'.join([module, name])[:40]}", named


def _huge(rng: random.Random) -> bytes:
    """A synthetic checkpoint whose first storage (numel) or tensor (size) claims 2**k elements."""
    data = bytearray(synthetic(rng.choice(("args-legacy", "args-zip"))))
    big = b"\x8a\x08" + (2 ** rng.randrange(20, 63)).to_bytes(8, "little")
    numel = 16 * 1 * 10  # the first conv weight (16, 1, 10)
    mark = b"J" + struct.pack("<i", numel) if numel > 255 else b"K" + bytes([numel])
    where = [i for i in range(len(data)) if data.startswith(mark, i)][: rng.randrange(1, 3)]
    for i in reversed(where):
        data[i : i + len(mark)] = big
    return bytes(data)


def checkpoint_cases(rng: random.Random, workdir: Path):
    for i in range(10**9):
        trap, path = workdir / f"trap{i}", workdir / f"case{i}.pt"
        trap.mkdir()
        roll, family, named = rng.random(), None, []
        if roll < 0.35:
            label, data, family = rng.choice(bases())
            for _ in range(rng.randrange(1, 4)):
                data = mutate(data, rng)
        elif roll < 0.75:
            pickled, label, named = _payload(rng, trap)
            container = rng.choice(("zip", "legacy", "raw"))
            data, label = contained(pickled, container), f"{container} {label}"
        elif roll < 0.85:
            state = {
                "model": rng.choice([{}, hostile_value(rng)]),
                rng.choice(("args", "cfg")): hostile_value(rng),
                "cfg": rng.choice([{"model": hostile_value(rng), "task": hostile_value(rng)}, hostile_value(rng)]),
            }
            data, label = _saved(state, zipped=rng.random() < 0.5), "wrong types"
        elif roll < 0.95:
            key = rng.choice(sorted({**TINY, **VQ, "gru_dim": 0, "aggregator": 0, "residual_scale": 0}))
            value = rng.choice([hostile_value(rng), 10**9, "[(1, 1, 1)] * 1000000000", "[(100000, 10, 5)]", "gru"])
            vq = rng.random() < 0.5
            state = {"args": Namespace(**{**TINY, **(VQ if vq else {}), key: value}), "model": tiny_weights(vq)}
            data, label, family = _saved(state, zipped=False), f"args.{key}={value!r:.40}", "wav2vec1"
        else:
            data, label = _huge(rng), "huge declared size"
        path.write_bytes(data)
        names = [f"{path}: refuses to load global '{name[:200]}" for name in named] or [str(path)]
        yield Case(
            f"{path.name} ({label})",
            trapped(lambda p=path, f=family: opened(p, f), trap),
            check=(lambda r: False) if named else well_formed,
            names=names,
            seconds=30,
        )


SURFACE = Surface("checkpoints", checkpoint_cases)


def test_generated_checkpoints_run_nothing_and_are_loaded_or_refused(tmp_path):
    campaign(SURFACE, cases_budget(60), tmp_path).assert_clean(at_least=60)


PAYLOADS = {
    "posix.system": lambda t: _Calls(os.system, f"touch {t}"),
    "builtins.eval": lambda t: _Calls(eval, f"open({str(t)!r}, 'w').close()"),
    "subprocess.Popen": lambda t: _Calls(subprocess.Popen, ["touch", str(t)]),
}
REFUSAL = "refuses to load global '{}' (a checkpoint may hold tensors, plain values and fairseq's own classes only"


def _evil(folder: Path, name: str, zipped: bool) -> tuple[Path, Path]:
    """(a checkpoint whose 'args' calls the payload `name` at load, the trap folder that payload writes into)."""
    trap = folder / "trap"
    trap.mkdir()
    path = folder / "evil.pt"
    path.write_bytes(_saved({"model": {}, "args": PAYLOADS[name](trap / "ran")}, zipped))
    return path, trap


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy"])
@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_a_crafted_checkpoint_runs_nothing_and_is_refused_naming_the_global(tmp_path, name, zipped):
    """Issue 26, defect 1: torch.load(weights_only=False) with an unpickler that resolved any global ran these."""
    from featbench.encoders.checkpoint import load_checkpoint
    from featbench.errors import FeatbenchError

    path, trap = _evil(tmp_path, name, zipped)
    with pytest.raises(FeatbenchError) as err:
        load_checkpoint(path)
    time.sleep(0.3)  # what a started process would have written by now
    assert not any(trap.iterdir()), "the checkpoint ran code"
    assert str(err.value).startswith(f"{path}: " + REFUSAL.format(name)) and "\n" not in str(err.value)


def _one_clip_corpus(folder: Path) -> Path:
    write_wav(folder / "a.wav")
    (folder / "corpus.csv").write_text("path,label,speaker\na.wav,neutral,s1\n")
    return folder / "corpus.csv"


@pytest.mark.parametrize(
    "family, name, zipped", [("wav2vec1", "posix.system", True), ("fairseq", "subprocess.Popen", False)]
)
def test_the_cli_refuses_a_crafted_checkpoint_in_one_line_and_runs_nothing(tmp_path, family, name, zipped):
    path, trap = _evil(tmp_path, name, zipped)
    result = run_cli(
        [
            "extract",
            "csv",
            str(_one_clip_corpus(tmp_path)),
            "--features",
            family,
            "--set",
            f"{family}.checkpoint={path}",
            "--out",
            str(tmp_path / "store"),
        ],
        seconds=60,
    )
    assert_one_line_error(result, naming=f"{path}: " + REFUSAL.format(name))
    time.sleep(0.3)
    assert not any(trap.iterdir()) and not (tmp_path / "store").exists()


@pytest.mark.parametrize(
    "expression, problem",
    [
        ("[(1, 1, 1)] * 5000", "more than 1000 layers"),
        ("[(1, 1, 1)] * 1000000000", "more than 1000 layers"),
        ("[(1, 1, 1)] * 100000 * 100000", "more than 1000 layers"),
        ("[(1,1,1)]*10**9", "unsupported element"),
        ("[(64, 3, 2)] * 2.5", "a fractional repeat"),
        ("[(1e300, 1, 1)]", "out of range"),
        ("[(64, 3)]", "(dim, kernel, stride)"),
        ("[(0, 3, 2)]", "positive whole numbers"),
        ("[1, 2]", "(dim, kernel"),
        ("[(1, 1, 1)] + (1, 2, 3)", "cannot add list and tuple"),
        ("x" * 20000, "at most 10000 characters"),
        ("__import__('os').system('true')", "unsupported element"),
        ("[" * 5000 + "]" * 5000, ""),
        (7, "of type int"),
    ],
)
def test_conv_layer_specs_are_refused_in_one_line_within_bounds(expression, problem):
    """fairseq's conv layer specs are Python expressions in the checkpoint's config: evaluated with + and * only,
    and with the list's length bounded while it is computed (not after a billion tuples are built)."""
    from featbench.encoders.checkpoint import safe_eval_layers
    from featbench.errors import FeatbenchError

    start = time.perf_counter()
    with pytest.raises(FeatbenchError) as err:
        safe_eval_layers(expression, "x.pt")
    assert time.perf_counter() - start < 1
    text = str(err.value)
    assert text.startswith("x.pt: cannot read conv layer spec") and problem in text and "\n" not in text


def _claiming(folder: Path, **args) -> Path:
    """A tiny vq-wav2vec checkpoint whose args are replaced by `args` (its weights stay tiny)."""
    path = folder / "claims.pt"
    path.write_bytes(_saved({"args": Namespace(**{**TINY, **VQ, **args}), "model": tiny_weights(True)}, zipped=False))
    return path


@pytest.mark.parametrize(
    "args",
    [
        {"vq_vars": 10**9},
        {"conv_feature_layers": "[(60000, 10, 5), (60000, 8, 4)]"},
        {"aggregator": "gru", "gru_dim": 10**6},
        {"conv_aggregator_layers": "[(16, 2, 1)] * 900"},
    ],
)
def test_a_config_claiming_a_huge_model_is_refused_before_building_it(tmp_path, args):
    """The config decides the model's size and the weights were compared only when loaded: a few bytes of args
    built gigabytes of parameters first. Now the architecture is compared with the weights on the meta device."""
    from featbench.errors import FeatbenchError
    from featbench.features import build_family

    path = _claiming(tmp_path, **args)
    start = time.perf_counter()
    with pytest.raises(FeatbenchError, match=f"{path}: weights do not fit the architecture its args describe"):
        build_family("wav2vec1", {"checkpoint": str(path)})
    assert time.perf_counter() - start < 10


def test_the_cli_refuses_a_huge_claimed_model_in_bounded_memory(tmp_path):
    """With the previous loader this run built (and initialised) about 6 GB of quantizer before comparing it with
    the file's 8 codewords."""
    path = _claiming(tmp_path, vq_vars=3 * 10**7)
    result = run_cli(
        [
            "extract",
            "csv",
            str(_one_clip_corpus(tmp_path)),
            "--features",
            "wav2vec1",
            "--set",
            f"wav2vec1.checkpoint={path}",
            "--out",
            str(tmp_path / "store"),
        ],
        seconds=60,
        memory_mb=1500,
    )
    assert_one_line_error(result, naming=f"{path}: weights do not fit")


@pytest.mark.skipif(not REF.is_dir(), reason=f"fairseq reference fixtures not found at {REF}")
def test_a_fairseq_config_claiming_a_million_layers_is_refused_at_once(tmp_path):
    """wav2vec 2.0 / HuBERT: encoder_layers=10**6 was minutes of building layers and gigabytes before the check."""
    import torch

    from featbench.encoders.checkpoint import load_checkpoint
    from featbench.errors import FeatbenchError
    from featbench.features import build_family

    state = load_checkpoint(REF / "wav2vec2_large_tiny_cfg.pt")
    state["cfg"]["model"]["encoder_layers"] = 10**6
    path = tmp_path / "deep.pt"
    torch.save({"cfg": state["cfg"], "model": state["model"]}, path)
    start = time.perf_counter()
    with pytest.raises(FeatbenchError, match=r"1000000 transformer layers, the file holds 2"):
        build_family("fairseq", {"checkpoint": str(path)})
    assert time.perf_counter() - start < 20


def test_numpy_training_state_loads_and_an_object_array_smuggles_no_call(tmp_path):
    """fairseq's training state can hold numpy scalars and arrays: they load as they were saved. An object array's
    elements are unpickled like everything else: one that is a call is refused by name."""
    import numpy as np

    from featbench.encoders.checkpoint import load_checkpoint
    from featbench.errors import FeatbenchError

    extra = {
        "best": np.float64(2.5),
        "ids": np.arange(4),
        "names": np.array(["a", "bc"]),
        "half": np.ones(3, np.float16),
    }
    path = tmp_path / "numpy.pt"
    path.write_bytes(
        _saved({"args": Namespace(**TINY), "model": tiny_weights(False), "extra_state": extra}, zipped=False)
    )
    loaded = load_checkpoint(path)["extra_state"]
    assert all(np.asarray(loaded[k]).dtype == np.asarray(v).dtype and (loaded[k] == v).all() for k, v in extra.items())
    trap = tmp_path / "trap"
    trap.mkdir()
    path.write_bytes(
        _saved(
            {"model": {}, "extra_state": np.array([_Calls(os.system, f"touch {trap / 'ran'}")], object)}, zipped=True
        )
    )
    with pytest.raises(FeatbenchError, match=f"{path}: " + REFUSAL.format("posix.system").replace("(", r"\(")):
        load_checkpoint(path)
    assert not any(trap.iterdir())
