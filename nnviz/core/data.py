"""Data sets: seeded generators for the classic teaching problems, and train/test splits.

Classification targets are integer class indices; regression targets are float columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CLASSIFICATION_SETS = ("circle", "xor", "gauss", "spiral", "moons", "checkerboard")
REGRESSION_SETS = ("plane", "multigauss")
BUILTIN_SETS = CLASSIFICATION_SETS + REGRESSION_SETS
#: the noise a generator accepts, relative to the data's scale (inclusive)
NOISE_RANGE = (0.0, 10.0)
MAX_EXAMPLES = 5_000_000


class DataError(ValueError):
    """Data that cannot be used; the message says where and why."""


def input_table(X: np.ndarray) -> np.ndarray:
    """``X`` as a data set holds it: float32 stays float32 (an image set's pixels, half the
    memory of float64: what lets all of MNIST fit the budget), anything else is float64."""
    X = np.asarray(X)
    return X if X.dtype == np.float32 else np.asarray(X, dtype=np.float64)


@dataclass(frozen=True)
class Dataset:
    """Inputs ``X`` (N, D), float64 or float32 (see :func:`input_table`), and targets
    ``y``: class indices (N,) or values (N, T)."""

    X: np.ndarray
    y: np.ndarray
    task: str = "classification"  # or "regression"
    name: str = "data"
    feature_names: tuple[str, ...] = ()
    class_names: tuple[str, ...] = ()
    source: dict = field(default_factory=dict)  # how to make it again (generator settings)

    def __post_init__(self) -> None:
        X = input_table(self.X)
        if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
            raise DataError(f"inputs must be a non-empty table, got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise DataError("inputs contain NaN or infinite values")
        if self.task == "classification":
            y = np.asarray(self.y)
            if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
                raise DataError("class labels must be a column of integers")
            y = y.astype(np.int64)
            if y.min() < 0:
                raise DataError("class labels must be >= 0")
        elif self.task == "regression":
            y = np.asarray(self.y, dtype=np.float64)
            y = y.reshape(len(y), -1)
            if not np.all(np.isfinite(y)):
                raise DataError("targets contain NaN or infinite values")
        else:
            raise DataError(f"unknown task {self.task!r}")
        if len(y) != len(X):
            raise DataError(f"{len(X)} input rows but {len(y)} targets")
        X.flags.writeable = False
        y.flags.writeable = False
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        if not self.feature_names:
            names = tuple(f"x{i + 1}" for i in range(X.shape[1]))
            object.__setattr__(self, "feature_names", names)
        if self.task == "classification" and not self.class_names:
            object.__setattr__(self, "class_names", tuple(str(c) for c in range(self.n_classes)))

    @property
    def n_classes(self) -> int:
        if self.task != "classification":
            return 0
        return max(int(self.y.max()) + 1, len(self.class_names), 2)

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    @property
    def target_dim(self) -> int:
        return 1 if self.task == "classification" else self.y.shape[1]

    def __len__(self) -> int:
        return len(self.X)

    def subset(self, idx: np.ndarray) -> Dataset:
        return Dataset(
            self.X[idx], self.y[idx], self.task, self.name, self.feature_names,
            self.class_names, self.source,
        )

    def with_points(self, X: np.ndarray, y: np.ndarray) -> Dataset:
        return Dataset(X, y, self.task, self.name, self.feature_names, self.class_names, self.source)


@dataclass(frozen=True)
class Split:
    """A training and a test set drawn from one data set."""

    train: Dataset
    test: Dataset | None


def split(data: Dataset, test_fraction: float, seed: int) -> Split:
    """Shuffle and hold out ``test_fraction`` of the examples (none when 0)."""
    if not 0 <= test_fraction < 1:
        raise DataError("the test fraction must be in [0, 1)")
    n = len(data)
    n_test = round(n * test_fraction)
    if n_test and n - n_test < 1:
        raise DataError("the test fraction leaves no training examples")
    if n_test == 0:
        return Split(data, None)
    order = np.random.default_rng(seed).permutation(n)
    return Split(data.subset(np.sort(order[n_test:])), data.subset(np.sort(order[:n_test])))


# --- generators ------------------------------------------------------------------------
#: one budget for every generated data set: the memory of all the arrays its generator
#: makes (intermediates included) plus what its consumers build per example (below). It
#: holds every shipped example and the window's defaults with room to spare, and keeps a
#: file of a few hundred bytes from asking for gigabytes.
GENERATE_BYTES = 1 << 30
#: and the time a generator may take, estimated for a slow machine (about three times
#: slower than the one the rates below were measured on), so that a load takes seconds
GENERATE_SECONDS = 5.0
#: what consumers build per example: the window draws each example it shows as a scatter
#: point (measured: 2.2 KB a point with its brush or pen, 100k-400k points, pyqtgraph),
#: and shows at most MAX_DRAWN_POINTS of them (a seeded sample beyond) ...
WINDOW_BYTES_PER_EXAMPLE = 2304
MAX_DRAWN_POINTS = 20_000
#: ... and the session, trainer, training process and views copy each row about this
#: many times (split, input pipeline, shuffled epoch, the child process's pickle and
#: copy, the window's stacked points)
ROW_COPIES = 8
#: the 2-D generators' own peak bytes per example beyond X and y (measured with
#: tracemalloc: 37-117; multigauss's (n, 4, 2) distances are the most) and their time
_PLANE_BYTES, _PLANE_SECONDS = 160, 2e-6
#: digits_like: bytes and seconds per generated number (X's, and the prototypes')
_PROTO_BYTES, _PROTO_SECONDS = 40, 3e-7
#: handwritten digits: seconds per example (35 us measured; 153 us on a loaded machine)
_DIGIT_SECONDS = 1e-4


@dataclass(frozen=True)
class GenerationCost:
    """What making a data set costs: ``bytes`` of memory (the generator's arrays and
    what consumers build per example) and estimated ``seconds``."""

    bytes: int
    seconds: float

    def fits(self) -> bool:
        return self.bytes <= GENERATE_BYTES and self.seconds <= GENERATE_SECONDS


def _consumer_bytes(n: int, n_features: int, target_dim: int = 1) -> int:
    """Bytes consumers build from ``n`` examples (see :data:`WINDOW_BYTES_PER_EXAMPLE`)."""
    copies = n * ROW_COPIES * 8 * (n_features + target_dim)
    return copies + min(n, MAX_DRAWN_POINTS) * WINDOW_BYTES_PER_EXAMPLE


def generation_cost(generator: str, n: int, n_features: int = 64, n_classes: int = 10) -> GenerationCost:
    """The cost of ``n`` examples from ``generator`` (a built-in set, ``"glyphs"`` or
    ``"digits_like"``; ``n_features`` and ``n_classes`` apply to ``digits_like`` only).

    Grows with ``n`` (plus ``digits_like``'s prototypes), so :func:`max_examples` finds the
    largest accepted ``n`` by bisection."""
    from nnviz.core.glyphs import PER_EXAMPLE_BYTES, RENDER_BYTES

    if generator == "digits_like":
        values = n * n_features
        protos = n_classes * n_features
        mem = _PROTO_BYTES * (values + protos) + 16 * n + _consumer_bytes(n, n_features)
        return GenerationCost(mem, _PROTO_SECONDS * (values + protos))
    if generator == "glyphs":
        mem = RENDER_BYTES + n * (8 * 65 + PER_EXAMPLE_BYTES) + _consumer_bytes(n, 64)
        return GenerationCost(mem, _DIGIT_SECONDS * n)
    if generator not in BUILTIN_SETS:
        raise DataError(f"unknown data set {generator!r}; built-in ones: {', '.join(BUILTIN_SETS)}")
    mem = n * (_PLANE_BYTES + 8 * 3) + _consumer_bytes(n, 2)
    return GenerationCost(mem, _PLANE_SECONDS * n)


def max_examples(generator: str, n_features: int = 64, n_classes: int = 10) -> int:
    """The most examples :func:`check_generation` accepts for ``generator`` (0 if none
    fit): for a control's range, say."""
    lo, hi = 0, MAX_EXAMPLES  # the cost grows with n: the largest n that fits, by bisection
    if generation_cost(generator, hi, n_features, n_classes).fits():
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if generation_cost(generator, mid, n_features, n_classes).fits():
            lo = mid
        else:
            hi = mid
    return lo


def check_generation(generator: str, n: int, noise: float = 0.1, n_features: int = 64,
                     n_classes: int = 10) -> None:
    """Refuse (DataError) a request the generators cannot make within the budget, before
    anything is allocated: the one rule for the core, the file loaders and the CLI."""
    if not isinstance(n, int | np.integer) or isinstance(n, bool):
        raise DataError(f"the number of examples must be a whole number, not {n!r}")
    lo, hi = NOISE_RANGE
    if not isinstance(noise, int | float | np.floating) or not lo <= noise <= hi:
        raise DataError(f"noise must be in [{lo:g}, {hi:g}], not {noise}")
    if n < 4:
        raise DataError(f"the number of examples must be at least 4, not {n}")
    if generator == "digits_like":
        for what, v in (("features", n_features), ("classes", n_classes)):
            if not isinstance(v, int | np.integer) or isinstance(v, bool) or v < 1:
                raise DataError(f"the number of {what} must be a whole number >= 1, not {v!r}")
        if n_classes < 2:
            raise DataError("digits_like needs at least 2 classes")
    cost = generation_cost(generator, n, n_features, n_classes)
    if not cost.fits() or n > MAX_EXAMPLES:
        most = max_examples(generator, n_features, n_classes)
        what = f"{generator} data" + (f" of {n_features:,} features and {n_classes:,} classes"
                                     if generator == "digits_like" else "")
        raise DataError(
            f"{n:,} examples of {what} would need about {_size(cost.bytes)} and {cost.seconds:.0f} s "
            f"to make and show (the limit is {_size(GENERATE_BYTES)} and {GENERATE_SECONDS:g} s); "
            + (f"at most {most:,} examples fit" if most >= 4 else "no number of examples fits")
        )


def _size(nbytes: float) -> str:
    return f"{nbytes / 2**30:.1f} GB" if nbytes >= 2**30 else f"{nbytes / 2**20:.0f} MB"


def generate(name: str, n: int = 500, noise: float = 0.1, seed: int = 0, **kw) -> Dataset:
    """A built-in data set by name; ``noise`` is relative to the data's scale."""
    if name not in BUILTIN_SETS:
        raise DataError(f"unknown data set {name!r}; built-in ones: {', '.join(BUILTIN_SETS)}")
    check_generation(name, n, noise)
    rng = np.random.default_rng(seed)
    X, y = _GENERATORS[name](n, noise, rng, **kw)
    task = "regression" if name in REGRESSION_SETS else "classification"
    source = {"generator": name, "n": n, "noise": noise, "seed": seed, **kw}
    return Dataset(X, y, task, name, source=source)


def _circle(n, noise, rng):
    n_in = n // 2
    r_in = rng.uniform(0, 2.0, n_in)
    r_out = rng.uniform(3.5, 5.0, n - n_in)
    r = np.concatenate([r_in, r_out])
    t = rng.uniform(0, 2 * np.pi, n)
    X = np.stack([r * np.cos(t), r * np.sin(t)], axis=1) / 5.0
    X += noise * 0.5 * rng.standard_normal(X.shape)
    y = np.concatenate([np.zeros(n_in, int), np.ones(n - n_in, int)])
    return X, y


def _xor(n, noise, rng):
    X = rng.uniform(-1, 1, (n, 2))
    pad = 0.05
    X += np.sign(X) * pad
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(int)
    X += noise * 0.5 * rng.standard_normal(X.shape)
    return X, y


def _gauss(n, noise, rng):
    n0 = n // 2
    centres = np.array([[0.5, 0.5], [-0.5, -0.5]])
    y = np.concatenate([np.zeros(n0, int), np.ones(n - n0, int)])
    X = centres[y] + (0.15 + noise) * rng.standard_normal((n, 2))
    return X, y


def _spiral(n, noise, rng, arms: int = 3):
    if not 2 <= arms <= 12:
        raise DataError("a spiral has 2..12 arms")
    y = np.arange(n) % arms
    t = rng.uniform(0, 1, n)
    r = t
    theta = 4.0 * t + y * 2 * np.pi / arms
    theta = theta + noise * rng.standard_normal(n)
    X = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)
    order = np.argsort(y, kind="stable")
    return X[order], y[order]


