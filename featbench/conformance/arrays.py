"""When two outputs of a family are "the same" for the conformance checks.

>>> import numpy as np
>>> same(np.zeros((2, 3), np.float32), np.zeros((2, 3)), SAME), same(np.zeros(2), np.ones(2), SAME)
(True, False)
"""
from __future__ import annotations

import numpy as np

SAME = dict(rtol=1e-5, atol=1e-6)  # deterministic: the same numbers (within float rounding of the last bit)


def same(a: np.ndarray, b: np.ndarray, tolerance: dict) -> bool:
    return a.shape == b.shape and np.allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), equal_nan=True, **tolerance)
