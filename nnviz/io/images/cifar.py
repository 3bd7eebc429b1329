"""CIFAR-10, binary version: records of one label byte and 3,072 pixel bytes (32x32, the
red plane, then green, then blue).

The Python version of CIFAR-10 is a set of pickles, and unpickling runs code from the
file: nnviz refuses it (by name and by its first byte) and points to the binary version.
A folder is read only for the published names (``data_batch_1.bin`` ... ``data_batch_5.bin``,
``test_batch.bin`` and, for the class names, ``batches.meta.txt``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nnviz.core.data import MAX_EXAMPLES
from nnviz.io.errors import FileFormatError
from nnviz.io.images.common import ImageData, build, check_budget, check_max_examples, choose
from nnviz.io.regular_file import open_regular, read_regular

SIDE, CHANNELS = 32, 3
PIXELS = SIDE * SIDE * CHANNELS
RECORD = 1 + PIXELS
TRAIN_FILES = tuple(f"data_batch_{k}.bin" for k in range(1, 6))
TEST_FILES = ("test_batch.bin",)
META_FILE = "batches.meta.txt"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
PICKLED_NAMES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch",
            "batches.meta")
_PICKLE_ADVICE = ("the Python version of CIFAR-10 is pickled, and nnviz never unpickles files (unpickling "
                  "can run code); download the binary version (cifar-10-binary.tar.gz) and give its folder "
                  "cifar-10-batches-bin")
_MAX_META = 64 * 1024


def _records(path: Path) -> int:
    """How many records the batch ``path`` holds, from its size (checked)."""
    if path.name in PICKLED_NAMES or "python" in path.name:
        raise FileFormatError(_PICKLE_ADVICE, path)
    if path.name.endswith((".tar.gz", ".tgz", ".tar")):
        raise FileFormatError("is an archive; extract it (tar xzf) and give the folder it makes "
                              "(cifar-10-batches-bin)", path)
    with open_regular(path) as f:
        size = os.fstat(f.fileno()).st_size
        first = f.read(1)
    if first == b"\x80":
        raise FileFormatError(f"is a Python pickle, not a CIFAR-10 binary batch: {_PICKLE_ADVICE}", path)
    if size == 0:
        raise FileFormatError("is empty", path)
    if size % RECORD:
        hint = (" (CIFAR-100's binary records have two label bytes; nnviz reads CIFAR-10's)"
                if size % (RECORD + 1) == 0 else " (truncated, or not a CIFAR-10 binary batch)")
        raise FileFormatError(f"is {size:,} bytes, not a whole number of {RECORD:,}-byte records{hint}", path)
    n = size // RECORD
    if n > MAX_EXAMPLES:
        raise FileFormatError(f"holds {n:,} records; at most {MAX_EXAMPLES:,} can be used", path)
    return n


#: records read at a time (about 3 MB): a batch is streamed, never held whole
_BLOCK_RECORDS = 1024


def _blocks(path: Path, n: int):
    """The batch's records, ``_BLOCK_RECORDS`` at a time, as (first index, (k, 3073) uint8)."""
    with open_regular(path) as f:
        start = 0
        while start < n:
            k = min(_BLOCK_RECORDS, n - start)
            data = f.read(k * RECORD)
            if len(data) != k * RECORD:
                raise FileFormatError("changed while it was read (it is shorter now)", path)
            yield start, np.frombuffer(data, dtype=np.uint8).reshape(k, RECORD)
            start += k
        if f.read(1):
            raise FileFormatError("changed while it was read (it is longer now)", path)


def _read_labels(path: Path, n: int) -> np.ndarray:
    out = np.empty(n, dtype=np.uint8)
    for start, block in _blocks(path, n):
        out[start : start + len(block)] = block[:, 0]
    return out


def _read_selected(path: Path, n: int, rows: np.ndarray) -> np.ndarray:
    """The records ``rows`` (ascending) of the batch, as (len(rows), 3073) uint8."""
    out = np.empty((len(rows), RECORD), dtype=np.uint8)
    done = 0
    for start, block in _blocks(path, n):
        lo, hi = np.searchsorted(rows, [start, start + len(block)])
        out[done : done + hi - lo] = block[rows[lo:hi] - start]
        done += hi - lo
    return out


