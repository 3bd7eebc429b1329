"""Atomic file writes: the new file appears complete, or the old one stays as it was.

The content goes to a temporary file in the destination folder (same file system, so the
final rename is atomic), is flushed and fsync'ed, and then ``os.replace`` puts it in
place; on POSIX the folder is fsync'ed too so the rename itself survives a power cut. Any
failure removes the temporary file and raises :class:`SaveError` naming the path and the
reason. A process killed mid-write leaves at most a hidden temporary file beside the
untouched original; the next save to that target removes it (see :func:`remove_stale_temps`).

The temporary name is ``.NAME.tmp.HOST.PID.XXXXXXXX``: the writer's host (a short hash of
its name) and process id let a later save tell a dead writer's leftover from a save still
under way.
"""

from __future__ import annotations

import contextlib
import errno as errno_mod
import io
import os
import re
import socket
import stat
import tempfile
import time
import zlib
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


#: a temporary file whose writer cannot be asked (another host, an older nnviz that wrote
#: no pid) is stale once untouched this long; a dead writer's is stale at once
STALE_AFTER_S = 600.0
_NAME_ROOM = 200  # the target name as the temporary name carries it (file names hold 255)
_RANDOM = "[a-z0-9_]{8}"  # what tempfile.mkstemp appends


def _host_tag() -> str:
    return f"{zlib.crc32(socket.gethostname().encode()) & 0xFFFFFF:06x}"


def temp_prefix(target: Path) -> str:
    """The start of the temporary names of saves to ``target`` by this process."""
    return f".{target.name[:_NAME_ROOM]}.tmp.{_host_tag()}.{os.getpid()}."


def _temp_pattern(target: Path) -> re.Pattern[str]:
    """Temporary names of saves to ``target``: this version's (host and pid) or an older
    nnviz's (``.NAME.tmpXXXXXXXX``)."""
    name = re.escape(target.name[:_NAME_ROOM])
    legacy = re.escape(target.name)
    return re.compile(rf"\.{name}\.tmp\.(?P<host>[0-9a-f]{{6}})\.(?P<pid>[0-9]{{1,10}})\.{_RANDOM}"
                      rf"|\.{legacy}\.tmp{_RANDOM}")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return True  # never a real writer: leave it to the age rule
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True  # another user's process, or not ours to judge
    return True


def _is_stale(match: re.Match[str], st: os.stat_result, now: float) -> bool:
    host, pid = match.group("host"), match.group("pid")
    if host == _host_tag() and pid is not None and os.name == "posix":
        if int(pid) == os.getpid():
            return False  # a save under way in this process (another thread)
        if not _pid_alive(int(pid)):
            return True
    return now - st.st_mtime > STALE_AFTER_S  # pid reused, another host, or an older nnviz


def remove_stale_temps(target: str | os.PathLike) -> list[str]:
    """Remove the leftovers of killed saves to ``target``: regular files beside it whose
    names match nnviz's temporary pattern for exactly that name, whose writer is gone
    (same host, no such process) or that are untouched for :data:`STALE_AFTER_S`.

    Nothing else is touched, and no failure here stops a save. Returns the names removed.
    """
    target = Path(os.fspath(target))
    pattern = _temp_pattern(target)
    removed: list[str] = []
    now = time.time()
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and _is_stale(match, st, now):
                os.unlink(entry.path)
                removed.append(entry.name)
        except OSError:
            continue  # gone already, or not ours to remove
    return removed


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
    remove_stale_temps(target)
    try:
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask()
        fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(target), dir=folder)
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
