"""IDX files, the format of MNIST and Fashion-MNIST, plain or gzipped.

An IDX file is a header (two zero bytes, a type code, the number of dimensions, then
each dimension as a big-endian 32-bit count) and the values. The header is checked
against the file before anything is allocated: the dimensions' product against what the
file can hold (for a gzipped file, against the most gzip can inflate from its size), the
number of examples and the pixels per image against nnviz's limits, and the memory the
set will need against the one budget. Only unsigned-byte files (type 0x08) are read: that
is what every published image set uses.

A folder is read only for the four published names (``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each
optionally ending ``.gz``); nothing else in it is opened.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from nnviz.core.data import MAX_EXAMPLES
from nnviz.io.errors import FileFormatError
from nnviz.io.images.common import (
    MAX_FEATURES,
    ImageData,
    build,
    check_budget,
    check_labels,
    check_max_examples,
    choose,
)
from nnviz.io.regular_file import open_regular

_TYPES = {0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "16-bit integer", 0x0C: "32-bit integer",
          0x0D: "32-bit float", 0x0E: "64-bit float"}
#: gzip's deflate inflates at most about 1032 to 1; a header asking for more than that
#: from the file's size is a truncated or forged file, refused before allocating
_GZIP_RATIO = 1100
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20
#: the published file names, without ``.gz``
PARTS = (
    ("train", "train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    ("test", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
)
MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                   "Bag", "Ankle boot")


@dataclass(frozen=True)
class IdxHeader:
    """An IDX file's header: its dimensions, where the values start, and whether it is
    gzipped (``stored`` is the file's size on disk)."""

    dims: tuple[int, ...]
    offset: int
    gzipped: bool
    stored: int

    @property
    def n_values(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n


@contextlib.contextmanager
def _open(path: Path) -> Iterator[tuple[BinaryIO, bool, int]]:
    """The file opened for reading (decompressing if gzipped), whether it is gzipped, and
    its size on disk; both the file and the decompressor are closed afterwards."""
    with open_regular(path) as raw:
        size = os.fstat(raw.fileno()).st_size
        gzipped = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not gzipped:
            yield raw, False, size
            return
        with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
            yield unzipped, True, size  # type: ignore[misc]


def _damaged(exc: BaseException, gzipped: bool) -> str:
    if gzipped:
        return f"the gzip data is damaged ({exc})"
    return f"cannot be read ({getattr(exc, 'strerror', None) or exc})"


def _read(f: BinaryIO, n: int, path: Path, what: str) -> bytes:
    try:
        data = f.read(n)
    except (OSError, EOFError, zlib.error) as exc:
        raise FileFormatError(f"{_damaged(exc, isinstance(f, gzip.GzipFile))} in {what}", path) from None
    if len(data) < n:
        raise FileFormatError(f"the file ends in {what} (truncated?)", path)
    return data


def _header(f: BinaryIO, path: Path, gzipped: bool, stored: int, ndims: tuple[int, ...]) -> IdxHeader:
    """Read and check the header; ``ndims`` are the numbers of dimensions accepted."""
    magic = _read(f, 4, path, "the header")
    if magic[:2] != b"\0\0" or magic[3] == 0:
        raise FileFormatError("is not an IDX file (it does not start with the IDX magic number)", path)
    code, ndim = magic[2], magic[3]
    if code != 0x08:
        kind = _TYPES.get(code)
        if kind is None:
            raise FileFormatError(f"is not an IDX file (unknown value type 0x{code:02x})", path)
        raise FileFormatError(f"holds {kind} values; nnviz reads IDX files of unsigned bytes (0x08)", path)
    if ndim not in ndims:
        want = " or ".join(str(k) for k in ndims)
        raise FileFormatError(f"has {ndim} dimensions; {want} were expected here", path)
    dims = struct.unpack(f">{ndim}I", _read(f, 4 * ndim, path, "the header"))
    header = IdxHeader(tuple(dims), 4 + 4 * ndim, gzipped, stored)
    if any(d == 0 for d in dims):
        raise FileFormatError(f"has an empty dimension ({' x '.join(map(str, dims))})", path)
    if dims[0] > MAX_EXAMPLES:
        raise FileFormatError(f"its header says {dims[0]:,} examples; at most {MAX_EXAMPLES:,} can be used",
                              path)
    per = header.n_values // dims[0]
    if per > MAX_FEATURES:
        raise FileFormatError(f"its header says {per:,} values an example; at most {MAX_FEATURES:,} can be "
                              "used", path)
    room = stored * _GZIP_RATIO if gzipped else stored - header.offset
    if header.n_values > room:
        if gzipped:
            raise FileFormatError(
                f"its header says {header.n_values:,} values, more than a gzip file of {stored:,} bytes "
                "can hold (truncated, or a corrupt header)", path)
        raise FileFormatError(
            f"its header says {header.n_values:,} values but the file holds {max(room, 0):,} "
            "(truncated, or a corrupt header)", path)
    return header


def _values(f: BinaryIO, header: IdxHeader, path: Path) -> np.ndarray:
    """The values after the header, as uint8, read straight into their array."""
    n = header.n_values
    out = np.empty(n, dtype=np.uint8)
    view = memoryview(out)
    done = 0
    try:
        while done < n:
            got = f.readinto(view[done : min(n, done + _CHUNK)])
            if not got:
                raise FileFormatError(
                    f"the file ends after {done:,} of the {n:,} values its header says (truncated)", path)
            done += got
        extra = f.read(1)
    except (OSError, EOFError, zlib.error) as exc:
        raise FileFormatError(_damaged(exc, header.gzipped), path) from None
    if extra:
        raise FileFormatError(f"holds more data than its header says ({n:,} values)", path)
    return out


def read_idx_file(path: str | os.PathLike, ndims: tuple[int, ...] = (1, 2, 3, 4)) -> np.ndarray:
    """A whole unsigned-byte IDX file as an array of its dimensions (checked first)."""
    path = Path(os.fspath(path))
    with _open(path) as (f, gzipped, stored):
        header = _header(f, path, gzipped, stored, ndims)
        return _values(f, header, path).reshape(header.dims)


def _peek(path: Path, ndims: tuple[int, ...]) -> IdxHeader:
    with _open(path) as (f, gzipped, stored):
        return _header(f, path, gzipped, stored, ndims)


def _image_shape(header: IdxHeader) -> tuple[int, int, int]:
    dims = header.dims
    return (dims[1], dims[2], dims[3] if len(dims) == 4 else 1)


def load_idx_pairs(pairs: Sequence[tuple[str | os.PathLike, str | os.PathLike]], *,
                   max_examples: int | None = None, seed: int = 0,
                   class_names: Sequence[str] | None = None, name: str = "images") -> ImageData:
    """Images and labels from (images file, labels file) pairs, the training pair first.

    Every header is checked (shapes agree, counts match, memory fits) before the image
    values are read; then at most ``max_examples`` are kept, a seeded stratified draw.
    """
    check_max_examples(max_examples)
    if not pairs:
        raise ValueError("no IDX files given")
    paths = [(Path(os.fspath(i)), Path(os.fspath(lab))) for i, lab in pairs]
    headers = []
    shape = None
    for img_path, lab_path in paths:
        img = _peek(img_path, (3, 4))
        lab = _peek(lab_path, (1,))
        if lab.dims[0] != img.dims[0]:
            raise FileFormatError(
                f"has {lab.dims[0]:,} labels but {img_path.name} has {img.dims[0]:,} images", lab_path)
        this = _image_shape(img)
        if shape is None:
            shape = this
        elif this != shape:
            raise FileFormatError(f"its images are {this[0]}x{this[1]}x{this[2]}, those of "
                                  f"{paths[0][0].name} {shape[0]}x{shape[1]}x{shape[2]}", img_path)
        headers.append(img)
    assert shape is not None
    d = shape[0] * shape[1] * shape[2]
    total = sum(h.dims[0] for h in headers)
    keep = total if max_examples is None else min(total, int(max_examples))
    raw = max(h.n_values for h in headers)  # one file's images at a time, then only the kept rows
    check_budget(keep, d, paths[0][0].parent, raw_bytes=raw)  # the set, not one of its files
    labels = []
    for (_, lab_path) in paths:
        y = read_idx_file(lab_path, (1,))
        check_labels(y, lab_path, len(class_names) if class_names is not None else None)
        labels.append(y)
    all_labels = np.concatenate(labels)
    idx = choose(all_labels, max_examples, seed)
    n_first = len(labels[0])
    blocks = []
    start = 0
    for (img_path, _), y in zip(paths, labels, strict=True):
        mine = idx[(idx >= start) & (idx < start + len(y))] - start
        if len(mine):
            images = read_idx_file(img_path, (3, 4)).reshape(len(y), d)
            blocks.append(images[mine] if len(mine) < len(y) else images)
            del images
        start += len(y)
    pixels = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    return build(pixels, all_labels[idx], shape, name, class_names, int(np.count_nonzero(idx < n_first)),
                 total=total)


def _find(folder: Path, stem: str) -> Path | None:
    """The published file ``stem`` in ``folder``, plain or gzipped (the plain one first)."""
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.exists():
            return candidate
    return None


def idx_folder_pairs(folder: str | os.PathLike) -> list[tuple[Path, Path]]:
    """The (images, labels) pairs present in ``folder``, training first; FileFormatError
    when none is complete or one lacks its other half."""
    folder = Path(os.fspath(folder))
    pairs = []
    for _, images, labels in PARTS:
        img, lab = _find(folder, images), _find(folder, labels)
        if img is None and lab is None:
            continue
        if img is None or lab is None:
            missing = images if img is None else labels
            raise FileFormatError(f"has {(img or lab).name} but not {missing} (or {missing}.gz)", folder)
        pairs.append((img, lab))
    if not pairs:
        names = ", ".join(f"{i}[.gz] and {lab}[.gz]" for _, i, lab in PARTS)
        raise FileFormatError(f"holds no IDX image files; expected {names}", folder)
    return pairs


def is_idx_folder(folder: str | os.PathLike) -> bool:
    folder = Path(os.fspath(folder))
    return any(_find(folder, stem) is not None for _, i, lab in PARTS for stem in (i, lab))


def load_idx_folder(folder: str | os.PathLike, *, max_examples: int | None = None, seed: int = 0,
                    class_names: Sequence[str] | None = None, name: str | None = None) -> ImageData:
    """MNIST-style IDX files in ``folder`` (the training pair, the test pair, or both)."""
    folder = Path(os.fspath(folder))
    return load_idx_pairs(idx_folder_pairs(folder), max_examples=max_examples, seed=seed,
                          class_names=class_names, name=name or folder.name or "images")
