"""How much memory one read of an import source may take, checked against what the source declares before
anything is allocated.

A source's headers declare each array's shape and type (an .npy header, an HDF5 dataset's dataspace); a
2.5 KB file can declare terabytes. Every array is checked before it is read: its values must be numbers,
and its cost (its bytes as declared, plus 16 bytes a value for the float32 copies an import makes) must fit
the budget: ``--memory-gb`` (``featbench import``), else the ``FEATBENCH_IMPORT_MEMORY_GB`` environment
variable, else half the memory available when the import starts.

>>> budget = MemoryBudget.of("0.001")
>>> budget.bytes, budget.describe()
(1000000, '0.001 GB, set by --memory-gb 0.001')
>>> budget.check("e.npz: 'a'", (10, 3), np.dtype("float64"))
>>> budget.check("e.npz: 'a'", (24, 2 ** 31), np.dtype("float64"))
Traceback (most recent call last):
featbench.errors.FeatbenchError: e.npz: 'a' declares shape (24, 2147483648) of float64 (1.24 TB to read), more than the import's memory budget (0.001 GB, set by --memory-gb 0.001)
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from featbench.errors import FeatbenchError

VARIABLE = "FEATBENCH_IMPORT_MEMORY_GB"
PER_VALUE = 16  # bytes a value costs beyond its own: the float32 copies an import makes (stored rows, reshape, hash)
ID_BYTES = 64  # what an id costs in memory beyond its stored bytes (a Python string)
UNKNOWN_AVAILABLE = 4 * 10 ** 9  # the memory assumed available where the system does not say
NUMBERS = "fiub"  # numpy kinds an import reads: float, signed and unsigned integer, boolean


@dataclass(frozen=True)
class MemoryBudget:
    """The most bytes one read may cost, and where that figure comes from (for messages)."""

    bytes: int
    origin: str

    @classmethod
    def of(cls, setting: str | float | None = None) -> MemoryBudget:
        """The budget from `setting` (GB, or 'auto'), else FEATBENCH_IMPORT_MEMORY_GB, else half the available memory;
        a one-line FeatbenchError naming the setting when it is not a positive number of GB."""
        if setting is not None and str(setting).strip():
            return cls._parse(str(setting), f"--memory-gb {setting}")
        text = os.environ.get(VARIABLE, "")
        if text.strip():
            return cls._parse(text, f"{VARIABLE}={text}")
        return cls._auto()

    @classmethod
    def _parse(cls, text: str, origin: str) -> MemoryBudget:
        if text.strip().lower() == "auto":
            return cls._auto()
        try:
            gb = float(text)
        except ValueError:
            gb = math.nan
        if not (math.isfinite(gb) and gb > 0):
            raise FeatbenchError(f"{origin}: give the memory one read may take in GB, a number above 0 (or auto)")
        return cls(max(1, int(gb * 1e9)), f"set by {origin}")

    @classmethod
    def _auto(cls) -> MemoryBudget:
        available = available_bytes()
        known = available is not None
        half = (available if known else UNKNOWN_AVAILABLE) // 2
        what = "half the memory available" if known else "half of 4 GB (the available memory is unknown)"
        return cls(half, f"{what}; --memory-gb or {VARIABLE} sets another")

    def check(self, where: str, shape: tuple, dtype: np.dtype, extra: int = 0) -> None:
        """Refuse in one line (naming `where`) an array of `shape` and `dtype` that is not numbers, or whose read
        (plus `extra` bytes, e.g. a compressed chunk's worst case) would cost more than the budget."""
        if dtype.kind not in NUMBERS or dtype.fields is not None or dtype.subdtype is not None:
            raise FeatbenchError(f"{where}: values of type {describe(dtype)} are not numbers; an import reads integers, "
                                 "floats or booleans")
        if any(n < 0 for n in shape):
            raise FeatbenchError(f"{where}: declares an impossible shape {tuple(shape)}")
        self.require(where, math.prod(shape) * (dtype.itemsize + PER_VALUE) + extra,
                     f"shape {tuple(int(n) for n in shape)} of {dtype}")

    def require(self, where: str, cost: int, what: str) -> None:
        """Refuse in one line (naming `where`) a read of `what` that would cost `cost` bytes, more than the budget."""
        if cost > self.bytes:
            raise FeatbenchError(f"{where} declares {what} ({size(cost)} to read), more than the import's memory budget "
                                 f"({self.describe()})")

    def describe(self) -> str:
        return f"{self.bytes / 1e9:.3g} GB, {self.origin}"


def describe(dtype: np.dtype) -> str:
    """A dtype as a message names it: Python objects, strings, complex numbers by those words.

    >>> describe(np.dtype(object)), describe(np.dtype("U3")), describe(np.dtype("c16"))
    ('object (Python objects, never loaded: unpickling them could run code)', 'str (text)', 'complex128')
    """
    vlen = (dtype.metadata or {}).get("vlen")
    if vlen is not None:  # an HDF5 variable-length type, as h5py reads it
        return "variable-length text" if vlen in (str, bytes) else "variable-length sequences"
    if (dtype.metadata or {}).get("ref") is not None:
        return "HDF5 references"
    if dtype.hasobject:
        return f"{dtype} (Python objects, never loaded: unpickling them could run code)"
    if dtype.kind in "SU":
        return f"{'str' if dtype.kind == 'U' else 'bytes'} (text)"
    return str(dtype)


def size(n: int) -> str:
    """A number of bytes for a message.

    >>> size(2500), size(412 * 10 ** 9)
    ('2.5 KB', '412 GB')
    """
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


def available_bytes() -> int | None:
    """The memory available to this process now: the system's (Linux MemAvailable, else free pages), less where a
    cgroup (a container) allows less; None where the system does not say."""
    found = None
    try:
        with open("/proc/meminfo") as handle:
            found = next((int(line.split()[1]) * 1024 for line in handle if line.startswith("MemAvailable:")), None)
    except (OSError, ValueError, IndexError):
        found = None
    if found is None:
        try:
            found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            found = None
    cgroup = _cgroup_room()
    return cgroup if found is None else min(found, cgroup) if cgroup is not None else found


def _cgroup_room(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """The room left under this process's cgroup v2 memory limit, None without one."""
    try:
        limit = (root / "memory.max").read_text().strip()
        used = int((root / "memory.current").read_text().strip())
    except (OSError, ValueError):
        return None
    return None if limit == "max" or not limit.isdigit() else max(0, int(limit) - used)
