"""Open fairseq checkpoints without fairseq (or omegaconf): unpickle with stand-in classes.

Checkpoints of every era reference classes beyond torch: ``argparse.Namespace`` (2019/2020 ``args``),
``fairseq.meters.*`` (2019 training meters), ``fairseq.data.dictionary.Dictionary`` (HuBERT's
``task_state``) and ``omegaconf.DictConfig`` (late-2020 ``cfg``). Every ``fairseq.*`` and
``omegaconf.*`` global is replaced by a stand-in that keeps its pickled state; omegaconf containers
are then turned back into plain dicts and lists. The model config is returned as one flat dict.

>>> safe_eval_layers("[(64, 10, 5)] + [(64, 3, 2)] * 2")
[(64, 10, 5), (64, 3, 2), (64, 3, 2)]
"""
from __future__ import annotations

import ast
import pickle
from argparse import Namespace
from pathlib import Path
from types import ModuleType

from featbench.errors import FeatbenchError

_STUB_ROOTS = ("fairseq", "omegaconf")


class Stub:
    """Stand-in for a fairseq/omegaconf class: records the pickled state, does nothing else."""

    _qualname = "Stub"

    def __init__(self, *args, **kwargs):
        self._args = args

    def __setstate__(self, state):
        self.__dict__["_state"] = state

    def __repr__(self):
        return f"<stub {self._qualname}>"


def _stub_class(module: str, name: str) -> type:
    return type(name, (Stub,), {"_qualname": f"{module}.{name}"})


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module.split(".")[0] in _STUB_ROOTS:
            return _stub_class(module, name)
        return super().find_class(module, name)


def _pickle_module() -> ModuleType:
    module = ModuleType("featbench_fairseq_pickle")
    module.Unpickler = _Unpickler
    module.load = lambda f, **kw: _Unpickler(f, **kw).load()
    module.__dict__.update({k: getattr(pickle, k) for k in ("dump", "dumps", "Pickler", "HIGHEST_PROTOCOL")})
    return module


def _plain(value):
    """Turn omegaconf stand-ins (DictConfig, ListConfig, nodes) into plain Python values."""
    if isinstance(value, Stub):
        state = value.__dict__.get("_state")
        name = value._qualname
        if isinstance(state, dict) and "_content" in state:
            content = state["_content"]
            if name.endswith("ListConfig"):
                return [_plain(v) for v in content] if content is not None else None
            if name.endswith("DictConfig"):
                return {k: _plain(v) for k, v in content.items()} if content is not None else None
            return _plain(content)  # value nodes (AnyNode, StringNode, ...): their '_val'
        if isinstance(state, dict) and "_val" in state:
            return _plain(state["_val"])
        return value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def load_checkpoint(path: str | Path) -> dict:
    """Load a fairseq checkpoint dict on the CPU, with plain-Python args/cfg/task_state."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise FeatbenchError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False, pickle_module=_pickle_module())
    except (pickle.UnpicklingError, RuntimeError, EOFError, AttributeError) as err:
        raise FeatbenchError(f"{path}: not a readable PyTorch checkpoint ({type(err).__name__}: {err})") from err
    if not isinstance(state, dict) or "model" not in state:
        raise FeatbenchError(f"{path}: not a fairseq checkpoint (no 'model' state dict)")
    for key in ("cfg", "task_state"):
        if key in state:
            state[key] = _plain(state[key])
    return state


def model_config(state: dict, path: str | Path = "checkpoint") -> tuple[dict, dict]:
    """(model config, task config) as flat dicts, from 2019/2020 `args` or Hydra-era `cfg`."""
    args = state.get("args")
    if isinstance(args, Namespace):
        flat = vars(args)
        return dict(flat), dict(flat)
    cfg = state.get("cfg")
    if isinstance(cfg, dict) and isinstance(cfg.get("model"), dict):
        return dict(cfg["model"]), dict(cfg.get("task") or {})
    raise FeatbenchError(f"{path}: no model configuration found (neither 'args' nor 'cfg.model')")


def safe_eval_layers(expression: str) -> list[tuple[int, ...]]:
    """Evaluate fairseq's conv-layer expressions (lists of int tuples joined by + and *), nothing else."""

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [ev(e) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
            left, right = ev(node.left), ev(node.right)
            return left + right if isinstance(node.op, ast.Add) else left * right
        raise ValueError(f"unsupported element {ast.dump(node)[:60]}")

    try:
        value = ev(ast.parse(expression.strip(), mode="eval"))
    except (SyntaxError, ValueError) as err:
        raise FeatbenchError(f"cannot read conv layer spec {expression!r}: {err}") from err
    return [tuple(int(v) for v in layer) for layer in value]
