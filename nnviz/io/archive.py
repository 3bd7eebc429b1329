"""Reading untrusted ZIP containers and ``.npz`` members without trusting their headers.

Every size is checked from the ZIP directory before anything is read or allocated;
members are read in bounded chunks; ``.npz`` members are checked array by array (names,
dtype, shape, and that the stored size matches the shape) before NumPy loads them with
``allow_pickle=False``. Problems raise :class:`ArchiveError`, a plain message that the
caller prefixes with the file name.
"""

from __future__ import annotations

import errno
import io
import math
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
_EOCD = 22
_EOCD_SEARCH = _EOCD + 65_536  # what zipfile searches: the end record and the longest comment
_ZIP64_LOCATOR = 20
_ZIP64_RECORD = 56
_CHUNK = 1 << 20
#: an ``.npz`` member keeps this much of its end in memory: the inner end records and a
#: directory of MAX_CENTRAL_DIRECTORY bytes fit in it
_TAIL = _EOCD_SEARCH + _ZIP64_LOCATOR + _ZIP64_RECORD + MAX_CENTRAL_DIRECTORY
#: times one ``.npz`` member may be read from its start: once for its tail, once for its
#: arrays, in order; more means members that overlap or point backwards
_MAX_REWINDS = 3
#: a Fortran-order array is reordered in memory (a second copy); only small ones may be
MAX_FORTRAN_BYTES = 64 * 1024**2
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


def _end_records(f: BinaryIO, file_size: int) -> tuple[int, int] | None:
    """(entries, central directory size) exactly as ``zipfile`` will take them, or None
    where ``zipfile`` will find no end record (it then refuses the file itself).

    This follows ``zipfile._EndRecData``: the end record is the last 22 bytes when they
    hold one with no comment, else the last signature in the final 64 KiB; and a ZIP64
    locator right before it makes ``zipfile`` use the ZIP64 record right before that,
    whatever the classic record says (a file claiming 6 entries can list 6,000,000).
    ``zipfile`` reads as many directory bytes as the record it uses says, so that size
    is what bounds the work of parsing the directory."""
    if file_size < _EOCD:
        return None
    f.seek(file_size - _EOCD)
    record = f.read(_EOCD)
    location = file_size - _EOCD
    if not (len(record) == _EOCD and record[:4] == b"PK\x05\x06" and record[-2:] == b"\x00\x00"):
        start = max(file_size - _EOCD_SEARCH, 0)
        f.seek(start)
        tail = f.read(_EOCD_SEARCH)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + _EOCD > len(tail):
            return None
        record, location = tail[at : at + _EOCD], start + at
    entries, cd_size = struct.unpack_from("<HI", record, 10)
    if location >= _ZIP64_LOCATOR:
        f.seek(location - _ZIP64_LOCATOR)
        locator = f.read(_ZIP64_LOCATOR)
        if len(locator) == _ZIP64_LOCATOR and locator[:4] == b"PK\x06\x07":
            if location < _ZIP64_LOCATOR + _ZIP64_RECORD:
                return None  # zipfile's seek before the start fails: a damaged file
            f.seek(location - _ZIP64_LOCATOR - _ZIP64_RECORD)
            z64 = f.read(_ZIP64_RECORD)
            if len(z64) == _ZIP64_RECORD and z64[:4] == b"PK\x06\x06":
                entries, cd_size = struct.unpack_from("<QQ", z64, 32)
    return entries, cd_size


def check_central_directory(f: BinaryIO, file_size: int) -> None:
    """Refuse an archive whose central directory is larger than an nnviz file's could be,
    before ``zipfile`` parses it into one object per entry (a file of a million tiny
    entries would otherwise cost gigabytes). Malformed records are left to ``zipfile``."""
    found = _end_records(f, file_size)
    f.seek(0)
    if found is None:
        return
    entries, cd_size = found
    if entries > MAX_ENTRIES or cd_size > MAX_CENTRAL_DIRECTORY:
        raise ArchiveError(
            f"its ZIP directory lists {entries:,} entries in {cd_size:,} bytes; an nnviz file has a "
            f"handful"
        )


def check_directory(zf: zipfile.ZipFile, allowed: set[str]) -> dict[str, zipfile.ZipInfo]:
    """The members by name, after refusing duplicates, unknown names, encryption, exotic
    compression and sizes no honest file has."""
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ArchiveError(f"its ZIP directory lists {len(infos):,} entries; an nnviz file has a handful")
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


