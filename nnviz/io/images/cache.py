"""The published image sets (MNIST, Fashion-MNIST, CIFAR-10) and nnviz's folder for them.

Where they live: ``$NNVIZ_DATA_DIR`` if set, else the platform's cache folder:
``$XDG_CACHE_HOME/nnviz`` or ``~/.cache/nnviz`` (Linux and other Unix),
``~/Library/Caches/nnviz`` (macOS), ``%LOCALAPPDATA%\\nnviz\\Cache`` (Windows); each set in
its own sub-folder (``mnist``, ``fashion-mnist``, ``cifar10``).

Loading (:func:`load_published`) never touches the network: when files are missing it
raises :class:`DataUnavailableError` saying which files to put where. Downloading
(:func:`fetch_published`) is a separate, explicit step: each file comes with urllib in
chunks into a temporary file beside its target, its size and SHA-256 are checked against
:data:`PUBLISHED`, and only then is it renamed into place, so a failed, cut or cancelled
download leaves no file. A file whose digest nnviz does not know is never downloaded. The
table can be replaced (``table=``), which is how the tests serve files from 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from nnviz.io.atomic import remove_stale_temps, temp_prefix
from nnviz.io.errors import FileFormatError
from nnviz.io.images import cifar, idx
from nnviz.io.images.common import ImageData
from nnviz.io.regular_file import open_regular

ENV_VAR = "NNVIZ_DATA_DIR"
_CHUNK = 1 << 16
#: a download whose size the table does not give stops past this many bytes
MAX_DOWNLOAD_BYTES = 512 * 1024**2
#: the CIFAR-10 archive's folder, and the most members it may list
CIFAR_FOLDER = "cifar-10-batches-bin"
_MAX_MEMBERS = 64
_MAX_MEMBER_BYTES = 64 * 1024**2

Progress = Callable[[int, "int | None"], None]
Cancel = Callable[[], bool]


class DataUnavailableError(FileFormatError):
    """A published set is not in nnviz's data folder (and could not be downloaded); the
    message says which files to put where."""


class DownloadError(FileFormatError):
    """A download failed (wrong digest, cut short, refused); no file was left behind."""


class DownloadCancelledError(DownloadError):
    """The download was cancelled; no file was left behind."""


@dataclass(frozen=True)
class RemoteFile:
    """One published file: its name in the set's folder, where to get it (mirrors, tried
    in order), its SHA-256 (None: not known, so never downloaded) and size in bytes."""

    name: str
    urls: tuple[str, ...]
    sha256: str | None
    size: int | None = None


@dataclass(frozen=True)
class PublishedSet:
    """A published image set: its name (as ``--data`` spells it), label, folder under the
    data folder, format (``"idx"`` or ``"cifar10"``), files, class names, home page, the
    image shape (height, width, channels), how many examples it holds (training + test),
    and a default number of examples to use that fits the memory budget with room to
    spare (``--examples`` when not given)."""

    name: str
    label: str
    folder: str
    kind: str
    files: tuple[RemoteFile, ...]
    class_names: tuple[str, ...]
    page: str
    shape: tuple[int, int, int]
    n_examples: int
    default_n: int


def _mirrored(name: str, bases: tuple[str, ...], sha256: str, size: int) -> RemoteFile:
    return RemoteFile(name, tuple(base + name for base in bases), sha256, size)


_MNIST_BASES = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # the mirror torchvision uses
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # the mirror TensorFlow uses
    "http://yann.lecun.com/exdb/mnist/",  # the original (often refuses downloads now)
)
_FASHION_BASES = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",  # as the Fashion-MNIST README gives
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)

#: the published sets nnviz can fetch; sizes and SHA-256 digests of the files as published
PUBLISHED: dict[str, PublishedSet] = {
    "mnist": PublishedSet(
        "mnist", "MNIST (28x28 handwritten digits, 10 classes)", "mnist", "idx",
        (
            _mirrored("train-images-idx3-ubyte.gz", _MNIST_BASES,
                      "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9_912_422),
            _mirrored("train-labels-idx1-ubyte.gz", _MNIST_BASES,
                      "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28_881),
            _mirrored("t10k-images-idx3-ubyte.gz", _MNIST_BASES,
                      "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1_648_877),
            _mirrored("t10k-labels-idx1-ubyte.gz", _MNIST_BASES,
                      "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4_542),
        ),
        idx.MNIST_CLASSES, "http://yann.lecun.com/exdb/mnist/", (28, 28, 1), 70_000, 50_000,
    ),
    "fashion-mnist": PublishedSet(
        "fashion-mnist", "Fashion-MNIST (28x28 clothing, 10 classes)", "fashion-mnist", "idx",
        (
            _mirrored("train-images-idx3-ubyte.gz", _FASHION_BASES,
                      "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26_421_880),
            _mirrored("train-labels-idx1-ubyte.gz", _FASHION_BASES,
                      "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29_515),
            _mirrored("t10k-images-idx3-ubyte.gz", _FASHION_BASES,
                      "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4_422_102),
            _mirrored("t10k-labels-idx1-ubyte.gz", _FASHION_BASES,
                      "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5_148),
        ),
        idx.FASHION_CLASSES, "https://github.com/zalandoresearch/fashion-mnist", (28, 28, 1), 70_000, 50_000,
    ),
    "cifar10": PublishedSet(
        "cifar10", "CIFAR-10 (32x32 colour photos, 10 classes)", "cifar10", "cifar10",
        (
            RemoteFile("cifar-10-binary.tar.gz", ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",),
                       "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd", 170_052_171),
        ),
        cifar.CLASSES, "https://www.cs.toronto.edu/~kriz/cifar.html", (32, 32, 3), 60_000, 11_000,
    ),
}


# --- where ------------------------------------------------------------------------------
def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """nnviz's data folder: ``$NNVIZ_DATA_DIR``, else the platform's cache folder."""
    env = os.environ if env is None else env
    chosen = env.get(ENV_VAR, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    home = Path(env.get("HOME") or Path.home())
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "nnviz"
    if sys.platform == "win32":
        local = env.get("LOCALAPPDATA")
        return (Path(local) if local else home / "AppData" / "Local") / "nnviz" / "Cache"
    xdg = env.get("XDG_CACHE_HOME", "")
    return (Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".cache") / "nnviz"


def _set(name: str, table: Mapping[str, PublishedSet]) -> PublishedSet:
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"{name!r} is not a published image set ({', '.join(table)})") from None


def set_folder(name: str, root: str | os.PathLike | None = None,
               table: Mapping[str, PublishedSet] = PUBLISHED) -> Path:
    """The folder that holds (or will hold) the set ``name``."""
    base = Path(os.fspath(root)) if root is not None else data_dir()
    return base / _set(name, table).folder


def _present(folder: Path, f: RemoteFile) -> bool:
    """A published file is there as published, or (an IDX file) un-gzipped."""
    plain = f.name[:-3] if f.name.endswith(".gz") else None
    return (folder / f.name).is_file() or (plain is not None and (folder / plain).is_file())


def _cifar_ready(folder: Path) -> bool:
    inner = folder / CIFAR_FOLDER
    return all((inner / name).is_file() for name in (*cifar.TRAIN_FILES, *cifar.TEST_FILES))


def missing_files(name: str, root: str | os.PathLike | None = None,
                  table: Mapping[str, PublishedSet] = PUBLISHED) -> list[RemoteFile]:
    """The set's files not yet in its folder (none once the set can be loaded)."""
    s = _set(name, table)
    folder = set_folder(name, root, table)
    if s.kind == "cifar10" and _cifar_ready(folder):
        return []
    return [f for f in s.files if not _present(folder, f)]