def _moons(n, noise, rng):
    n0 = n // 2
    t0 = rng.uniform(0, np.pi, n0)
    t1 = rng.uniform(0, np.pi, n - n0)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    X = np.concatenate([upper, lower]) - [0.5, 0.25]
    X += noise * rng.standard_normal(X.shape)
    y = np.concatenate([np.zeros(n0, int), np.ones(n - n0, int)])
    return X / 1.2, y


def _checkerboard(n, noise, rng, cells: int = 4):
    if not 2 <= cells <= 16:
        raise DataError("a checkerboard has 2..16 cells a side")
    X = rng.uniform(-1, 1, (n, 2))
    cell = np.floor((X + 1) / 2 * cells).clip(0, cells - 1).astype(int)
    y = (cell[:, 0] + cell[:, 1]) % 2
    X += noise * 0.25 * rng.standard_normal(X.shape)
    return X, y


def _plane(n, noise, rng):
    X = rng.uniform(-1, 1, (n, 2))
    y = 0.6 * X[:, 0] - 0.4 * X[:, 1] + noise * rng.standard_normal(n)
    return X, y[:, None]


def _multigauss(n, noise, rng):
    X = rng.uniform(-1, 1, (n, 2))
    centres = np.array([[-0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [0.5, -0.5]])
    signs = np.array([1.0, 1.0, -1.0, -1.0])
    d2 = ((X[:, None, :] - centres[None]) ** 2).sum(axis=2)
    y = (signs * np.exp(-d2 / (2 * 0.2**2))).sum(axis=1) + noise * rng.standard_normal(n)
    return X, y[:, None]


_GENERATORS = {
    "circle": _circle,
    "xor": _xor,
    "gauss": _gauss,
    "spiral": _spiral,
    "moons": _moons,
    "checkerboard": _checkerboard,
    "plane": _plane,
    "multigauss": _multigauss,
}


def digits_like(n: int = 2000, n_features: int = 64, n_classes: int = 10, seed: int = 0) -> Dataset:
    """A digits-shaped classification set (8x8 "images", 10 classes) made from class
    prototypes plus noise: the shape of sklearn's digits without shipping data."""
    check_generation("digits_like", n, 0.0, n_features, n_classes)
    rng = np.random.default_rng(seed)
    prototypes = rng.uniform(0, 16, (n_classes, n_features)) * (
        rng.uniform(0, 1, (n_classes, n_features)) < 0.5
    )
    y = rng.integers(0, n_classes, n)
    X = np.clip(prototypes[y] + rng.normal(0, 4.0, (n, n_features)), 0, 16)
    source = {"generator": "digits_like", "n": n, "n_features": n_features, "n_classes": n_classes,
              "seed": seed}
    return Dataset(X, y, "classification", "digits", source=source)


def glyph_digits(n: int = 2000, noise: float = 1.0, seed: int = 0) -> Dataset:
    """8x8 handwriting-like digits drawn from strokes, 10 classes (see
    :mod:`nnviz.core.glyphs`): any number of them, harder than the real digits
    (:mod:`nnviz.io.uci_digits`). Files before format version 2 called them "digits"."""
    from nnviz.core.glyphs import digit_images

    check_generation("glyphs", n, noise)
    X, y = digit_images(n, noise=noise, seed=seed)
    source = {"generator": "glyphs", "n": n, "noise": noise, "seed": seed}
    names = tuple(f"pixel {r},{c}" for r in range(8) for c in range(8))
    return Dataset(X, y, "classification", "glyph digits", feature_names=names,
                   class_names=tuple(str(d) for d in range(10)), source=source)
