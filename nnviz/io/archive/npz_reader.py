"""Reading an ``.npz`` member of the container in one pass, without trusting its headers.

The member is streamed forward (keeping only its tail, where the inner directory is):
each inner array's local header is read, its ``.npy`` header checked against its
:class:`ArraySpec` before its memory is allocated, its bytes inflated straight into that
memory and its CRC-32 checked (a stream-written array's data descriptor too); then
``zipfile`` parses the inner directory, which must list exactly what was read. About one
copy of the data at the peak, no layout makes reading quadratic, nothing is unpickled.
Problems raise :class:`ArchiveError`.
"""

from __future__ import annotations

import errno
import io
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from nnviz.io.archive.npy_arrays import (
    NPY_HEADER_ROOM,
    ArraySpec,
    check_npy_header,
    finish_array,
    read_npy_header,
)
from nnviz.io.archive.zip_directory import (
    ALLOWED_COMPRESSION,
    CHUNK,
    EOCD_SEARCH,
    MAX_CENTRAL_DIRECTORY,
    ZIP64_LOCATOR,
    ZIP64_RECORD,
    ArchiveError,
    check_central_directory,
    read_exactly,
)

_LOCAL_HEADER = 30
#: an ``.npz`` member keeps this much of its end in memory: the inner end records and a
#: directory of MAX_CENTRAL_DIRECTORY bytes fit in it
_TAIL = EOCD_SEARCH + ZIP64_LOCATOR + ZIP64_RECORD + MAX_CENTRAL_DIRECTORY
#: times one ``.npz`` member may be opened; the reader needs one (it reads forward only)
_MAX_REWINDS = 2


class _SeekableReader(io.RawIOBase):
    """A read-only, seekable stream of ``_size`` bytes at position ``_pos``: what
    ``zipfile`` and ``np.lib.format`` need of the two views below."""

    _size = 0
    _pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError(errno.EINVAL, "seek before the start of the stream")
        self._pos = base + offset
        return self._pos


class _MemberFile(_SeekableReader):
    """A read-only view of one ZIP member, streamed forward, that keeps only its tail.

    The ``.npz`` reader takes the arrays in order straight from the stream and then hands
    the tail (the inner directory) to ``zipfile``. A step back is served from the bytes
    handed back by :meth:`unread`; any other backwards seek reopens the member (inflating
    it again), at most :data:`_MAX_REWINDS` times, so no layout makes reading quadratic.
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
        self._back = b""  # bytes handed back by unread(), which end at _back_end
        self._back_end = 0

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
        back_start = self._back_end - len(self._back)
        if back_start <= self._pos < self._back_end:
            n = min(n, self._back_end - self._pos)
            view[:n] = self._back[self._pos - back_start : self._pos - back_start + n]
        elif self._pos >= self._tail_start:
            tail = self._load_tail()
            at = self._pos - self._tail_start
            view[:n] = tail[at : at + n]
        else:
            n = min(n, self._tail_start - self._pos)
            self._stream_to(self._pos)
            assert self._stream is not None
            n = read_exactly(self._stream, view[:n], self._what)
            self._stream_pos += n
        self._pos += n
        return n

    def unread(self, data: bytes) -> None:
        """Step back over ``data``, the bytes just read, without rewinding the member."""
        self._pos -= len(data)
        self._back, self._back_end = data, self._pos + len(data)

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
            read_exactly(self._stream, memoryview(tail), self._what, whole=True)
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


def _skip(f: BinaryIO, n: int, what: str) -> None:
    while n > 0:
        chunk = f.read(min(n, CHUNK))
        if not chunk:
            raise ArchiveError(f"{what} is shorter than it declares (truncated?)")
        n -= len(chunk)


def read_npz_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, arrays: Mapping[str, ArraySpec]
) -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` member ``info`` (its size already checked), inflated
    straight into their final arrays: about one copy of the data at the peak.

    One pass reads the inner members in file order from their local headers (a
    stream-written one's data descriptors included), then ``zipfile`` parses the inner
    directory at the end, which must list exactly what was read.
    """
    with _MemberFile(zf, info, info.filename) as f:
        return _read_npz_in_order(f, info.filename, arrays)


