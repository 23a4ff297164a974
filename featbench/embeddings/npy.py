""".npy arrays, alone or inside an .npz archive, read within a memory budget and without unpickling.

Each array's header (shape and type) is read first and checked (`MemoryBudget.check`: numbers only, a cost
within the budget); then exactly the bytes it declares are read, and nothing may follow them. Inside an .npz
(a zip archive) that last read reaches the member's end, where zipfile checks its CRC-32: damaged bytes are
refused, and a compressed member is never inflated past what its header declares. Python objects
(``dtype=object``, stored pickled) are refused from the header: never loaded.

>>> import io, tempfile
>>> d = Path(tempfile.mkdtemp())
>>> np.savez(d / "e.npz", a=np.arange(6.0).reshape(2, 3), b=np.ones(4, np.int16))
>>> archive = NpzArchive(d / "e.npz", MemoryBudget.of("1"))
>>> archive.names, archive.read("a")[1], archive.header("b")
(['a', 'b'], array([3., 4., 5.]), ((4,), dtype('int16')))
"""
from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import IO

import numpy as np

from featbench.embeddings.budget import MemoryBudget
from featbench.embeddings.messages import plain, reason
from featbench.errors import FeatbenchError

SUFFIX = ".npy"
Header = tuple[tuple[int, ...], bool, np.dtype]  # shape, Fortran order, dtype


def read_header(stream: IO[bytes], where: str) -> Header:
    """The shape, Fortran order and dtype an .npy stream declares (the stream is left at its data)."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(stream)
        if version not in ((1, 0), (2, 0)):
            raise FeatbenchError(f"{where}: .npy format version {version[0]}.{version[1]} is not read (1.0 and 2.0 are)")
        header = (fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0)(stream)
    except FeatbenchError:
        raise
    except Exception as err:  # numpy raises ValueError, zipfile and zlib their own kinds, on damaged bytes
        raise FeatbenchError(f"{where}: not a readable .npy array ({reason(err)})") from None
    return header


def read_data(stream: IO[bytes], where: str, header: Header) -> np.ndarray:
    """The array of `header`, from `stream` left at its data: exactly the declared bytes, and no more after them."""
    shape, fortran, dtype = header
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    try:
        data = stream.read(nbytes)
        trailing = stream.read(1)
    except Exception as err:  # a damaged zip member: bad CRC, bad deflate stream, ...
        raise FeatbenchError(f"{where}: cannot read its values ({reason(err)})") from None
    if len(data) != nbytes:
        raise FeatbenchError(f"{where}: truncated (its header declares {nbytes} bytes of values, {len(data)} follow)")
    if trailing:
        raise FeatbenchError(f"{where}: more bytes follow the {nbytes} its header declares (a damaged or foreign file)")
    return np.frombuffer(data, dtype=dtype, count=count).reshape(shape, order="F" if fortran else "C")


def read_npy(file: Path, budget: MemoryBudget) -> np.ndarray:
    """The array of an .npy file, checked against `budget` before its values are read."""
    try:
        with open(file, "rb") as stream:
            header = read_header(stream, plain(file))
            budget.check(plain(file), header[0], header[2])
            return read_data(stream, plain(file), header)
    except OSError as err:
        raise FeatbenchError(f"{plain(file)}: cannot read it ({reason(err)})") from None


class NpzArchive:
    """An .npz file's arrays by name (a member ``NAME.npy``): every header read and checked as it opens, each
    array read when asked for (`read`)."""

    def __init__(self, path: Path, budget: MemoryBudget):
        self.path, self.budget, self.shown = path, budget, plain(path)
        try:
            self.zip = zipfile.ZipFile(path)
            members = [m for m in self.zip.infolist() if not m.is_dir()]
        except Exception as err:  # BadZipFile, EOFError (a 0-byte file), OSError, ...
            raise FeatbenchError(f"{plain(path)}: not a readable .npz file ({reason(err)})") from None
        try:
            self.names = self._names([m.filename for m in members])
            self.headers = {name: self._read_header(name) for name in self.names}
        except BaseException:
            self.zip.close()
            raise

    def _names(self, files: list[str]) -> list[str]:
        seen: set[str] = set()
        for file in files:
            if not file.endswith(SUFFIX):
                raise FeatbenchError(f"{self.shown}: holds {file!r}, which is not an array (.npz members are NAME.npy)")
            if file in seen:
                raise FeatbenchError(f"{self.shown}: holds {file!r} twice")
            seen.add(file)
        return sorted(file[: -len(SUFFIX)] for file in files)

    def where(self, name: str) -> str:
        return f"{self.shown}: {name!r}"

    def _read_header(self, name: str) -> Header:
        try:
            with self.zip.open(name + SUFFIX) as stream:
                return read_header(stream, self.where(name))
        except FeatbenchError:
            raise
        except Exception as err:  # an encrypted or unsupported member, a damaged local header
            raise FeatbenchError(f"{self.where(name)}: cannot read it ({reason(err)})") from None

    def header(self, name: str) -> tuple[tuple[int, ...], np.dtype]:
        """The shape and dtype array `name` declares."""
        shape, _, dtype = self.headers[name]
        return shape, dtype

    def read(self, name: str, checked: bool = True) -> np.ndarray:
        """Array `name`: with `checked`, its header is checked against the budget first (the caller checks otherwise)."""
        header = self.headers[name]
        if checked:
            self.budget.check(self.where(name), header[0], header[2])
        try:
            with self.zip.open(name + SUFFIX) as stream:
                read_header(stream, self.where(name))
                return read_data(stream, self.where(name), header)
        except FeatbenchError:
            raise
        except Exception as err:
            raise FeatbenchError(f"{self.where(name)}: cannot read it ({reason(err)})") from None

    def close(self) -> None:
        self.zip.close()
