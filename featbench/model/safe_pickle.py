"""The classifier file of a model folder: a pickle read with an allow-list, so that a model folder from a stranger
cannot run code when it is loaded.

Unpickling calls whatever globals the file names; a crafted file names ``os.system``. `load` resolves only the
globals a fitted featbench pipeline holds (`ALLOWED`: the scikit-learn and LightGBM classes of
`featbench.train.classifiers`, a few numpy constructors, two containers) and refuses any other in one line naming
it; numpy arrays and scalars of object dtype (raw pointers when read from bytes) are refused too. This is the
safety of ``torch.load(weights_only=True)``: the classes allowed still run their own ``__setstate__`` on the
file's data (LightGBM parses its model text), so a damaged file can fail to load, but it cannot name code to run.

>>> import io, os
>>> class Evil:
...     def __reduce__(self):
...         return (os.system, ("echo pwned",))
>>> loads(pickle.dumps(Evil()), "m/classifier.pickle")
Traceback (most recent call last):
featbench.errors.FeatbenchError: m/classifier.pickle: names posix.system, which a featbench model never holds; not loaded (a model folder can run code only through what it unpickles; fit the model again or get it from someone you trust)
>>> loads(pickle.dumps({"a": [1, 2.5, "x"]}), "m")
{'a': [1, 2.5, 'x']}
"""
from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np

from featbench.errors import FeatbenchError

PROTOCOL = 5
ALLOWED = {
    "sklearn.pipeline": {"Pipeline"},
    "sklearn.preprocessing._data": {"StandardScaler"},
    "sklearn.preprocessing._label": {"LabelBinarizer", "LabelEncoder"},
    "sklearn.linear_model._logistic": {"LogisticRegression"},
    "sklearn.svm._classes": {"LinearSVC"},
    "sklearn.neural_network._multilayer_perceptron": {"MLPClassifier"},
    "sklearn.neural_network._stochastic_optimizers": {"AdamOptimizer", "SGDOptimizer"},
    "lightgbm.sklearn": {"LGBMClassifier"},
    "lightgbm.basic": {"Booster"},
    "collections": {"OrderedDict", "defaultdict"},
    "numpy.random._pickle": {"__randomstate_ctor", "__bit_generator_ctor", "__generator_ctor"},
    "numpy.random._mt19937": {"MT19937"},
    "numpy.random.mtrand": {"RandomState"},
}
"""module -> the names `load` resolves: every global a pipeline of `featbench.train.classifiers` pickles."""
_NUMPY = ("numpy._core.multiarray", "numpy.core.multiarray", "numpy._core.numeric", "numpy.core.numeric", "numpy")


def _dtype(*args, **kwargs):
    """numpy.dtype, without object dtypes (an object array read from bytes is raw pointers)."""
    made = np.dtype(*args, **kwargs)
    if made.hasobject:
        raise pickle.UnpicklingError(f"an array of object dtype ({made})")
    return made


def _frombuffer(buffer, dtype, shape, order):
    """numpy's array constructor of protocol 5 pickles, for plain dtypes only."""
    from numpy._core.numeric import _frombuffer as numpy_frombuffer

    return numpy_frombuffer(buffer, _dtype(dtype), shape, order)


def _scalar(dtype, *args):
    """numpy's scalar constructor, for plain dtypes only."""
    from numpy._core.multiarray import scalar

    return scalar(_dtype(dtype), *args)


_NUMPY_NAMES = {"dtype": _dtype, "_frombuffer": _frombuffer, "scalar": _scalar}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if module in _NUMPY and name in _NUMPY_NAMES:
            return _NUMPY_NAMES[name]
        if name in ALLOWED.get(module, ()):
            return super().find_class(module, name)
        raise _Refused(f"{module}.{name}")


class _Refused(pickle.UnpicklingError):
    """A global outside ALLOWED: its name."""


def dump(obj, path: Path) -> None:
    """Write `obj` (a fitted pipeline) as a pickle `load` reads."""
    with open(path, "wb") as handle:
        pickle.dump(obj, handle, protocol=PROTOCOL)


def loads(data: bytes, source) -> object:
    """The object pickled in `data`, resolving only ALLOWED globals; one line naming `source` for a refused global
    or a file that does not unpickle."""
    try:
        return _Unpickler(io.BytesIO(data)).load()
    except _Refused as refused:
        raise FeatbenchError(f"{source}: names {refused}, which a featbench model never holds; not loaded (a model "
                             "folder can run code only through what it unpickles; fit the model again or get it from "
                             "someone you trust)") from None
    except Exception as err:  # a damaged pickle fails in many ways (EOF, bad opcodes, an allowed class's state)
        raise FeatbenchError(f"{source}: unreadable classifier ({type(err).__name__}: {str(err)[:200]})".replace(
            "\n", " ")) from None


def load(path: Path) -> object:
    """The object pickled in the file `path` (see `loads`). A LightGBM model is read in a child process first:
    LightGBM's parser aborts the whole process on some damaged model texts (``terminate called``), which must be one
    error line, not the end of featbench."""
    data = Path(path).read_bytes()
    if b"lightgbm" in data:
        _read_in_child(data, path)
    return loads(data, path)


_MARK = "featbench-safe-pickle: "
PROBE_S = 120.0  # the longest a child may take to read a classifier (imports included)


def _read_in_child(data: bytes, source) -> None:
    """Raise what `loads` raises on `data`, read in a child process; a child that crashes or hangs is one line."""
    import os
    import subprocess
    import sys

    command = [sys.executable, "-c", "from featbench.model.safe_pickle import _probe; _probe()", str(source)]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=PROBE_S,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)})
    except subprocess.TimeoutExpired:
        raise FeatbenchError(f"{source}: unreadable classifier (reading it took over {PROBE_S:g} s)") from None
    said = [line[len(_MARK):] for line in done.stdout.decode("utf-8", "replace").splitlines() if line.startswith(_MARK)]
    if done.returncode == 0 and not said:
        return
    if said:
        raise FeatbenchError(said[-1])
    raise FeatbenchError(f"{source}: unreadable classifier (the process reading its LightGBM model crashed: exit code "
                         f"{done.returncode})")


def _probe() -> None:
    """The child of `_read_in_child`: unpickle stdin; a refusal is printed after _MARK."""
    import sys

    try:
        loads(sys.stdin.buffer.read(), sys.argv[1])
    except FeatbenchError as err:
        print(_MARK + str(err), flush=True)