class _MemberFile(io.RawIOBase):
    """A seekable, read-only view of one ZIP member that never holds more than its tail.

    ``zipfile`` opening an ``.npz`` member reads the inner directory at the end, then the
    arrays from the front. A plain ``ZipExtFile`` would inflate the whole member once per
    backwards seek; this keeps the last :data:`_TAIL` bytes (the inner directory) from one
    pass and streams everything before them forward on a second, so an inner array is
    inflated straight into its destination. A hostile layout that needs more rewinds
    (overlapping members) is refused after :data:`_MAX_REWINDS`.
    """

    def __init__(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, member: str):
        super().__init__()
        self._zf, self._info, self._member = zf, info, member
        self._size = info.file_size
        self._pos = 0
        self._tail_start = max(self._size - _TAIL, 0)
        self._tail: bytes | None = None
        self._stream: BinaryIO | None = None
        self._stream_pos = 0
        self._opens = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError(errno.EINVAL, "seek before the start of the member")
        self._pos = base + offset
        return self._pos

    def read(self, n: int | None = -1) -> bytes:
        """Up to ``n`` bytes, short only at the end (zipfile takes a short read as damage)."""
        left = max(self._size - self._pos, 0)
        buf = bytearray(left if n is None or n < 0 else min(n, left))
        got = 0
        while got < len(buf):
            k = self.readinto(memoryview(buf)[got:])
            if not k:
                break
            got += k
        del buf[got:]
        return bytes(buf)

    def readinto(self, b) -> int:
        view = memoryview(b).cast("B")
        n = min(len(view), max(self._size - self._pos, 0))
        if n == 0:
            return 0
        if self._pos >= self._tail_start:
            tail = self._load_tail()
            at = self._pos - self._tail_start
            view[:n] = tail[at : at + n]
        else:
            n = min(n, self._tail_start - self._pos)
            self._stream_to(self._pos)
            assert self._stream is not None
            n = _read_exactly(self._stream, view[:n], self._what)
            self._stream_pos += n
        self._pos += n
        return n

    @property
    def _what(self) -> str:
        return f"member {self._member!r}"

    def _stream_to(self, pos: int) -> None:
        if self._stream is None or self._stream_pos > pos:
            if self._opens >= _MAX_REWINDS:
                raise ArchiveError(f"{self._member} is laid out out of order (overlapping members?)")
            self._close_stream()
            self._stream = self._zf.open(self._info)
            self._stream_pos = 0
            self._opens += 1
        _skip(self._stream, pos - self._stream_pos, self._what)
        self._stream_pos = pos

    def _load_tail(self) -> bytes:
        if self._tail is None:
            self._stream_to(self._tail_start)
            assert self._stream is not None
            tail = bytearray(self._size - self._tail_start)
            _read_exactly(self._stream, memoryview(tail), self._what, whole=True)
            if self._stream.read(1):
                raise ArchiveError(f"{self._what} holds more than the {self._size:,} bytes declared")
            self._tail = bytes(tail)
            self._close_stream()  # read to its end: its checksum was checked
        return self._tail

    def _close_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def close(self) -> None:
        self._close_stream()
        super().close()


def _read_exactly(f: BinaryIO, view: memoryview, what: str, whole: bool = False) -> int:
    """Fill ``view`` from ``f`` (all of it, or at least one byte unless ``whole`` is
    false and the view is empty); a short read means the member is shorter than declared."""
    got = 0
    while got < len(view):
        k = f.readinto(view[got : got + _CHUNK])
        if not k:
            raise ArchiveError(f"{what} is shorter than it declares (truncated?)")
        got += k
        if not whole:
            break
    return got


def _skip(f: BinaryIO, n: int, what: str) -> None:
    while n > 0:
        chunk = f.read(min(n, _CHUNK))
        if not chunk:
            raise ArchiveError(f"{what} is shorter than it declares (truncated?)")
        n -= len(chunk)