def _to_hwc(records: np.ndarray) -> np.ndarray:
    """Channel-major pixels (3, 32, 32) into rows of row-major, channels-last pixels."""
    n = len(records)
    planes = records[:, 1:].reshape(n, CHANNELS, SIDE, SIDE)
    return np.ascontiguousarray(planes.transpose(0, 2, 3, 1)).reshape(n, PIXELS)


def read_meta(path: str | os.PathLike) -> tuple[str, ...]:
    """The class names in ``batches.meta.txt``: one a line, blank lines ignored."""
    path = Path(os.fspath(path))
    text = read_regular(path, _MAX_META)
    try:
        lines = text.decode("utf-8")
    except UnicodeDecodeError:
        raise FileFormatError("is not text (UTF-8)", path) from None
    names = tuple(line.strip() for line in lines.splitlines() if line.strip())
    if not 2 <= len(names) <= 256:
        raise FileFormatError(f"names {len(names)} classes; a CIFAR-10 meta file names 10", path)
    return names


def load_cifar_batches(train: Sequence[str | os.PathLike], test: Sequence[str | os.PathLike] = (), *,
                       max_examples: int | None = None, seed: int = 0,
                       class_names: Sequence[str] | None = None, name: str = "cifar10") -> ImageData:
    """CIFAR-10 binary batches (training ones first); labels must be below the number of
    class names (ten unless ``class_names`` says otherwise)."""
    check_max_examples(max_examples)
    names = tuple(class_names) if class_names is not None else CLASSES
    files = [Path(os.fspath(p)) for p in (*train, *test)]
    if not files:
        raise ValueError("no CIFAR-10 batches given")
    counts = [_records(p) for p in files]
    total = sum(counts)
    keep = total if max_examples is None else min(total, int(max_examples))
    check_budget(keep, PIXELS, files[0], raw_bytes=keep * RECORD + total + _BLOCK_RECORDS * RECORD)
    per_file = [_read_labels(p, n) for p, n in zip(files, counts, strict=True)]
    for p, y in zip(files, per_file, strict=True):
        bad = np.flatnonzero(y >= len(names))
        if len(bad):
            raise FileFormatError(f"record {bad[0] + 1:,} has the label {y[bad[0]]}; CIFAR-10 labels are "
                                  f"0..{len(names) - 1} (not a CIFAR-10 binary batch?)", p)
    labels = np.concatenate(per_file)
    idx = choose(labels, max_examples, seed)
    n_train = sum(counts[: len(train)])
    blocks, start = [], 0
    for p, n in zip(files, counts, strict=True):
        mine = idx[(idx >= start) & (idx < start + n)] - start
        if len(mine):
            blocks.append(_to_hwc(_read_selected(p, n, mine)))
        start += n
    pixels = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    return build(pixels, labels[idx], (SIDE, SIDE, CHANNELS), name, names,
                 int(np.count_nonzero(idx < n_train)), total=total)


def is_cifar_folder(folder: str | os.PathLike) -> bool:
    folder = Path(os.fspath(folder))
    return any((folder / f).exists() for f in (*TRAIN_FILES, *TEST_FILES, *PICKLED_NAMES))


def load_cifar_folder(folder: str | os.PathLike, *, max_examples: int | None = None, seed: int = 0,
                      name: str = "cifar10") -> ImageData:
    """The CIFAR-10 binary batches in ``folder`` (``cifar-10-batches-bin``): whichever of
    the published batches are there, the class names from ``batches.meta.txt`` if present."""
    folder = Path(os.fspath(folder))
    if not any((folder / f).exists() for f in (*TRAIN_FILES, *TEST_FILES)):
        if any((folder / f).exists() for f in PICKLED_NAMES):
            raise FileFormatError(_PICKLE_ADVICE, folder)
        raise FileFormatError(f"holds no CIFAR-10 binary batches ({', '.join(TRAIN_FILES + TEST_FILES)})",
                              folder)
    train = [folder / f for f in TRAIN_FILES if (folder / f).exists()]
    test = [folder / f for f in TEST_FILES if (folder / f).exists()]
    meta = folder / META_FILE
    names = read_meta(meta) if meta.exists() else CLASSES
    return load_cifar_batches(train, test, max_examples=max_examples, seed=seed, class_names=names, name=name)