def read_npz(data: bytes, member: str, arrays: Mapping[str, ArraySpec]) -> dict[str, np.ndarray]:
    """:func:`read_npz_member` for an ``.npz`` held in memory."""
    return _read_npz_in_order(io.BytesIO(data), member, arrays)


@dataclass
class _Local:
    """One inner member as its local header and its data showed it."""

    name: str
    offset: int
    method: int
    crc: int
    compress_size: int
    file_size: int
    descriptor: bool = False  # the sizes and CRC follow the data (a stream-written .npz)
    zip64: bool = False  # its local header has a ZIP64 field: a descriptor's sizes take 8 bytes


def _has_zip64(extra: bytes) -> bool:
    at = 0
    while at + 4 <= len(extra):
        tag, n = struct.unpack_from("<HH", extra, at)
        if tag == 1:
            return True
        at += 4 + n
    return False


def _read_descriptor(f: BinaryIO, local: _Local, src: _Stored, what: str) -> None:
    """Read the data descriptor after a stream-written member; it must say what was read."""
    sig = f.read(4)
    crc = f.read(4) if sig == b"PK\x07\x08" else sig
    sizes = f.read(16 if local.zip64 else 8)
    if len(crc) != 4 or len(sizes) != (16 if local.zip64 else 8):
        raise ArchiveError(f"{what} is truncated")
    (crc_value,) = struct.unpack("<L", crc)
    csize, usize = struct.unpack("<QQ" if local.zip64 else "<LL", sizes)
    local.crc, local.compress_size, local.file_size = crc_value, csize, usize
    if (crc_value, csize, usize) != (src.crc, src.packed, src.total):
        raise ArchiveError(f"{what} is damaged (its data descriptor does not match its data)")


