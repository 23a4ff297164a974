"""How feature values are stored: the dtypes a store keeps and the one checked conversion into them (features
choose a dtype, the store writer casts to it).

>>> cast([1.5], Dtype.FLOAT16).dtype.name
'float16'
"""
from __future__ import annotations

from enum import Enum

import numpy as np


class Dtype(str, Enum):
    """How feature values are stored (and read back).

    - FLOAT32: as extracted (the default)
    - FLOAT16: half the bytes; about 3 significant digits, magnitudes up to 65504 (larger ones fail the clip),
      below 6e-8 stored as 0
    """

    FLOAT32 = "float32"
    FLOAT16 = "float16"


def cast(array: np.ndarray, dtype: Dtype | str) -> np.ndarray:
    """`array` as `dtype`; a ValueError when a finite value does not fit it (float16 beyond 65504).

    >>> cast(np.array([1e5], np.float32), "float16")
    Traceback (most recent call last):
    ValueError: a value of 1e+05 does not fit float16 (largest 65504); store this family with dtype=float32
    """
    dtype = Dtype(dtype)
    with np.errstate(over="ignore"):  # an overflow becomes inf here, and the error below names it
        out = np.asarray(array, dtype=dtype.value)
    if dtype is Dtype.FLOAT16 and out.size:
        overflow = ~np.isfinite(out) & np.isfinite(array)
        if overflow.any():
            raise ValueError(f"a value of {float(np.abs(np.asarray(array)[overflow]).max()):.4g} does not fit float16 "
                             "(largest 65504); store this family with dtype=float32")
    return out