def offline_message(name: str, root: str | os.PathLike | None = None,
                    table: Mapping[str, PublishedSet] = PUBLISHED, reason: str | None = None) -> str:
    """What to do without a connection: the exact files and the folder to put them in."""
    s = _set(name, table)
    folder = set_folder(name, root, table)
    missing = missing_files(name, root, table) or list(s.files)
    files = "; ".join(f"{f.name} (from {f.urls[0]})" if f.urls else f.name for f in missing)
    why = f" and could not be downloaded ({reason})" if reason else ""
    extra = (f" (or its extracted folder {CIFAR_FOLDER} with data_batch_1.bin ... test_batch.bin)"
             if s.kind == "cifar10" else " (gzipped or not)" if s.kind == "idx" else "")
    these = "this file" if len(missing) == 1 else "these files"
    return (f"{s.label} is not in nnviz's data folder{why}. Put {these}{extra} in {folder}: {files}. "
            f"Set {ENV_VAR} to use another data folder.")


# --- loading ----------------------------------------------------------------------------
def load_published(name: str, *, root: str | os.PathLike | None = None, max_examples: int | None = None,
                   seed: int = 0, table: Mapping[str, PublishedSet] = PUBLISHED) -> ImageData:
    """The published set ``name`` from nnviz's data folder, without using the network:
    DataUnavailableError (saying what to put where) if files are missing."""
    s = _set(name, table)
    folder = set_folder(name, root, table)
    if missing_files(name, root, table):
        raise DataUnavailableError(offline_message(name, root, table))
    if s.kind == "idx":
        return idx.load_idx_folder(folder, max_examples=max_examples, seed=seed, class_names=s.class_names,
                                   name=s.name)
    if s.kind == "cifar10":
        if not _cifar_ready(folder):
            archive = next(f for f in s.files if f.name.endswith(".tar.gz"))
            extract_cifar(folder / archive.name, folder, archive.sha256)
        return cifar.load_cifar_folder(folder / CIFAR_FOLDER, max_examples=max_examples, seed=seed,
                                       name=s.name)
    raise ValueError(f"unknown kind {s.kind!r} of published set {name!r}")


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 of a regular file, read in chunks."""
    h = hashlib.sha256()
    with open_regular(path) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def extract_cifar(archive: str | os.PathLike, folder: str | os.PathLike, sha256: str | None) -> Path:
    """The CIFAR-10 binary archive's batches and meta file into ``folder/cifar-10-batches-bin``.

    Only the published member names are written, each a regular file of bounded size,
    each atomically; nothing else in the archive is extracted (no path from the archive
    is used). The archive's digest is checked first when known."""
    archive, folder = Path(os.fspath(archive)), Path(os.fspath(folder))
    if sha256 is not None and sha256_of(archive) != sha256:
        raise FileFormatError("is not the published CIFAR-10 binary archive (its SHA-256 differs); "
                              "remove it and download it again", archive)
    wanted = {f"{CIFAR_FOLDER}/{n}" for n in (*cifar.TRAIN_FILES, *cifar.TEST_FILES, cifar.META_FILE)}
    out = folder / CIFAR_FOLDER
    out.mkdir(parents=True, exist_ok=True)
    with open_regular(archive) as raw:
        try:
            with tarfile.open(fileobj=raw, mode="r:gz") as tar:
                for k, member in enumerate(tar):
                    if k >= _MAX_MEMBERS:
                        raise FileFormatError(f"lists more than {_MAX_MEMBERS} members", archive)
                    if member.name not in wanted:
                        continue
                    if not member.isfile() or member.size > _MAX_MEMBER_BYTES:
                        raise FileFormatError(f"its member {member.name} is not a regular file of at most "
                                              f"{_MAX_MEMBER_BYTES:,} bytes", archive)
                    src = tar.extractfile(member)
                    assert src is not None
                    _write_stream(out / Path(member.name).name, src, member.size, archive)
        except (tarfile.TarError, EOFError, OSError) as exc:
            if isinstance(exc, FileFormatError):
                raise
            raise FileFormatError(f"is not a readable .tar.gz archive ({exc})", archive) from None
    if not _cifar_ready(folder):
        raise FileFormatError(f"lacks some of the batches in {CIFAR_FOLDER}/", archive)
    return out


