"""Atomic file writes: the new file appears complete, or the old one stays as it was.

The content goes to a temporary file in the destination folder (same file system, so the
final rename is atomic), is flushed and fsync'ed, and then ``os.replace`` puts it in
place; on POSIX the folder is fsync'ed too so the rename itself survives a power cut. Any
failure removes the temporary file and raises :class:`SaveError` naming the path and the
reason. A process killed mid-write leaves at most a hidden ``.NAME.tmp*`` file beside the
untouched original.
"""

from __future__ import annotations

import contextlib
import errno as errno_mod
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

from nnviz.io.errors import SaveError

_REASONS = {
    errno_mod.ENOSPC: "the disk is full",
    errno_mod.EDQUOT: "the disk quota is exceeded",
    errno_mod.EROFS: "the file system is read-only",
    errno_mod.EACCES: "permission denied (is the folder read-only?)",
    errno_mod.EPERM: "permission denied (is the folder read-only?)",
    errno_mod.ENOENT: "the folder does not exist",
    errno_mod.ENOTDIR: "a part of the path is not a folder",
    errno_mod.EISDIR: "the path is a folder",
    errno_mod.ENAMETOOLONG: "the file name is too long",
    errno_mod.EFBIG: "the file is too large for this file system",
}


def describe_os_error(exc: OSError) -> str:
    """A short human reason for an OS error (what a user can act on)."""
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    return exc.strerror or str(exc) or type(exc).__name__


def save_error(path: str | os.PathLike, exc: OSError) -> SaveError:
    if isinstance(exc, SaveError):
        return exc
    return SaveError(f"cannot save {os.fspath(path)}: {describe_os_error(exc)}", path, exc.errno)


def _umask() -> int:
    """The process umask without changing it (os.umask would race with other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the data itself is synced
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Yield a binary file; when the block ends without error it replaces ``path``.

    Raises :class:`SaveError` for any OS-level failure; other exceptions from the block
    pass through unchanged. Either way the temporary file is removed.
    """
    target = Path(os.fspath(path))
    folder = target.parent
    if target.is_dir():
        raise SaveError(f"cannot save {target}: the path is a folder", target, errno_mod.EISDIR)
    try:
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask()
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.tmp", dir=folder)
    except OSError as exc:
        raise save_error(target, exc) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f  # type: ignore[misc]
            f.flush()
            os.fsync(f.fileno())
            with contextlib.suppress(OSError):
                os.fchmod(f.fileno(), mode)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise save_error(target, exc) from exc
        raise
    _fsync_dir(folder)


@contextlib.contextmanager
def atomic_write_text(path: str | os.PathLike, encoding: str = "utf-8") -> Iterator[TextIO]:
    """Like :func:`atomic_write`, for text (``newline=""`` so the csv module controls line
    endings)."""
    with atomic_write(path) as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        try:
            yield text
            text.flush()
        finally:
            text.detach()


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path) as f:
        f.write(data)