def _read_npz_in_order(f: BinaryIO, member: str, arrays: Mapping[str, ArraySpec]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    seen: list[_Local] = []
    size = f.seek(0, io.SEEK_END)
    f.seek(0)
    while len(seen) < len(arrays):
        offset = f.tell()
        head = f.read(_LOCAL_HEADER)
        if head[:4] != b"PK\x03\x04":
            break  # the directory, or damage: the directory check below says which
        local = _local_header(f, head, offset, member)
        key = local.name[:-4] if local.name.endswith(".npy") else local.name
        if key not in arrays or key in out:
            raise ArchiveError(f"{member} holds {_list([key])} more than once or unexpectedly")
        if local.descriptor:  # its sizes follow the data: inflate to the end of the stream
            local.compress_size, local.file_size = size - f.tell(), arrays[key].max_bytes + NPY_HEADER_ROOM
        src = _Stored(f, local) if local.method == zipfile.ZIP_STORED else _Inflated(f, local)
        what = f"{key}.npy in {member}"
        out[key] = _array_from(src, arrays[key], member, f"{key}.npy")
        src.finish(what)
        if local.descriptor:
            _read_descriptor(f, local, src, what)
        seen.append(local)
    directory_at = f.tell()
    if size - directory_at > _TAIL:
        raise ArchiveError(f"{member} has {size - directory_at:,} bytes after its arrays")
    tail = f.read(size - directory_at)
    _check_inner_directory(_SparseFile(size, directory_at, tail), seen, member, arrays)
    return {key: out[key] for key in arrays}


def _local_header(f: BinaryIO, head: bytes, offset: int, member: str) -> _Local:
    if len(head) != _LOCAL_HEADER:
        raise ArchiveError(f"{member} is truncated")
    (_sig, _ver, _sys, flags, method, _t, _d, crc, csize, usize, n_name, n_extra) = struct.unpack(
        "<4s2B4HL2L2H", head)
    if flags & 0x1 or method not in ALLOWED_COMPRESSION:
        raise ArchiveError(f"{member}: an array is encrypted or oddly compressed")
    raw_name, extra = f.read(n_name), f.read(n_extra)
    if len(raw_name) != n_name or len(extra) != n_extra:
        raise ArchiveError(f"{member} is truncated")
    name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
    usize, csize = _zip64_sizes(extra, usize, csize)
    if method == zipfile.ZIP_STORED and csize != usize:
        raise ArchiveError(f"{member}: {name[:40]!r} is stored but its sizes disagree")
    local = _Local(name, offset, method, crc, csize, usize, bool(flags & 0x8), _has_zip64(extra))
    return local


def _zip64_sizes(extra: bytes, usize: int, csize: int) -> tuple[int, int]:
    """The sizes, from the ZIP64 extra field where the header holds 0xFFFFFFFF."""
    at = 0
    while at + 4 <= len(extra):
        tag, n = struct.unpack_from("<HH", extra, at)
        if tag == 1:
            values = [v for (v,) in struct.iter_unpack("<Q", extra[at + 4 : at + 4 + n - n % 8])]
            if usize == 0xFFFFFFFF and values:
                usize = values.pop(0)
            if csize == 0xFFFFFFFF and values:
                csize = values.pop(0)
            break
        at += 4 + n
    return usize, csize


class _Stored:
    """A stored inner member's data, read from the outer stream, its CRC-32 kept."""

    def __init__(self, f: BinaryIO, local: _Local):
        self._f, self._local = f, local
        self.left = local.file_size  # bytes of the member not yet read
        self.crc = 0
        self.total = 0  # bytes read so far
        self.packed = 0  # compressed bytes taken from the outer member
        self.descriptor = local.descriptor

    def read(self, n: int) -> bytes:
        data = self._f.read(min(n, self.left))
        self.left -= len(data)
        self.total += len(data)
        self.packed += len(data)
        self.crc = zlib.crc32(data, self.crc)
        return data

    def readinto(self, view: memoryview) -> int:
        n = min(len(view), self.left)
        if n == 0:
            return 0
        k = self._f.readinto(view[:n])
        self.left -= k
        self.total += k
        self.packed += k
        self.crc = zlib.crc32(view[:k], self.crc)
        return k

    def finish(self, what: str) -> None:
        if self._local.descriptor:
            return  # checked against the descriptor that follows
        if self.left:
            raise ArchiveError(f"{what} has more bytes than its header says")
        if self.crc != self._local.crc:
            raise ArchiveError(f"{what} is damaged (its CRC-32 does not match)")


class _Inflated(_Stored):
    """A deflated inner member, inflated in bounded pieces."""

    def __init__(self, f: BinaryIO, local: _Local):
        super().__init__(f, local)
        self._packed_left = local.compress_size
        self._z = zlib.decompressobj(-15)
        self._pending = b""

    def read(self, n: int) -> bytes:
        out = bytearray(min(n, self.left))
        got = 0
        while got < len(out):
            k = self.readinto(memoryview(out)[got:])
            if not k:
                break
            got += k
        del out[got:]
        return bytes(out)

    def readinto(self, view: memoryview) -> int:
        n = min(len(view), self.left, CHUNK)
        while n:
            if self._z.eof:
                return 0
            self._more()
            try:
                data = self._z.decompress(self._pending, n)
            except zlib.error as exc:
                raise ArchiveError(f"an array's compressed data is damaged ({exc})") from exc
            self._pending = self._z.unconsumed_tail
            if data:
                k = len(data)
                view[:k] = data
                self.left -= k
                self.total += k
                self.crc = zlib.crc32(data, self.crc)
                return k
            if self._z.eof or not (self._pending or self._packed_left):
                return 0
        return 0

    def _more(self) -> bool:
        """Fetch the next piece of compressed input; False when there is none."""
        if not self._pending and self._packed_left:
            self._pending = self._f.read(min(self._packed_left, CHUNK))
            self.packed += len(self._pending)
            # a short outer member ends the input; the caller reports it as truncated
            self._packed_left = self._packed_left - len(self._pending) if self._pending else 0
        return bool(self._pending)

    def finish(self, what: str) -> None:
        while not self._z.eof and self._more():  # only the end of the stream may be left
            before = self._pending
            if self._z.decompress(self._pending, 1):
                raise ArchiveError(f"{what} has more bytes than its header says")
            self._pending = self._z.unconsumed_tail
            if self._pending == before and not self._z.eof:
                break  # no progress: refused just below
        if self._local.descriptor and self._z.eof:
            rest = self._z.unused_data  # all input past the end (unconsumed_tail repeats it)
            self._pending = b""
            self.packed -= len(rest)
            _unread(self._f, rest)
            return
        if self._pending or self._packed_left or self._z.unused_data or not self._z.eof:
            raise ArchiveError(f"{what} has more compressed data than its header says, or is truncated")
        super().finish(what)


def _unread(f: BinaryIO, data: bytes) -> None:
    """Step back over ``data``, the bytes just read from ``f``."""
    if isinstance(f, _MemberFile):
        f.unread(data)
    else:
        f.seek(-len(data), io.SEEK_CUR)


class _SparseFile(_SeekableReader):
    """The end of an ``.npz`` (its directory) at its true offsets, zeros before it: what
    ``zipfile`` needs to parse the directory after the arrays were read in one pass."""

    def __init__(self, size: int, start: int, tail: bytes):
        super().__init__()
        self._size, self._start, self._tail, self._pos = size, start, tail, 0

    def readinto(self, b) -> int:
        view = memoryview(b).cast("B")
        n = min(len(view), max(self._size - self._pos, 0))
        if self._pos < self._start:
            n = min(n, self._start - self._pos)
            view[:n] = bytes(n)
        else:
            at = self._pos - self._start
            view[:n] = self._tail[at : at + n]
        self._pos += n
        return n


def _check_inner_directory(
    f: _SparseFile, seen: list[_Local], member: str, arrays: Mapping[str, ArraySpec]
) -> None:
    """The inner directory lists exactly the members read, where they were read."""
    size = f.seek(0, io.SEEK_END)
    try:
        check_central_directory(f, size)
    except ArchiveError as exc:
        raise ArchiveError(f"{member}: {exc}") from exc
    try:
        inner = zipfile.ZipFile(f)
    except zipfile.BadZipFile as exc:
        raise ArchiveError(f"{member} is not a valid .npz archive ({exc})") from exc
    with inner:
        infos = inner.infolist()
    _check_inner_names(infos, member, arrays)
    listed = {(i.filename, i.header_offset, i.compress_type, i.CRC, i.compress_size, i.file_size)
              for i in infos}
    found = {(s.name, s.offset, s.method, s.crc, s.compress_size, s.file_size) for s in seen}
    if listed != found:
        raise ArchiveError(f"{member}: its directory does not match the arrays it holds")


def _array_from(src: _Stored, spec: ArraySpec, member: str, name: str) -> np.ndarray:
    """One array from ``src`` (positioned at its ``.npy`` magic), memory allocated only
    after its header passed :func:`check_npy_header`."""
    label = spec.label or name[:-4]
    try:
        header = read_npy_header(src, np.lib.format.read_magic(src))
    except ArchiveError:
        raise
    except Exception as exc:  # numpy parses the header's text (ast, tokenize): any error
        raise ArchiveError(f"{label} in {member}: the .npy header is damaged") from exc
    need = check_npy_header(name, spec, member, header)
    if src.descriptor:  # no sizes before the data: the header's shape says where it ends
        src.left = need
    if src.left != need:
        raise ArchiveError(f"{label} in {member} has {src.left:,} bytes for {need:,} of data")
    return finish_array(src, spec, header, f"{label} in {member}")


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


def _list(names) -> str:
    names = list(names)
    shown = ", ".join(repr(n if len(n) <= 40 else n[:37] + "...") for n in names[:6])
    more = f" and {len(names) - 6} more" if len(names) > 6 else ""
    return f"array{'s' if len(names) > 1 else ''} {shown}{more}"