def _write_stream(target: Path, src, size: int, archive: Path) -> None:
    remove_stale_temps(target)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target), dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            done = 0
            for chunk in iter(lambda: src.read(1 << 20), b""):
                done += len(chunk)
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        if done != size:
            raise FileFormatError(f"its member {target.name} is cut short", archive)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# --- downloading ------------------------------------------------------------------------
class _UnreachableError(Exception):
    """No answer from a server: no connection, refused, a name that does not resolve."""


class _FailedError(Exception):
    """A server answered, but not with the file (an HTTP error, a cut, a wrong digest)."""


def fetch_published(name: str, *, root: str | os.PathLike | None = None,
                    progress: Progress | None = None, cancel: Cancel | None = None, timeout: float = 30.0,
                    table: Mapping[str, PublishedSet] = PUBLISHED) -> Path:
    """Download the set's missing files into its folder; the folder.

    ``progress(done_bytes, total_bytes)`` is called after each chunk (``total_bytes`` over
    all missing files; None when a size is not known); ``cancel()`` is asked before each
    chunk, and True stops with :class:`DownloadCancelledError`. Without a connection:
    :class:`DataUnavailableError`, saying which files to put where. A server's wrong or cut
    file: :class:`DownloadError`. Either way no partial file is left.
    """
    s = _set(name, table)
    folder = set_folder(name, root, table)
    missing = missing_files(name, root, table)
    if not missing:
        return folder
    unknown = [f.name for f in missing if f.sha256 is None]
    if unknown:
        raise DownloadError(f"nnviz knows no SHA-256 digest for {', '.join(unknown)} of {s.label}, so it "
                            "does not download it; " + offline_message(name, root, table))
    sizes = [f.size for f in missing]
    total = sum(sizes) if all(v is not None for v in sizes) else None  # type: ignore[misc]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot make the data folder ({exc.strerror or exc})", folder) from None
    done_before = 0
    for f in missing:
        def step(done: int, _total: int | None, base: int = done_before) -> None:
            if progress is not None:
                progress(base + done, total)

        download_file(f, folder / f.name, progress=step, cancel=cancel, timeout=timeout,
                      offline=lambda reason: offline_message(name, root, table, reason))
        done_before += f.size or 0
    return folder