def read_npz_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, arrays: Mapping[str, ArraySpec]
) -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` member ``info`` (its size already checked), inflated
    straight into their final arrays: about one copy of the data at the peak."""
    with _MemberFile(zf, info, info.filename) as f:
        return read_npz_file(f, info.filename, arrays)


def read_npz(data: bytes, member: str, arrays: Mapping[str, ArraySpec]) -> dict[str, np.ndarray]:
    """:func:`read_npz_file` for an ``.npz`` held in memory."""
    return read_npz_file(io.BytesIO(data), member, arrays)


def read_npz_file(f: BinaryIO, member: str, arrays: Mapping[str, ArraySpec]) -> dict[str, np.ndarray]:
    """Load an ``.npz`` whose arrays must be exactly ``arrays`` (names, shapes, dtypes).

    The inner directory is bounded the way :func:`check_central_directory` bounds the
    outer one; each array's ``.npy`` header is checked against its :class:`ArraySpec`
    before its memory is allocated. Arrays come back in native byte order, C order,
    converted to ``spec.into`` where given, read-only.
    """
    size = f.seek(0, io.SEEK_END)
    check_central_directory(f, size)
    try:
        inner = zipfile.ZipFile(f)
    except zipfile.BadZipFile as exc:
        raise ArchiveError(f"{member} is not a valid .npz archive ({exc})") from exc
    with inner:
        infos = inner.infolist()
        _check_inner_names(infos, member, arrays)
        for info in infos:
            spec = arrays[info.filename[:-4]]
            if info.flag_bits & 0x1 or info.compress_type not in _ALLOWED_COMPRESSION:
                raise ArchiveError(f"{member}: {info.filename} is encrypted or oddly compressed")
            check_member_size(info, spec.max_bytes + NPY_HEADER_ROOM)
        out = {}
        for info in sorted(infos, key=lambda i: i.header_offset):  # forward only, no rewinds
            key = info.filename[:-4]
            out[key] = _read_array(inner, info, arrays[key], member)
    return {key: out[key] for key in arrays}


def _check_inner_names(infos: list[zipfile.ZipInfo], member: str, arrays: Mapping[str, ArraySpec]) -> None:
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


def _subject(spec: ArraySpec, key: str) -> str:
    """"weights of layer 2 have" / "the shuffle order has"."""
    return f"{spec.label or key} {'have' if spec.plural else 'has'}"


def _header(f, version: tuple[int, int]) -> tuple[tuple[int, ...], bool, np.dtype]:
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f, max_header_size=NPY_HEADER_ROOM)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(f, max_header_size=NPY_HEADER_ROOM)
    raise ArchiveError(f".npy format version {version[0]}.{version[1]} is not supported")


def _check_header(info: zipfile.ZipInfo, spec: ArraySpec, member: str, header) -> int:
    """The number of data bytes the checked header implies."""
    key = info.filename[:-4]
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


def _read_array(inner: zipfile.ZipFile, info: zipfile.ZipInfo, spec: ArraySpec, member: str) -> np.ndarray:
    """One checked array, read into memory allocated only after its header passed."""
    label = spec.label or info.filename[:-4]
    with inner.open(info) as f:
        header = _header(f, np.lib.format.read_magic(f))
        need = _check_header(info, spec, member, header)
        have = info.file_size - f.tell()
        if have != need:
            raise ArchiveError(f"{label} in {member} has {have:,} bytes for {need:,} of data")
        shape, fortran, dtype = header
        into = np.dtype(spec.into) if spec.into else dtype.newbyteorder("=")
        flat = np.empty(math.prod(shape), into)
        _fill(f, flat, dtype, f"{label} in {member}")
        if f.read(1):  # reading to the end also makes zipfile check the CRC-32
            raise ArchiveError(f"{label} in {member} has more bytes than its header says")
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
        _read_exactly(f, memoryview(flat).cast("B"), what, whole=True)
        return
    per = max(_CHUNK // dtype.itemsize, 1)
    scratch = np.empty(min(per, flat.size), dtype)
    for at in range(0, flat.size, per):
        k = min(per, flat.size - at)
        _read_exactly(f, memoryview(scratch[:k]).cast("B"), what, whole=True)
        flat[at : at + k] = scratch[:k]


def _list(names) -> str:
    names = list(names)
    shown = ", ".join(repr(n if len(n) <= 40 else n[:37] + "...") for n in names[:6])
    more = f" and {len(names) - 6} more" if len(names) > 6 else ""
    return f"array{'s' if len(names) > 1 else ''} {shown}{more}"
