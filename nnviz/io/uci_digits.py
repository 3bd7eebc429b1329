"""The real 8x8 handwritten digits that ship with nnviz: the 1,797 test images of the UCI
"Optical Recognition of Handwritten Digits" set (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0),
the same images as scikit-learn's ``load_digits``.

Each image is a 32x32 bitmap of a digit written by one of 13 people, counted in 4x4
blocks: 64 pixels of 0..16. The lecture notes' figures (a linear model near 96%, what
saturation or a high learning rate does to a sigmoid or ReLU network) were measured on
these, so the lessons and the command line reproduce them. They are stored as gzipped IDX
files in ``resources/data`` and read with the same checked reader as MNIST.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np

from nnviz.core.data import DataError, Dataset
from nnviz.io.errors import FileFormatError
from nnviz.io.images.common import choose
from nnviz.io.images.idx import read_idx_file
from nnviz.resources import resource_dir

N_EXAMPLES = 1797
SIDE = 8
MAX_PIXEL = 16
IMAGES = "uci-digits-images-idx3-ubyte.gz"
LABELS = "uci-digits-labels-idx1-ubyte.gz"
#: the shipped files' SHA-256: a damaged installation says so instead of training on it
SHA256 = {
    IMAGES: "16bf71e8bfa958f11ad68a045567f2a2f5362b27ab1e7cadd4cf9a3cbb37176e",
    LABELS: "22e1486adc7849d49bbac7f3e6227134ade1aea8cf5289c8dceeecd5a005d43c",
}
FEATURE_NAMES = tuple(f"pixel {r},{c}" for r in range(SIDE) for c in range(SIDE))
CLASS_NAMES = tuple(str(d) for d in range(10))


def data_folder() -> Path:
    return resource_dir() / "data"


def _checked(name: str) -> Path:
    path = data_folder() / name
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise DataError(f"the shipped digits ({path}) cannot be read ({exc.strerror or exc}); "
                        "reinstall nnviz") from None
    if digest != SHA256[name]:
        raise DataError(f"the shipped digits ({path}) are damaged (wrong SHA-256); reinstall nnviz")
    return path


@functools.lru_cache(maxsize=1)
def all_digits() -> tuple[np.ndarray, np.ndarray]:
    """Every image (1797, 64) as uint8 and every label (1797,), read-only, read once."""
    try:
        images = read_idx_file(_checked(IMAGES), ndims=(3,))
        labels = read_idx_file(_checked(LABELS), ndims=(1,))
    except FileFormatError as exc:  # the digest matched, so only a changed reader gets here
        raise DataError(f"the shipped digits cannot be read: {exc}") from None
    if images.shape != (N_EXAMPLES, SIDE, SIDE) or labels.shape != (N_EXAMPLES,) \
            or images.max() > MAX_PIXEL or labels.max() > 9:
        raise DataError("the shipped digits are not 1,797 8x8 images of 0..16 with labels 0..9")
    X = images.reshape(N_EXAMPLES, SIDE * SIDE)
    X.flags.writeable = False
    labels.flags.writeable = False
    return X, labels


def check_count(n: int) -> None:
    if not 4 <= n <= N_EXAMPLES:
        raise DataError(f"the digits set has {N_EXAMPLES:,} examples; ask for 4 to {N_EXAMPLES:,}, not {n:,}")


def uci_digits(n: int = N_EXAMPLES, seed: int = 0) -> Dataset:
    """``n`` of the digits (all of them by default, in the file's order); fewer are drawn
    with ``seed``, each class keeping its share."""
    check_count(n)
    X, y = all_digits()
    rows = choose(y, n, seed)
    source = {"generator": "digits", "n": n, "seed": seed}
    return Dataset(X[rows].astype(np.float64), y[rows].astype(np.int64), "classification", "digits",
                   feature_names=FEATURE_NAMES, class_names=CLASS_NAMES, source=source)
