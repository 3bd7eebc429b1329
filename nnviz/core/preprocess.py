"""The input pipeline: optional 2-D feature expansion, then preprocessing.

Both are fitted on the training split only and stored with the network, so a prediction
on raw inputs goes through exactly the transformation the network was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnviz.core.data import input_table

PREPROCESS_NAMES = ("none", "center", "standardize", "pca", "whiten")
#: TensorFlow Playground's features for a 2-D input
FEATURES_2D = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
_EPS = 1e-8
#: a column whose spread is below this (relative to its size) is constant in the training
#: split: it keeps its scale. Dividing by its rounding noise would turn a value it takes
#: only at test time (a border pixel that is blank in every training image) into 1e8.
_CONSTANT = 1e-10
#: the methods whose matrix is diagonal: applied column by column
_DIAGONAL = ("center", "standardize")
#: rows per block when fitting float32 inputs in float64
_FIT_ROWS = 4096


def _inverse_scale(std: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """What standardising multiplies each column by: 1 / std, or 1 for a constant column."""
    constant = std <= _CONSTANT * (1.0 + np.abs(mean))
    return np.where(constant, 1.0, 1.0 / (std + _EPS))


def expand_features(X: np.ndarray, features: tuple[str, ...]) -> np.ndarray:
    """Columns named in ``features`` (from :data:`FEATURES_2D`) computed from 2-D inputs."""
    if X.shape[1] != 2:
        raise ValueError("feature expansion needs exactly two input columns")
    x1, x2 = X[:, 0], X[:, 1]
    table = {
        "x1": lambda: x1,
        "x2": lambda: x2,
        "x1^2": lambda: x1 * x1,
        "x2^2": lambda: x2 * x2,
        "x1*x2": lambda: x1 * x2,
        "sin(x1)": lambda: np.sin(x1),
        "sin(x2)": lambda: np.sin(x2),
    }
    unknown = [f for f in features if f not in table]
    if unknown or not features:
        raise ValueError(f"unknown or no features {unknown}; choose from {', '.join(FEATURES_2D)}")
    return np.stack([table[f]() for f in features], axis=1)


def check_features(features: Any) -> tuple[str, ...]:
    """``features`` as a tuple of names from :data:`FEATURES_2D`, each once; ValueError
    otherwise. Checked where a pipeline is made, so every loader refuses a bad name at load
    rather than at the first expansion."""
    if isinstance(features, str):
        raise ValueError(f"features must be a list of names, not the string {features[:40]!r}")
    names = tuple(features)
    for f in names:
        if not isinstance(f, str) or f not in FEATURES_2D:
            raise ValueError(f"unknown input feature {str(f)[:40]!r}; choose from {', '.join(FEATURES_2D)}")
    twice = sorted({f for f in names if names.count(f) > 1})
    if twice:
        raise ValueError(f"input feature {twice[0]!r} is chosen more than once")
    return names


@dataclass(frozen=True)
class InputPipeline:
    """Raw inputs -> network inputs. ``mean``/``matrix`` are set by :meth:`fit`."""

    method: str = "none"
    features: tuple[str, ...] = ()  # empty: use the raw columns
    mean: np.ndarray | None = field(default=None, compare=False)
    matrix: np.ndarray | None = field(default=None, compare=False)  # (D_in, D_out)

    def __post_init__(self) -> None:
        if self.method not in PREPROCESS_NAMES:
            raise ValueError(
                f"unknown preprocessing {self.method!r}; choose one of {', '.join(PREPROCESS_NAMES)}"
            )
        object.__setattr__(self, "features", check_features(self.features))
        for name in ("mean", "matrix"):
            arr = getattr(self, name)
            if arr is not None:
                arr = np.array(arr, dtype=np.float64)
                arr.flags.writeable = False
                object.__setattr__(self, name, arr)

    @property
    def fitted(self) -> bool:
        return self.method == "none" or self.mean is not None

    def expand(self, X: np.ndarray) -> np.ndarray:
        """The inputs with any features added; float32 inputs stay float32 (image sets)."""
        X = input_table(X)
        return expand_features(X, self.features) if self.features else X

    def fit(self, X_raw: np.ndarray) -> InputPipeline:
        """A copy fitted to training inputs."""
        X = self.expand(X_raw)
        d = X.shape[1]
        if self.method == "none":
            return InputPipeline(self.method, self.features)
        if X.dtype == np.float32:
            return self._fit_in_chunks(X)
        mean = X.mean(axis=0)
        Xc = X - mean
        if self.method == "center":
            matrix = np.eye(d)
        elif self.method == "standardize":
            matrix = np.diag(_inverse_scale(Xc.std(axis=0), mean))
        else:
            return self._with_components(mean, Xc.T @ Xc / max(len(X) - 1, 1))
        return InputPipeline(self.method, self.features, mean, matrix)

    def _with_components(self, mean: np.ndarray, cov: np.ndarray) -> InputPipeline:
        """PCA or whitening from the inputs' covariance."""
        d = len(mean)
        evals, evecs = np.linalg.eigh(cov)
        order = np.argsort(evals)[::-1]
        evals, evecs = evals[order], evecs[:, order]
        # fix the sign of each component so refits on the same data agree
        signs = np.sign(evecs[np.abs(evecs).argmax(axis=0), np.arange(d)])
        evecs = evecs * np.where(signs == 0, 1, signs)
        matrix = evecs if self.method == "pca" else evecs / np.sqrt(evals.clip(0) + 1e-5)
        return InputPipeline(self.method, self.features, mean, matrix)

    def _fit_in_chunks(self, X: np.ndarray) -> InputPipeline:
        """The same statistics for float32 inputs, accumulated in float64 a block of rows at
        a time: no float64 copy of a large image set (all of MNIST would be 351 MB more)."""
        d = X.shape[1]
        mean = X.mean(axis=0, dtype=np.float64)
        blocks = range(0, len(X), _FIT_ROWS)
        if self.method in _DIAGONAL:
            if self.method == "center":
                return InputPipeline(self.method, self.features, mean, np.eye(d))
            squares = sum(np.square(X[i:i + _FIT_ROWS] - mean).sum(axis=0) for i in blocks)
            std = np.sqrt(squares / len(X))
            return InputPipeline(self.method, self.features, mean, np.diag(_inverse_scale(std, mean)))
        scatter = np.zeros((d, d))
        for i in blocks:
            c = X[i:i + _FIT_ROWS] - mean
            scatter += c.T @ c
        return self._with_components(mean, scatter / max(len(X) - 1, 1))

    def transform(self, X_raw: np.ndarray) -> np.ndarray:
        """Preprocessed inputs, in the inputs' precision (float32 stays float32). Centring
        and standardising scale each column (the same values as the product with their
        diagonal matrix, without its D x D work: 34 GFLOP for MNIST)."""
        X = self.expand(X_raw)
        if self.method == "none":
            return X
        if self.mean is None or self.matrix is None:
            raise ValueError("the preprocessing has not been fitted")
        if X.shape[1] != self.mean.shape[0]:
            raise ValueError(
                f"the data has {X.shape[1]} input columns; the network expects {self.mean.shape[0]}"
            )
        mean = self.mean.astype(X.dtype)
        if self.method in _DIAGONAL:
            return (X - mean) * np.diagonal(self.matrix).astype(X.dtype)
        return (X - mean) @ self.matrix.astype(X.dtype)

    def output_dim(self, raw_dim: int) -> int:
        return len(self.features) if self.features else raw_dim

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "features": list(self.features)}

    def arrays(self) -> dict[str, np.ndarray]:
        if self.mean is None:
            return {}
        return {"mean": np.asarray(self.mean), "matrix": np.asarray(self.matrix)}
