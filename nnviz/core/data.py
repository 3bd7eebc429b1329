"""Data sets: seeded generators for the classic teaching problems, and train/test splits.

Classification targets are integer class indices; regression targets are float columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CLASSIFICATION_SETS = ("circle", "xor", "gauss", "spiral", "moons", "checkerboard")
REGRESSION_SETS = ("plane", "multigauss")
BUILTIN_SETS = CLASSIFICATION_SETS + REGRESSION_SETS
MAX_EXAMPLES = 5_000_000


class DataError(ValueError):
    """Data that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Dataset:
    """Inputs ``X`` (N, D) and targets ``y``: class indices (N,) or values (N, T)."""

    X: np.ndarray
    y: np.ndarray
    task: str = "classification"  # or "regression"
    name: str = "data"
    feature_names: tuple[str, ...] = ()
    class_names: tuple[str, ...] = ()
    source: dict = field(default_factory=dict)  # how to make it again (generator settings)

    def __post_init__(self) -> None:
        X = np.asarray(self.X, dtype=np.float64)
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
def _check_size_and_noise(n: int, noise: float) -> None:
    if not 4 <= n <= MAX_EXAMPLES:
        raise DataError(f"the number of examples must be in 4..{MAX_EXAMPLES:,}, not {n}")
    if not 0 <= noise <= 10:
        raise DataError(f"noise must be in [0, 10], not {noise}")


def generate(name: str, n: int = 500, noise: float = 0.1, seed: int = 0, **kw) -> Dataset:
    """A built-in data set by name; ``noise`` is relative to the data's scale."""
    if name not in BUILTIN_SETS:
        raise DataError(f"unknown data set {name!r}; built-in ones: {', '.join(BUILTIN_SETS)}")
    _check_size_and_noise(n, noise)
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
    rng = np.random.default_rng(seed)
    prototypes = rng.uniform(0, 16, (n_classes, n_features)) * (
        rng.uniform(0, 1, (n_classes, n_features)) < 0.5
    )
    y = rng.integers(0, n_classes, n)
    X = np.clip(prototypes[y] + rng.normal(0, 4.0, (n, n_features)), 0, 16)
    source = {"generator": "digits_like", "n": n, "n_features": n_features, "seed": seed}
    return Dataset(X, y, "classification", "digits", source=source)


def digits(n: int = 2000, noise: float = 1.0, seed: int = 0) -> Dataset:
    """8x8 handwriting-like digits, 10 classes (see :mod:`nnviz.core.glyphs`): hard
    enough that a hidden layer, regularisation and the test split all show their worth."""
    from nnviz.core.glyphs import digit_images

    _check_size_and_noise(n, noise)
    X, y = digit_images(n, noise=noise, seed=seed)
    source = {"generator": "digits", "n": n, "noise": noise, "seed": seed}
    names = tuple(f"pixel {r},{c}" for r in range(8) for c in range(8))
    return Dataset(X, y, "classification", "digits", feature_names=names,
                   class_names=tuple(str(d) for d in range(10)), source=source)
