"""How layers are named and laid out, in one place for every room (features name their columns, the store
slices them, train resolves views, the report labels them): 'L4' in views and reports, 'Lkk_ddd' in columns,
layer 0 first, each layer a block of equal width.

>>> layer_name(4), layer_number("L04"), layer_view("whisper@L4 [+demo]")
('L4', 4, ('whisper', 4))
"""
from __future__ import annotations

from featbench.options import is_whole


def layer_name(number: int) -> str:
    """How views and reports name layer `number`: 'L4' (``whisper@L4``).

    >>> layer_name(0)
    'L0'
    """
    return f"L{number}"


def layer_number(name: str) -> int | None:
    """The layer number a layer name spells ('L4', 'l4' or 'L04': 4); None when `name` names no layer.

    >>> layer_number("L12"), layer_number("auto"), layer_number("L\u00b2")
    (12, None, None)
    """
    return int(name[1:]) if name[:1] in ("L", "l") and is_whole(name[1:]) else None


def layer_column_names(n_layers: int, dim: int) -> list[str]:
    """Column names of an all-layer family: 'Lkk_ddd' for column d of layer k, `n_layers` layers of `dim`
    columns side by side, layer 0 first.

    >>> layer_column_names(2, 2)
    ['L00_000', 'L00_001', 'L01_000', 'L01_001']
    """
    return [f"L{k:02d}_{d:03d}" for k in range(n_layers) for d in range(dim)]


def layer_blocks(X, n_layers: int):
    """The last axis of `X` (a numpy array or a torch tensor) as `n_layers` equal blocks side by side, layer 0
    first: shape (..., n_layers, width), a view where the array allows it. ValueError when they do not split.

    >>> import numpy as np
    >>> layer_blocks(np.arange(6).reshape(1, 6), 3).tolist()
    [[[0, 1], [2, 3], [4, 5]]]
    """
    width = X.shape[-1]
    if n_layers < 1 or width % n_layers:
        raise ValueError(f"{width} columns do not split into {n_layers} equal layer blocks")
    return X.reshape(*X.shape[:-1], n_layers, width // n_layers)


def layer_view(name: str) -> tuple[str, int] | None:
    """(family, layer number) of a one-layer view name ('w@L4', also within a results entry such as
    'w@L4 [+b]'); None for any other view."""
    base, at, layer = name.split(" [", 1)[0].rpartition("@")
    number = layer_number(layer) if at else None
    return None if number is None else (base, number)
