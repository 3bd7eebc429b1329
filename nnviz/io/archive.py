"""Reading untrusted ZIP containers and ``.npz`` members without trusting their headers.

Every size is checked from the ZIP directory before anything is read or allocated;
members are read in bounded chunks; ``.npz`` members are checked array by array (names,
dtype, shape, and that the stored size matches the shape) before NumPy loads them with
``allow_pickle=False``. Problems raise :class:`ArchiveError`, a plain message that the
caller prefixes with the file name.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

#: no file, and no sum of members, may expand past this
MAX_TOTAL_BYTES = 2 * 1024**3
#: deflate cannot compress better than about 1032:1; a member claiming more is lying
MAX_DEFLATE_RATIO = 1100
#: room for the ``.npy`` header in front of an array's bytes (magic, length, dict, padding)
NPY_HEADER_ROOM = 4096
#: room for the ZIP structures of an ``.npz`` around its arrays
NPZ_ROOM_PER_ARRAY = 512
NPZ_ROOM = 1024
#: an nnviz file has 8 members at most; its ZIP directory takes well under a kilobyte
MAX_ENTRIES = 64
MAX_CENTRAL_DIRECTORY = 64 * 1024
_EOCD_SEARCH = 22 + 65_535  # the end record plus the longest ZIP comment
_CHUNK = 1 << 20
_ALLOWED_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


class ArchiveError(ValueError):
    """What is wrong with a container, without the file name (the caller adds it)."""


@dataclass(frozen=True)
class ArraySpec:
    """What one array of an ``.npz`` must look like."""

    shape: tuple[int, ...]
    dtypes: tuple[str, ...]  # accepted kinds+sizes, e.g. ("f4", "f8"); byte order is free
    label: str = ""  # how messages call it, e.g. "weights of layer 2"
    plural: bool = True  # "weights ... have" / "the shuffle order ... has"

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


def npz_size_bounds(arrays: Mapping[str, ArraySpec]) -> tuple[int, int]:
    """The smallest and largest plausible uncompressed size of an ``.npz`` holding
    ``arrays``, stored or deflated (a deflated one can only be smaller)."""
    lo = sum(a.min_bytes for a in arrays.values())
    hi = sum(a.max_bytes + NPY_HEADER_ROOM + NPZ_ROOM_PER_ARRAY for a in arrays.values()) + NPZ_ROOM
    return (0 if lo == 0 else min(lo, hi)), hi


def check_central_directory(f: BinaryIO, file_size: int) -> None:
    """Refuse an archive whose central directory is larger than an nnviz file's could be,
    before ``zipfile`` parses it into one object per entry (a file of a million tiny
    entries would otherwise cost gigabytes). Malformed records are left to ``zipfile``."""
    tail_len = min(file_size, _EOCD_SEARCH)
    f.seek(file_size - tail_len)
    tail = f.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return
    entries, cd_size = struct.unpack_from("<HI", tail, at + 10)
    if (entries == 0xFFFF or cd_size == 0xFFFFFFFF) and at >= 20 and tail[at - 20 : at - 16] == b"PK\x06\x07":
        (z64_offset,) = struct.unpack_from("<Q", tail, at - 12)
        if z64_offset + 56 <= file_size:
            f.seek(z64_offset)
            record = f.read(56)
            if record[:4] == b"PK\x06\x06":
                entries, cd_size = struct.unpack_from("<QQ", record, 32)
    f.seek(0)
    if entries > MAX_ENTRIES or cd_size > MAX_CENTRAL_DIRECTORY:
        raise ArchiveError(
            f"its ZIP directory lists {entries:,} entries in {cd_size:,} bytes; an nnviz file has a "
            f"handful"
        )


def check_directory(zf: zipfile.ZipFile, allowed: set[str]) -> dict[str, zipfile.ZipInfo]:
    """The members by name, after refusing duplicates, unknown names, encryption, exotic
    compression and sizes no honest file has."""
    infos = zf.infolist()
    by_name: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        if name in by_name:
            raise ArchiveError(f"member {name!r} appears twice")
        if name not in allowed:
            shown = name if len(name) <= 80 else name[:77] + "..."
            raise ArchiveError(f"unknown member {shown!r}")
        if info.flag_bits & 0x1:
            raise ArchiveError(f"member {name!r} is encrypted")
        if info.compress_type not in _ALLOWED_COMPRESSION:
            raise ArchiveError(f"member {name!r} uses an unsupported compression method")
        check_member_size(info, MAX_TOTAL_BYTES)
        total += info.file_size
        by_name[name] = info
    if total > MAX_TOTAL_BYTES:
        raise ArchiveError(
            f"its members would expand to {total:,} bytes, more than the {MAX_TOTAL_BYTES:,} allowed"
        )
    return by_name


def check_member_size(info: zipfile.ZipInfo, limit: int, lo: int = 0) -> None:
    """Refuse a member whose declared size is outside ``[lo, limit]`` or impossible."""
    name, size, packed = info.filename, info.file_size, info.compress_size
    if size > limit:
        raise ArchiveError(f"member {name!r} declares {size:,} bytes; at most {limit:,} are possible")
    if size < lo:
        raise ArchiveError(f"member {name!r} has {size:,} bytes; at least {lo:,} are needed")
    if info.compress_type == zipfile.ZIP_STORED and packed != size:
        raise ArchiveError(f"member {name!r} is stored but its sizes disagree")
    if size > 4096 and size > MAX_DEFLATE_RATIO * max(packed, 1):
        raise ArchiveError(
            f"member {name!r} claims to expand {packed:,} bytes to {size:,} (a ZIP bomb?)"
        )


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The member's bytes, reading no more than its (already checked) declared size."""
    want = info.file_size
    parts = []
    got = 0
    with zf.open(info) as f:
        while got <= want:
            chunk = f.read(min(_CHUNK, want - got + 1))
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
    if got != want:
        raise ArchiveError(f"member {info.filename!r} has {got:,} bytes, not the {want:,} declared")
    return b"".join(parts)


