"""The outer ZIP container, read without trusting its headers.

Every size is checked from the ZIP directory before anything is read or allocated: the
directory's own size as ``zipfile`` will read it (ZIP64 records included), the members'
names, encryption, compression and declared sizes; members are then read in bounded
chunks. Problems raise :class:`ArchiveError`, a plain message that the caller prefixes
with the file name. The ``.npz`` members are read by :mod:`.npz_reader`.
"""

from __future__ import annotations

import struct
import zipfile
from typing import BinaryIO

#: no file, and no sum of members, may expand past this
MAX_TOTAL_BYTES = 2 * 1024**3
#: deflate cannot compress better than about 1032:1; a member claiming more is lying
MAX_DEFLATE_RATIO = 1100
#: an nnviz file has 8 members at most; its ZIP directory takes well under a kilobyte
MAX_ENTRIES = 64
MAX_CENTRAL_DIRECTORY = 64 * 1024
_EOCD = 22
EOCD_SEARCH = _EOCD + 65_536  # what zipfile searches: the end record and the longest comment
ZIP64_LOCATOR = 20
ZIP64_RECORD = 56
#: the most bytes read or inflated in one piece
CHUNK = 1 << 20
ALLOWED_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


class ArchiveError(ValueError):
    """What is wrong with a container, without the file name (the caller adds it)."""


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
        start = max(file_size - EOCD_SEARCH, 0)
        f.seek(start)
        tail = f.read(EOCD_SEARCH)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + _EOCD > len(tail):
            return None
        record, location = tail[at : at + _EOCD], start + at
    entries, cd_size = struct.unpack_from("<HI", record, 10)
    if location >= ZIP64_LOCATOR:
        f.seek(location - ZIP64_LOCATOR)
        locator = f.read(ZIP64_LOCATOR)
        if len(locator) == ZIP64_LOCATOR and locator[:4] == b"PK\x06\x07":
            if location < ZIP64_LOCATOR + ZIP64_RECORD:
                return None  # zipfile's seek before the start fails: a damaged file
            f.seek(location - ZIP64_LOCATOR - ZIP64_RECORD)
            z64 = f.read(ZIP64_RECORD)
            if len(z64) == ZIP64_RECORD and z64[:4] == b"PK\x06\x06":
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
        if info.compress_type not in ALLOWED_COMPRESSION:
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
            chunk = f.read(min(CHUNK, want - got + 1))
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
    if got != want:
        raise ArchiveError(f"member {info.filename!r} has {got:,} bytes, not the {want:,} declared")
    return b"".join(parts)


def read_exactly(f: BinaryIO, view: memoryview, what: str, whole: bool = False) -> int:
    """Fill ``view`` from ``f`` (all of it, or at least one byte unless ``whole`` is
    false and the view is empty); a short read means the member is shorter than declared."""
    got = 0
    while got < len(view):
        k = f.readinto(view[got : got + CHUNK])
        if not k:
            raise ArchiveError(f"{what} is shorter than it declares (truncated?)")
        got += k
        if not whole:
            break
    return got
