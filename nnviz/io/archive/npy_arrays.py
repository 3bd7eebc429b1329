""".npy arrays inside an ``.npz``: what each must look like and the checks on its header.

An :class:`ArraySpec` says what one array must hold (shape, accepted dtypes, the dtype it
is loaded as); :func:`npz_size_bounds` bounds the size of an ``.npz`` of such arrays. An
array's ``.npy`` header is parsed with a bounded size and checked against its spec
(plain number type, dtype, shape, exact byte count, C order for large arrays) before its
memory is allocated; its bytes are then read straight into that memory. Nothing is
unpickled. :mod:`.npz_reader` finds the arrays inside an ``.npz`` member.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from nnviz.io.archive.zip_directory import CHUNK, ArchiveError, read_exactly

#: room for the ``.npy`` header in front of an array's bytes (magic, length, dict, padding)
NPY_HEADER_ROOM = 4096
#: room for the ZIP structures of an ``.npz`` around its arrays
NPZ_ROOM_PER_ARRAY = 512
NPZ_ROOM = 1024
#: a Fortran-order array is reordered in memory (a second copy); only small ones may be
MAX_FORTRAN_BYTES = 64 * 1024**2


@dataclass(frozen=True)
class ArraySpec:
    """What one array of an ``.npz`` must look like."""

    shape: tuple[int, ...]
    dtypes: tuple[str, ...]  # accepted kinds+sizes, e.g. ("f4", "f8"); byte order is free
    label: str = ""  # how messages call it, e.g. "weights of layer 2"
    plural: bool = True  # "weights ... have" / "the shuffle order ... has"
    into: str | None = None  # the dtype it is loaded as, converted while reading (e.g. "f8")

    @property
    def max_bytes(self) -> int:
        itemsize = max(int(d[1:]) for d in self.dtypes)
        n = 1
        for s in self.shape:
            n *= s
        return n * itemsize

    @property
    def min_bytes(self) -> int:
        itemsize = min(int(d[1:]) for d in self.dtypes)
        n = 1
        for s in self.shape:
            n *= s
        return n * itemsize

    @property
    def memory_bytes(self) -> int:
        """What the loaded array takes in memory (in ``into`` if given)."""
        if self.into is None:
            return self.min_bytes
        return math.prod(self.shape) * np.dtype(self.into).itemsize


def npz_size_bounds(arrays: Mapping[str, ArraySpec]) -> tuple[int, int]:
    """The smallest and largest plausible uncompressed size of an ``.npz`` holding
    ``arrays``, stored or deflated (a deflated one can only be smaller)."""
    lo = sum(a.min_bytes for a in arrays.values())
    hi = sum(a.max_bytes + NPY_HEADER_ROOM + NPZ_ROOM_PER_ARRAY for a in arrays.values()) + NPZ_ROOM
    return (0 if lo == 0 else min(lo, hi)), hi


def _subject(spec: ArraySpec, key: str) -> str:
    """"weights of layer 2 have" / "the shuffle order has"."""
    return f"{spec.label or key} {'have' if spec.plural else 'has'}"


def read_npy_header(f, version: tuple[int, int]) -> tuple[tuple[int, ...], bool, np.dtype]:
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f, max_header_size=NPY_HEADER_ROOM)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(f, max_header_size=NPY_HEADER_ROOM)
    raise ArchiveError(f".npy format version {version[0]}.{version[1]} is not supported")


def check_npy_header(name: str, spec: ArraySpec, member: str, header) -> int:
    """The number of data bytes the checked header implies."""
    key = name[:-4]
    label = spec.label or key
    subject = _subject(spec, key)
    shape, fortran, dtype = header
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise ArchiveError(f"{label} in {member}: dtype {dtype} is not a plain number type")
    code = f"{dtype.kind}{dtype.itemsize}"
    if code not in spec.dtypes:
        wanted = " or ".join(str(np.dtype(d)) for d in spec.dtypes)
        raise ArchiveError(f"{subject} dtype {dtype.name}, expected {wanted}")
    if tuple(shape) != spec.shape:
        raise ArchiveError(f"{subject} shape {tuple(shape)}, expected {spec.shape}")
    need = dtype.itemsize * math.prod(shape)
    if fortran and len(shape) > 1 and need > MAX_FORTRAN_BYTES:
        raise ArchiveError(
            f"{label} in {member} are stored in Fortran order; arrays over {MAX_FORTRAN_BYTES:,} bytes "
            "must be in C order"
        )
    return need


def finish_array(src, spec: ArraySpec, header, what: str) -> np.ndarray:
    shape, fortran, dtype = header
    into = np.dtype(spec.into) if spec.into else dtype.newbyteorder("=")
    flat = np.empty(math.prod(shape), into)
    _fill(src, flat, dtype, what)
    arr = flat.reshape(shape, order="F" if fortran else "C")
    arr = np.ascontiguousarray(arr)  # a copy only for a (small) Fortran-order array
    arr.flags.writeable = False
    return arr


def _fill(f: BinaryIO, flat: np.ndarray, dtype: np.dtype, what: str) -> None:
    """Read ``flat.size`` items of ``dtype`` from ``f`` into ``flat``: straight into its
    memory when the types agree, else through a bounded scratch buffer."""
    if flat.size == 0:
        return
    if flat.dtype == dtype:
        read_exactly(f, memoryview(flat).cast("B"), what, whole=True)
        return
    per = max(CHUNK // dtype.itemsize, 1)
    scratch = np.empty(min(per, flat.size), dtype)
    for at in range(0, flat.size, per):
        k = min(per, flat.size - at)
        read_exactly(f, memoryview(scratch[:k]).cast("B"), what, whole=True)
        flat[at : at + k] = scratch[:k]