def _header(f, version: tuple[int, int]) -> tuple[tuple[int, ...], bool, np.dtype]:
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f, max_header_size=NPY_HEADER_ROOM)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(f, max_header_size=NPY_HEADER_ROOM)
    raise ArchiveError(f".npy format version {version[0]}.{version[1]} is not supported")


def read_npz(data: bytes, member: str, arrays: Mapping[str, ArraySpec]) -> dict[str, np.ndarray]:
    """Load an ``.npz`` whose arrays must be exactly ``arrays`` (names, shapes, dtypes).

    Arrays come back in native byte order and C order, read-only.
    """
    try:
        inner = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ArchiveError(f"{member} is not a valid .npz archive ({exc})") from exc
    with inner:
        infos = inner.infolist()
        names = [i.filename for i in infos]
        expected = {f"{k}.npy" for k in arrays}
        if len(names) != len(set(names)):
            raise ArchiveError(f"{member} holds an array twice")
        missing = sorted(expected - set(names))
        extra = sorted(set(names) - expected)
        if missing:
            raise ArchiveError(f"{member} lacks {_list(n[:-4] for n in missing)}")
        if extra:
            raise ArchiveError(f"{member} has unexpected {_list(n[:-4] for n in extra)}")
        for info in infos:
            spec = arrays[info.filename[:-4]]
            if info.flag_bits & 0x1 or info.compress_type not in _ALLOWED_COMPRESSION:
                raise ArchiveError(f"{member}: {info.filename} is encrypted or oddly compressed")
            check_member_size(info, spec.max_bytes + NPY_HEADER_ROOM)
            _check_npy_header(inner, info, spec, member)  # shape and dtype, then the exact size
    # headers are checked: each array's allocation is bounded by its expected shape
    out = {}
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        for key, spec in arrays.items():
            arr = np.asarray(npz[key])
            if arr.shape != spec.shape:  # the header was checked; this guards against surprises
                raise ArchiveError(f"{_subject(spec, key)} shape {arr.shape}, expected {spec.shape}")
            arr = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("="))
            arr.flags.writeable = False
            out[key] = arr
    return out


def _subject(spec: ArraySpec, key: str) -> str:
    """"weights of layer 2 have" / "the shuffle order has"."""
    return f"{spec.label or key} {'have' if spec.plural else 'has'}"


def _check_npy_header(inner: zipfile.ZipFile, info: zipfile.ZipInfo, spec: ArraySpec, member: str) -> None:
    key = info.filename[:-4]
    label = spec.label or key
    subject = _subject(spec, key)
    with inner.open(info) as f:
        version = np.lib.format.read_magic(f)
        shape, _fortran, dtype = _header(f, version)
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise ArchiveError(f"{label} in {member}: dtype {dtype} is not a plain number type")
    code = f"{dtype.kind}{dtype.itemsize}"
    if code not in spec.dtypes:
        wanted = " or ".join(str(np.dtype(d)) for d in spec.dtypes)
        raise ArchiveError(f"{subject} dtype {dtype.name}, expected {wanted}")
    if tuple(shape) != spec.shape:
        raise ArchiveError(f"{subject} shape {tuple(shape)}, expected {spec.shape}")
    need = dtype.itemsize
    for s in shape:
        need *= s
    if not need <= info.file_size <= need + NPY_HEADER_ROOM:
        raise ArchiveError(f"{label} in {member} has {info.file_size:,} bytes for {need:,} of data")


def _list(names) -> str:
    names = list(names)
    shown = ", ".join(repr(n if len(n) <= 40 else n[:37] + "...") for n in names[:6])
    more = f" and {len(names) - 6} more" if len(names) > 6 else ""
    return f"array{'s' if len(names) > 1 else ''} {shown}{more}"
