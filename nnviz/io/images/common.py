"""What every image loader shares: the result type, the memory budget, the seeded
stratified subsample and the conversion of bytes to a :class:`~nnviz.core.data.Dataset`.

The image shape travels beside the data set, in :class:`ImageData`, because a
``Dataset`` is a flat table: each row is one image, its pixels in row-major order with the
channels last (``X[i].reshape(height, width, channels)`` gives the image back), scaled
to 0..1.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nnviz.core.data import (
    GENERATE_BYTES,
    MAX_DRAWN_POINTS,
    MAX_EXAMPLES,
    WINDOW_BYTES_PER_EXAMPLE,
    Dataset,
)
from nnviz.core.spec import MAX_UNITS
from nnviz.io.errors import FileFormatError

#: the most pixels times channels one image may have: the network's input width
MAX_FEATURES = MAX_UNITS
#: the most classes an image set may name (a label byte of 255 in a 10-class file is
#: corruption, not class 255)
MAX_CLASSES = 1_000
#: the one memory budget, the generators' (see :data:`nnviz.core.data.GENERATE_BYTES`)
BUDGET_BYTES = GENERATE_BYTES
#: float32 copies of each row that the split, the input pipeline, the window and its
#: training process make: measured 5.0 for the window (1,331 MB for 70,000 MNIST-sized
#: images, 247 MB without) and 3.5 for ``nnviz train`` (``benchmarks/bench_image_memory.py``)
IMAGE_ROW_COPIES = 5


@dataclass(frozen=True)
class ImageData:
    """A loaded image set.

    ``dataset``: one row per image, ``height * width * channels`` values in 0..1, pixels
    row-major with the channels last; task ``"classification"``, integer labels, class
    names. ``shape``: ``(height, width, channels)`` of every image. ``n_train``: the first
    ``n_train`` rows come from the set's published training files, the rest from its test
    files (all rows when the source has no such split). ``notes``: what a user should be
    told, e.g. files in an image folder that are not images and were passed over.
    """

    dataset: Dataset
    shape: tuple[int, int, int]
    n_train: int
    notes: tuple[str, ...] = ()

    @property
    def n_test(self) -> int:
        return len(self.dataset) - self.n_train

    def image(self, i: int) -> np.ndarray:
        """Example ``i`` as an image array (height, width, channels), values 0..1."""
        return self.dataset.X[i].reshape(self.shape)


def loader_bytes(n: int, n_features: int, raw_bytes: int = 0) -> int:
    """The memory an image set of ``n`` examples costs the whole app: the bytes read
    (``raw_bytes``), the float32 table a ``Dataset`` holds, and what the session, trainer,
    training process and window copy per row (:data:`IMAGE_ROW_COPIES`, in float32: image
    sets train in float32 by default): the same kind of accounting as
    :func:`nnviz.core.data.generation_cost`, so one budget rules generated and loaded data."""
    table = n * n_features * 4
    copies = n * IMAGE_ROW_COPIES * 4 * (n_features + 1)
    drawn = min(n, MAX_DRAWN_POINTS) * WINDOW_BYTES_PER_EXAMPLE
    return raw_bytes + table + copies + drawn


def max_fitting_examples(n_features: int, raw_bytes: int = 0) -> int:
    """The most examples of ``n_features`` values that fit the budget (0 if none)."""
    lo, hi = 0, MAX_EXAMPLES
    if loader_bytes(hi, n_features, raw_bytes) <= BUDGET_BYTES:
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if loader_bytes(mid, n_features, raw_bytes) <= BUDGET_BYTES:
            lo = mid
        else:
            hi = mid
    return lo


def _size(nbytes: float) -> str:
    if nbytes >= 2**30:
        return f"{nbytes / 2**30:.1f} GB"
    return f"{nbytes / 2**20:.0f} MB" if nbytes >= 2**20 else f"{nbytes / 2**10:.0f} KB"


def check_budget(n: int, n_features: int, path: str | os.PathLike | None, raw_bytes: int = 0) -> None:
    """Refuse, before anything large is allocated, a set that would not fit the budget;
    the message says how many examples would (``--examples N``)."""
    if n_features > MAX_FEATURES:
        raise FileFormatError(
            f"its images have {n_features:,} values each; a network takes at most {MAX_FEATURES:,} inputs",
            path)
    if n > MAX_EXAMPLES:
        raise FileFormatError(f"it holds {n:,} images; at most {MAX_EXAMPLES:,} can be used", path)
    need = loader_bytes(n, n_features, raw_bytes)
    if need <= BUDGET_BYTES:
        return
    most = max_fitting_examples(n_features, raw_bytes)
    hint = (f"use at most {most:,} of them (--examples {most})" if most >= 1 else
            "no number of them fits")
    raise FileFormatError(
        f"{n:,} images of {n_features:,} values would need about {_size(need)} to train on and show "
        f"(the limit is {_size(BUDGET_BYTES)}); {hint}", path)


def check_max_examples(max_examples: int | None) -> None:
    if max_examples is None:
        return
    if isinstance(max_examples, bool) or not isinstance(max_examples, int | np.integer) or max_examples < 1:
        raise ValueError(f"max_examples must be a whole number >= 1, not {max_examples!r}")


def choose(labels: np.ndarray, max_examples: int | None, seed: int) -> np.ndarray:
    """Indices (ascending) of at most ``max_examples`` examples, drawn with ``seed``,
    each class keeping its share (largest remainders get the rounding), so a subsample
    of a balanced set stays balanced. Everything when ``max_examples`` is None or not
    smaller than the set."""
    n = len(labels)
    if max_examples is None or max_examples >= n:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    share = counts * (max_examples / n)
    take = np.floor(share).astype(np.int64)
    left = max_examples - int(take.sum())
    if left:
        order = np.lexsort((np.arange(len(classes)), -(share - take)))
        take[order[:left]] += 1
    picked = []
    for k in range(len(classes)):
        members = np.flatnonzero(inverse == k)
        if take[k]:
            picked.append(rng.choice(members, size=int(take[k]), replace=False))
    return np.sort(np.concatenate(picked)) if picked else np.arange(0)


def pixel_names(shape: tuple[int, int, int]) -> tuple[str, ...]:
    """Feature names in the table's order: ``pixel r,c`` (and the channel's letter)."""
    h, w, c = shape
    if c == 1:
        return tuple(f"pixel {r},{q}" for r in range(h) for q in range(w))
    letters = "RGB" if c == 3 else "LA" if c == 2 else "RGBA" if c == 4 else None
    return tuple(f"pixel {r},{q} {letters[k] if letters else k}"
                 for r in range(h) for q in range(w) for k in range(c))


def default_class_names(labels: np.ndarray, given: Sequence[str] | None) -> tuple[str, ...]:
    n_classes = int(labels.max()) + 1 if len(labels) else 0
    if given is not None and len(given) >= n_classes:
        return tuple(given)
    return tuple(str(k) for k in range(n_classes))


def check_labels(labels: np.ndarray, path: str | os.PathLike | None, n_classes: int | None = None) -> None:
    """Labels are class numbers below ``n_classes`` (or :data:`MAX_CLASSES`)."""
    if not len(labels):
        return
    top = int(labels.max())
    limit = n_classes if n_classes is not None else MAX_CLASSES
    if top >= limit:
        bad = int(np.flatnonzero(labels >= limit)[0])
        what = f"the set has {n_classes} classes" if n_classes is not None else \
            f"at most {MAX_CLASSES:,} classes are allowed"
        raise FileFormatError(f"example {bad + 1:,} has the label {int(labels[bad])}; {what}", path)


def sample_note(kept: int, total: int) -> tuple[str, ...]:
    """The note that says a subsample was drawn (none when everything was kept)."""
    if kept >= total:
        return ()
    return (f"using {kept:,} of the {total:,} images (a seeded sample, each class keeping its share)",)


def build(pixels: np.ndarray, labels: np.ndarray, shape: tuple[int, int, int], name: str,
          class_names: Sequence[str] | None, n_train: int, notes: Sequence[str] = (),
          total: int | None = None) -> ImageData:
    """``pixels`` (n, h*w*c) uint8 and ``labels`` (n,) into an :class:`ImageData`;
    ``total``: how many images the source held (for the note on a subsample)."""
    X = np.empty(pixels.shape, dtype=np.float32)
    np.multiply(pixels, np.float32(1.0 / 255.0), out=X, casting="unsafe")
    y = np.asarray(labels, dtype=np.int64)
    data = Dataset(X, y, "classification", name, pixel_names(shape), default_class_names(y, class_names))
    drawn = sample_note(len(y), total) if total is not None else ()
    return ImageData(data, shape, n_train, (*drawn, *notes))


def from_float(X: np.ndarray, labels: np.ndarray, shape: tuple[int, int, int], name: str,
               class_names: Sequence[str] | None, total: int) -> ImageData:
    """Float pixels already in 0..1 (n, h*w*c) into an :class:`ImageData` (all training)."""
    y = np.asarray(labels, dtype=np.int64)
    data = Dataset(np.asarray(X, dtype=np.float32), y, "classification", name, pixel_names(shape),
                   default_class_names(y, class_names))
    return ImageData(data, shape, len(y), sample_note(len(y), total))