def download_file(remote: RemoteFile, target: str | os.PathLike, *, progress: Progress | None = None,
                  cancel: Cancel | None = None, timeout: float = 30.0,
                  offline: Callable[[str], str] | None = None) -> None:
    """``remote`` into ``target``, from its first mirror that gives the right file.

    DataUnavailableError (``offline(reason)`` its message) when no mirror answers at all,
    DownloadError when one answered with a wrong or cut file, DownloadCancelledError; no file
    at ``target`` unless the download was whole and its digest right."""
    target = Path(os.fspath(target))
    if remote.sha256 is None:
        raise DownloadError(f"nnviz knows no SHA-256 digest for {remote.name}, so it does not download it",
                            target)
    remove_stale_temps(target)
    unreachable, failed = [], []
    for url in remote.urls:
        try:
            _download_one(url, remote, target, progress, cancel, timeout)
            return
        except _UnreachableError as exc:
            unreachable.append(f"{url}: {exc}")
        except _FailedError as exc:
            failed.append(f"{url}: {exc}")
    if failed:
        raise DownloadError(f"could not be downloaded: {'; '.join(failed + unreachable)}", remote.name)
    reason = "; ".join(unreachable) or "no address to download it from"
    raise DataUnavailableError(offline(reason) if offline else
                               f"{remote.name} could not be downloaded ({reason}); put it in {target.parent}")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        inner = exc.reason
        return getattr(inner, "strerror", None) or str(inner)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _download_one(url: str, remote: RemoteFile, target: Path, progress: Progress | None,
                  cancel: Cancel | None, timeout: float) -> None:
    if cancel is not None and cancel():
        raise DownloadCancelledError("the download was cancelled", remote.name)
    if not url.startswith(("https://", "http://")):
        raise _FailedError("only http and https addresses are used")
    request = urllib.request.Request(url, headers={"User-Agent": "nnviz"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise _FailedError(f"the server answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        raise _UnreachableError(_reason(exc)) from None
    with response:
        offered = response.headers.get("Content-Length")
        expected = remote.size
        if offered is not None and offered.isdigit():
            if expected is not None and int(offered) != expected:
                raise _FailedError(f"the server offers {int(offered):,} bytes; the published file has "
                                   f"{expected:,}")
            expected = int(offered) if expected is None else expected
        limit = expected if expected is not None else MAX_DOWNLOAD_BYTES
        _receive(response, remote, target, expected, limit, progress, cancel)


def _receive(response, remote: RemoteFile, target: Path, expected: int | None, limit: int,
             progress: Progress | None, cancel: Cancel | None) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target), dir=target.parent)
    except OSError as exc:
        raise DownloadError(f"cannot write in the data folder ({exc.strerror or exc})", target) from None
    try:
        digest = hashlib.sha256()
        done = 0
        with os.fdopen(fd, "wb") as f:
            while True:
                if cancel is not None and cancel():
                    raise DownloadCancelledError("the download was cancelled", remote.name)
                try:
                    chunk = response.read(_CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    why = _reason(exc)
                    raise _FailedError(f"the transfer broke off after {done:,} bytes ({why})") from None
                if not chunk:
                    break
                done += len(chunk)
                if done > limit:
                    raise _FailedError(f"the server sent more than the {limit:,} bytes expected")
                digest.update(chunk)
                f.write(chunk)
                if progress is not None:
                    progress(done, expected)
            f.flush()
            os.fsync(f.fileno())
        if expected is not None and done != expected:
            raise _FailedError(f"the transfer ended after {done:,} of {expected:,} bytes")
        if digest.hexdigest() != remote.sha256:
            raise _FailedError(f"the file's SHA-256 is {digest.hexdigest()}, not the published "
                               f"{remote.sha256}")
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
