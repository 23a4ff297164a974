"""Open fairseq checkpoints without fairseq (or omegaconf), and without running anything a checkpoint names.

A checkpoint is a pickle, and a pickle can name any Python callable (``os.system``, ``builtins.eval``,
``subprocess.Popen``) to be called while it loads. So it is read with ``torch.load(weights_only=True)``,
which builds tensors and plain containers only, plus an explicit allow-list of the globals released fairseq
checkpoints hold: ``argparse.Namespace`` (2019/2020 ``args``), ``fairseq.meters.*`` (2019 training meters),
``fairseq.data.dictionary.Dictionary`` (HuBERT's ``task_state``), omegaconf's containers and nodes (late-2020
``cfg``), the plain types omegaconf's metadata names (``typing.Any``, ``builtins.dict``, ...) and numpy scalars
and arrays (training state). Every fairseq and omegaconf name on the list loads as a stand-in (:class:`Stub`)
that records its pickled state and does nothing else; omegaconf containers are then turned back into plain
dicts and lists. Any other global is refused in one line naming it. The model config is returned as one flat
dict. torch's allow-list is process-wide, so loads take a lock while theirs is in place.

>>> safe_eval_layers("[(64, 10, 5)] + [(64, 3, 2)] * 2")
[(64, 10, 5), (64, 3, 2), (64, 3, 2)]
>>> "fairseq.data.dictionary.Dictionary" in ALLOWED and "posix.system" not in ALLOWED
True
"""
from __future__ import annotations

import argparse
import ast
import collections
import pickle
import re
import threading
import typing
import warnings
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from argparse import Namespace
from pathlib import Path

from featbench.errors import FeatbenchError, one_line

# fairseq / omegaconf classes that released checkpoints pickle; each loads as an inert stand-in.
STUBBED = (
    "fairseq.meters.AverageMeter", "fairseq.meters.TimeMeter", "fairseq.meters.StopwatchMeter",
    "fairseq.data.dictionary.Dictionary",
    "omegaconf.dictconfig.DictConfig", "omegaconf.listconfig.ListConfig",
    "omegaconf.base.Metadata", "omegaconf.base.ContainerMetadata",
    "omegaconf.nodes.AnyNode", "omegaconf.nodes.StringNode", "omegaconf.nodes.IntegerNode",
    "omegaconf.nodes.FloatNode", "omegaconf.nodes.BooleanNode", "omegaconf.nodes.EnumNode",
)
# real objects that are safe to hand over (or to call with pickled arguments): types and data constructors
PLAIN = {"argparse.Namespace": argparse.Namespace, "collections.defaultdict": collections.defaultdict,
         "typing.Any": typing.Any, **{f"builtins.{t.__name__}": t for t in (dict, list, tuple, int, float, str, bool)}}


def _numpy_values() -> dict:
    """numpy scalars and arrays, which fairseq's training state can hold: dtypes, ndarray and the two functions
    numpy's own pickles call to rebuild them from bytes (under their numpy 1 and numpy 2 module names)."""
    import numpy as np

    core = getattr(np, "_core", None) or np.core  # numpy 2 warns on np.core
    found: dict = {"numpy.dtype": np.dtype, "numpy.ndarray": np.ndarray}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        found.update({f"{module}._reconstruct": core.multiarray._reconstruct, f"{module}.scalar": core.multiarray.scalar})
    for code in "?bhilqBHILQefdgFDGSUVOMm":  # a dtype instance is rebuilt (BUILD) only if its class is allowed
        kind = type(np.dtype(code))
        found[f"numpy.dtypes.{kind.__name__}"] = kind
    return found
_LOCK = threading.Lock()  # torch's allow-list is process-wide: one checkpoint load at a time adds and removes ours
_REFUSED_GLOBAL = re.compile(r"GLOBAL (.+?) (?:was not an allowed global|whose module)")


class Stub:
    """Stand-in for a fairseq/omegaconf class: records the pickled state, does nothing else."""

    _qualname = "Stub"

    def __init__(self, *args, **kwargs):
        self._args = args

    def __setstate__(self, state):
        self.__dict__["_state"] = state

    def __repr__(self):
        return f"<stub {self._qualname}>"


def _stub_class(qualname: str) -> type:
    return type(qualname.rsplit(".", 1)[1], (Stub,), {"_qualname": qualname})


ALLOWED = {**{name: _stub_class(name) for name in STUBBED}, **PLAIN, **_numpy_values()}
_SAFE_GLOBALS = [(obj, name) for name, obj in ALLOWED.items()]


def _plain(value):
    """Turn omegaconf stand-ins (DictConfig, ListConfig, nodes) into plain Python values."""
    if isinstance(value, Stub):
        state = value.__dict__.get("_state")
        name = value._qualname
        if isinstance(state, dict) and "_content" in state:
            content = state["_content"]
            if name.endswith("ListConfig") and isinstance(content, (list, tuple)):
                return [_plain(v) for v in content]
            if name.endswith("DictConfig") and isinstance(content, dict):
                return {k: _plain(v) for k, v in content.items()}
            if content is None or not name.endswith("Config"):
                return _plain(content)  # a None container, or a value node's content
            raise ValueError(f"{name} holds a {type(content).__name__}")
        if isinstance(state, dict) and "_val" in state:
            return _plain(state["_val"])
        return value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _refusal(path: Path, err: pickle.UnpicklingError) -> FeatbenchError:
    """One line for what torch's weights-only unpickler refused: the global by name when it was one."""
    found = _REFUSED_GLOBAL.search(str(err))
    if found:
        module, _, name = found.group(1).rpartition(".")
        module = module or "builtins"  # torch drops the 'builtins.' of what it names
        module, name = NAME_MAPPING.get((module, name), (IMPORT_MAPPING.get(module, module), name))  # Python 2 names
        shown = f"{module}.{name}"[:200]
        return FeatbenchError(f"{path}: refuses to load global '{shown}' (a checkpoint may hold tensors, plain values "
                              "and fairseq's own classes only; this name could run code)")
    lines = [line.strip() for line in str(err).replace("\\n", "\n").splitlines() if line.strip()]
    detail = next((line for line in reversed(lines) if not line.startswith("Check the documentation")), "")
    return FeatbenchError(f"{path}: not a readable PyTorch checkpoint (refused by the weights-only loader: {detail[:200]})")


