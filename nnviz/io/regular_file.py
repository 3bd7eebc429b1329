"""Opening a file the user named, refusing anything that is not a regular file.

A FIFO, a character device or a socket blocks ``open()`` forever (or streams without end),
and a folder or a missing path gives a confusing ``OSError``. Every reader in nnviz opens
its input through :func:`open_regular`, so each of those is one clear
:class:`FileFormatError` before a byte is read.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from nnviz.io.errors import FileFormatError

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _refusal(mode: int) -> str:
    return f"is {_kind(mode)}, not a regular file; nnviz reads only regular files"


def _refused(e: OSError, path: str | os.PathLike) -> FileFormatError:
    if isinstance(e, FileNotFoundError):
        return FileFormatError("no such file", path)
    if isinstance(e, PermissionError):
        return FileFormatError("permission denied", path)
    return FileFormatError(f"cannot be read ({e.strerror or e})", path)


def require_regular_file(path: str | os.PathLike) -> os.stat_result:
    """The ``stat`` of ``path`` if it is a regular file (links followed); FileFormatError
    otherwise. ``stat`` never blocks, unlike ``open`` on a FIFO."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise _refused(e, path) from None
    if not stat.S_ISREG(st.st_mode):
        raise FileFormatError(_refusal(st.st_mode), path)
    return st


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """``path`` opened for binary reading, if it is a regular file.

    Opened non-blocking and checked again with ``fstat``, so a path swapped for a FIFO
    between the check and the open still cannot hang the caller.
    """
    require_regular_file(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise _refused(e, path) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FileFormatError(_refusal(mode), path)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike, max_bytes: int) -> bytes:
    """The whole of a regular file of at most ``max_bytes`` (FileFormatError if larger)."""
    with open_regular(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise FileFormatError(f"is {size:,} bytes; at most {max_bytes:,} are read", path)
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileFormatError(f"is larger than {max_bytes:,} bytes", path)
    return data


__all__ = ["open_regular", "read_regular", "require_regular_file"]