def load_checkpoint(path: str | Path) -> dict:
    """Load a fairseq checkpoint dict on the CPU, with plain-Python args/cfg/task_state; nothing in it runs."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise FeatbenchError(f"{path}: checkpoint not found")
    try:
        with _LOCK, torch.serialization.safe_globals(_SAFE_GLOBALS), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch's advice on odd pickle protocols, TorchScript zips
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise _refusal(path, err) from err
    except Exception as err:  # damaged bytes make torch's readers raise anything (struct.error, AssertionError, ...)
        raise FeatbenchError(f"{path}: not a readable PyTorch checkpoint ({one_line(err)[:300]})") from err
    if not isinstance(state, dict) or not isinstance(state.get("model"), dict):
        raise FeatbenchError(f"{path}: not a fairseq checkpoint (no 'model' state dict)")
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state["model"].items()):
        raise FeatbenchError(f"{path}: not a fairseq checkpoint (its 'model' holds more than named tensors)")
    try:
        for key in ("cfg", "task_state"):
            if key in state:
                state[key] = _plain(state[key])
    except (ValueError, RecursionError) as err:
        raise FeatbenchError(f"{path}: malformed fairseq configuration ({one_line(err)[:200]})") from err
    return state


def model_config(state: dict, path: str | Path = "checkpoint") -> tuple[dict, dict]:
    """(model config, task config) as flat dicts, from 2019/2020 `args` or Hydra-era `cfg`."""
    args = state.get("args")
    if isinstance(args, Namespace):
        flat = vars(args)
        return dict(flat), dict(flat)
    cfg = state.get("cfg")
    if isinstance(cfg, dict) and isinstance(cfg.get("model"), dict):
        task = cfg.get("task")
        if task is not None and not isinstance(task, dict):
            raise FeatbenchError(f"{path}: its 'cfg.task' is a {type(task).__name__}, not a dict of task options")
        return dict(cfg["model"]), dict(task or {})
    raise FeatbenchError(f"{path}: no model configuration found (neither 'args' nor 'cfg.model')")


MAX_LAYERS = 1000  # in a conv layer spec: fairseq's models have 7 to 13; a spec beyond this is a hostile one
MAX_VALUE = 2 ** 31  # any number in it (a width, kernel, stride or multiplier)
MAX_SPEC = 10_000  # characters


def safe_eval_layers(expression: str, source: str = "checkpoint") -> list[tuple[int, int, int]]:
    """Evaluate fairseq's conv-layer expressions (lists of (dim, kernel, stride) tuples joined by + and *), nothing
    else; sizes are bounded while evaluating, so that ``[(1, 1, 1)] * 1000000000`` is refused, not built.

    >>> safe_eval_layers("[(64, 3, 2)] * 1000000000", "x.pt")
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: x.pt: cannot read conv layer spec '[(64, 3, 2)] * 1000000000': more than 1000 layers
    """

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [ev(e) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return _bounded(node.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
            return _combine(ev(node.left), ev(node.right), isinstance(node.op, ast.Add))
        raise ValueError(f"unsupported element {ast.dump(node)[:60]}")

    shown = repr(expression[:80]) if isinstance(expression, str) else f"of type {type(expression).__name__}"
    try:
        if not isinstance(expression, str) or len(expression) > MAX_SPEC:
            raise ValueError(f"not a text of at most {MAX_SPEC} characters")
        value = ev(ast.parse(expression.strip(), mode="eval"))
        if not isinstance(value, (list, tuple)) or not value:
            raise ValueError("not a list of layers")
        layers = [tuple(_whole(v) for v in layer) if isinstance(layer, (list, tuple)) else () for layer in value]
        if any(len(layer) != 3 or min(layer) < 1 for layer in layers):
            raise ValueError("each layer must be (dim, kernel, stride), positive whole numbers")
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError) as err:
        raise FeatbenchError(f"{source}: cannot read conv layer spec {shown}: {err}") from err
    return layers


def _bounded(number):
    if not abs(number) <= MAX_VALUE:  # also NaN
        raise ValueError(f"number {number!r} out of range")
    return number


def _whole(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ValueError(f"{value!r} is not a whole number")
    return int(value)


def _combine(left, right, add: bool):
    """left + right or left * right of numbers, or of layer lists (concatenated, repeated), never over the bounds."""
    numbers = (int, float)
    if isinstance(left, numbers) and isinstance(right, numbers):
        return _bounded(left + right if add else left * right)
    if add and type(left) is type(right):
        joined = left + right
    elif not add and isinstance(left, (list, tuple)) != isinstance(right, (list, tuple)):
        sequence, times = (left, right) if isinstance(left, (list, tuple)) else (right, left)
        if isinstance(times, float) or len(sequence) * max(times, 0) > MAX_LAYERS:
            raise ValueError(f"more than {MAX_LAYERS} layers" if isinstance(times, int) else "a fractional repeat")
        joined = sequence * times
    else:
        raise ValueError(f"cannot {'add' if add else 'multiply'} {type(left).__name__} and {type(right).__name__}")
    if len(joined) > MAX_LAYERS:
        raise ValueError(f"more than {MAX_LAYERS} layers")
    return joined
