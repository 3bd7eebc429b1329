"""Optimisers with exactly ``torch.optim``'s update rules and defaults.

So a learning rate or momentum found here carries over to PyTorch and back. Updates are
in place on the parameter arrays. State is a dict of plain arrays and numbers, so it can
be saved and restored bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

OPTIMIZER_NAMES = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
SCHEDULE_NAMES = ("constant", "step", "exponential", "cosine")
#: parameter arrays up to this size keep Adam's constant coefficients as whole arrays
#: (cheaper calls); for bigger ones the extra memory traffic would cost more than it saves
SMALL = 4096

#: torch.optim defaults, by our optimiser names
DEFAULTS: dict[str, dict[str, float]] = {
    "sgd": {"lr": 1e-3, "momentum": 0.0, "weight_decay": 0.0},
    "momentum": {"lr": 1e-3, "momentum": 0.9, "weight_decay": 0.0},
    "nesterov": {"lr": 1e-3, "momentum": 0.9, "weight_decay": 0.0},
    "rmsprop": {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "momentum": 0.0, "weight_decay": 0.0},
    "adam": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
    "adamw": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 1e-2},
}


@dataclass(frozen=True)
class OptimizerConfig:
    """Which optimiser and its hyperparameters (missing ones take torch's defaults)."""

    name: str = "sgd"
    hyper: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in OPTIMIZER_NAMES:
            raise ValueError(
                f"unknown optimizer {self.name!r}; choose one of {', '.join(OPTIMIZER_NAMES)}"
            )
        unknown = set(self.hyper) - set(DEFAULTS[self.name])
        if unknown:
            raise ValueError(f"{self.name} has no setting(s) {', '.join(sorted(unknown))}")
        merged = {**DEFAULTS[self.name], **{k: _number(self.name, k, v) for k, v in self.hyper.items()}}
        _check_ranges(self.name, merged)
        object.__setattr__(self, "hyper", merged)

    @property
    def lr(self) -> float:
        return self.hyper["lr"]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **self.hyper}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OptimizerConfig:
        d = dict(d)
        return cls(name=d.pop("name", "sgd"), hyper=d)


#: settings that must lie below 1 (torch.optim checks the betas; an RMSprop alpha above 1
#: makes the square average negative)
_BELOW_ONE = {"beta1": "[0, 1)", "beta2": "[0, 1)"}


def _number(name: str, key: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
        raise ValueError(f"{name} {key} must be a number, not {v!r}")
    return float(v)


def _check_ranges(name: str, h: dict[str, float]) -> None:
    """The ranges torch.optim checks (lr, eps, momentum, weight_decay, alpha >= 0;
    0 <= beta < 1; Nesterov needs momentum > 0), all finite, plus alpha <= 1."""
    for k, v in h.items():
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"{name} {k} must be a finite number >= 0, not {v:g}")
        if k in _BELOW_ONE and v >= 1:
            raise ValueError(f"{name} {k} must be in {_BELOW_ONE[k]}, not {v:g}")
    if name == "rmsprop" and h["alpha"] > 1:
        raise ValueError(f"rmsprop alpha must be in [0, 1], not {h['alpha']:g}")
    if name == "nesterov" and h["momentum"] <= 0:
        raise ValueError("nesterov momentum must be > 0 (Nesterov's update needs momentum)")


class Optimizer:
    """Applies one update to a list of parameters from their gradients."""

    def __init__(
        self, config: OptimizerConfig, params: list[np.ndarray],
        layout: list[tuple[int, ...]] | None = None,
    ):
        """``params`` are the arrays :meth:`step` will update. With ``layout`` they are
        one flat buffer holding arrays of these shapes: the update then runs over the
        whole buffer at once, and :meth:`state_arrays` / :meth:`load_state` still speak
        per array, so saved state does not depend on the layout in memory."""
        self.layout = layout
        self.config = config
        self.name = config.name
        self.h = dict(config.hyper)
        self.lr = self.h["lr"]
        self.t = 0
        self.state: dict[str, list[np.ndarray]] = {}
        zeros = [np.zeros_like(p) for p in params]
        self._scratch: list[np.ndarray | None] = [None] * len(params)
        self._coef: list[tuple | None] = [None] * len(params)
        if self.name in ("momentum", "nesterov", "sgd") and self.h["momentum"] > 0:
            self.state["momentum_buffer"] = zeros
        elif self.name == "rmsprop":
            self.state["square_avg"] = zeros
            if self.h["momentum"] > 0:
                self.state["momentum_buffer"] = [np.zeros_like(p) for p in params]
        elif self.name in ("adam", "adamw"):
            # both moments of an array as the two rows of one: one call updates both
            self._moments = [np.zeros((2, *np.shape(p)), np.asarray(p).dtype) for p in params]
            self._moment_views()

    def _moment_views(self) -> None:
        self.state["exp_avg"] = [mv[0] for mv in self._moments]
        self.state["exp_avg_sq"] = [mv[1] for mv in self._moments]

    # scratch arrays are rebuilt on demand, not copied or pickled; Adam's moments stay
    # views of their stacked arrays
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_scratch"] = [None] * len(self._scratch)
        state["_coef"] = [None] * len(self._coef)
        if "_moments" in state:
            state["state"] = {k: v for k, v in self.state.items() if k not in ("exp_avg", "exp_avg_sq")}
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if "_moments" in state:
            self._moment_views()

    def _tmp(self, i: int, p: np.ndarray) -> np.ndarray:
        """A scratch array like ``p`` for intermediate results, kept between steps."""
        t = self._scratch[i]
        if t is None or t.shape != p.shape or t.dtype != p.dtype:
            t = self._scratch[i] = np.empty_like(p)
        return t

    def _adam_parts(self, i: int, mv: np.ndarray) -> tuple:
        """For the stacked moments ``mv`` of array ``i``: its two rows (m and v) and the two
        row-by-row coefficients of the moments' update, [b1 / (1 - b1), b2 / (1 - b2)] and
        [1 - b1, 1 - b2]. A small array's coefficients fill whole arrays of ``mv``'s shape
        (a product of two arrays alike is NumPy's cheapest call); a large one's are a
        column that broadcasts. A Python float or an array element holding it is the same
        number in ``mv``'s dtype."""
        c = self._coef[i]
        key = (mv.shape, mv.dtype)
        if c is None or c[0] != key:
            b1, b2 = self.h["beta1"], self.h["beta2"]
            shape = mv.shape if mv[0].size <= SMALL else (2,) + (1,) * (mv.ndim - 1)

            def rows(a: float, b: float) -> np.ndarray:
                out = np.empty(shape, mv.dtype)
                out[0], out[1] = a, b
                return out

            parts = (mv[0], mv[1], rows(b1 / (1 - b1), b2 / (1 - b2)), rows(1 - b1, 1 - b2))
            c = self._coef[i] = (key, parts)
        return c[1]

    def step(self, params: list[np.ndarray], grads: list[np.ndarray], grads_spent: bool = False) -> None:
        """Update ``params`` in place, as the matching ``torch.optim`` class would.

        ``grads_spent``: the caller no longer needs ``grads`` after this step, so plain SGD
        scales them in place rather than into a scratch array (the same bits, one array
        fewer through the cache: 3-5% of a 784-256-128-10 step)."""
        self.t += 1
        name = self.name
        lr = self.lr
        h = self.h
        wd = h["weight_decay"]
        if name in ("sgd", "momentum", "nesterov"):
            mom = h["momentum"]
            if mom == 0:
                for i, (p, g) in enumerate(zip(params, grads, strict=True)):
                    if wd:
                        g = g + wd * p
                        t = np.multiply(g, lr, out=g)  # a fresh array already
                    else:
                        t = np.multiply(g, lr, out=g if grads_spent else self._tmp(i, p))
                    np.subtract(p, t, out=p)
                return
            bufs = self.state["momentum_buffer"]
            first = self.t == 1
            for p, g, buf in zip(params, grads, bufs, strict=True):
                if wd:
                    g = g + wd * p
                if first:
                    buf[...] = g
                else:
                    buf *= mom
                    buf += g
                d = g + mom * buf if name == "nesterov" else buf
                p -= lr * d
            return
        if name == "rmsprop":
            alpha, eps, mom = h["alpha"], h["eps"], h["momentum"]
            sq = self.state["square_avg"]
            bufs = self.state.get("momentum_buffer")
            for i, (p, g) in enumerate(zip(params, grads, strict=True)):
                if wd:
                    g = g + wd * p
                s = sq[i]
                s *= alpha
                s += (1 - alpha) * g * g
                avg = np.sqrt(s) + eps
                if bufs is not None:
                    buf = bufs[i]
                    buf *= mom
                    buf += g / avg
                    p -= lr * buf
                else:
                    p -= lr * (g / avg)
            return
        # adam / adamw, in the order of computation Kingma and Ba give for efficiency
        # (section 2 of the paper): p -= a_t m / (sqrt(v) + eps_t) with
        # a_t = lr sqrt(1 - b2^t) / (1 - b1^t) and eps_t = eps sqrt(1 - b2^t), which is
        # torch's p -= lr / (1 - b1^t) m / (sqrt(v) / sqrt(1 - b2^t) + eps) without a
        # division per weight. Each moment moves as (1 - b) (x b / (1 - b) + g), the same
        # b x + (1 - b) g, which needs no array of (1 - b) g: both rows are scaled in one
        # call before and after, and a spent gradient takes the intermediate results (so
        # no scratch array goes through the cache). 55 instead of 69 us for 17k float64
        # weights (benchmarks/bench_step_parts.py); a second moment overflows above
        # (1 - b2) times the largest float rather than at the largest float itself
        b1, b2 = h["beta1"], h["beta2"]
        bc2_sqrt = math.sqrt(1 - b2**self.t)
        step_size = lr * bc2_sqrt / (1 - b1**self.t)
        eps_t = h["eps"] * bc2_sqrt
        mul, add = np.multiply, np.add
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            if wd and name == "adamw":
                p *= 1 - lr * wd
            if wd and name == "adam":
                g = g + wd * p  # a fresh array, free to overwrite
            elif not grads_spent:  # the caller's gradient stays as it is
                t = self._tmp(i, p)
                np.copyto(t, g)
                g = t
            mv = self._moments[i]
            m, v, c_pre, c_post = self._adam_parts(i, mv)
            mul(mv, c_pre, out=mv)  # b1 / (1 - b1) m and b2 / (1 - b2) v
            add(m, g, out=m)
            mul(g, g, out=g)
            add(v, g, out=v)
            mul(mv, c_post, out=mv)  # x (1 - b1) and x (1 - b2)
            np.sqrt(v, out=g)
            add(g, eps_t, out=g)
            np.divide(m, g, out=g)
            mul(g, step_size, out=g)
            np.subtract(p, g, out=p)

    # --- state, for files and divergence recovery ------------------------------------
    def state_finite(self) -> bool:
        """Whether every state array is finite. Adam's second moment can overflow while
        the loss stays finite; min and max propagate NaN and show an inf without making
        a temporary array, so this is two passes over the state and no allocation."""
        arrays = self._moments if hasattr(self, "_moments") else [a for v in self.state.values() for a in v]
        return all(all_finite(a) for a in arrays)

    def _per_array(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        if self.layout is None:
            return arrays
        from nnviz.core.network import split_flat

        return split_flat(arrays[0], self.layout)

    def state_arrays(self) -> dict[str, list[np.ndarray]]:
        """Copies of the state, one array per parameter array."""
        if self.layout is not None:  # one copy of the flat buffer, then views of the copy
            return {k: self._per_array([v[0].copy()]) for k, v in self.state.items()}
        return {k: [a.copy() for a in v] for k, v in self.state.items()}

    def load_state(self, t: int, arrays: dict[str, list[np.ndarray]]) -> None:
        if set(arrays) != set(self.state):
            raise ValueError(
                f"optimizer state has {sorted(arrays)}, expected {sorted(self.state)}"
            )
        for k, v in arrays.items():
            targets = self._per_array(self.state[k])
            if len(v) != len(targets):
                raise ValueError(f"optimizer state {k!r} has {len(v)} arrays")
            for dst, src in zip(targets, v, strict=True):
                if dst.shape != src.shape:
                    raise ValueError(f"optimizer state {k!r} has shape {src.shape}")
                dst[...] = src
        self.t = int(t)


def all_finite(a: np.ndarray) -> bool:
    """Whether ``a`` holds no NaN or infinity (without a temporary boolean array)."""
    return a.size == 0 or (math.isfinite(a.min()) and math.isfinite(a.max()))


@dataclass(frozen=True)
class Schedule:
    """Learning rate as a function of the step count (minibatches), like torch's schedulers
    stepped once per minibatch: constant, step (x gamma every ``step_size``), exponential
    (x gamma per step) and cosine (to ``eta_min`` over ``t_max`` steps, closed form)."""

    name: str = "constant"
    step_size: int = 1000
    gamma: float = 0.5
    t_max: int = 10_000
    eta_min: float = 0.0

    def __post_init__(self) -> None:
        if self.name not in SCHEDULE_NAMES:
            raise ValueError(
                f"unknown schedule {self.name!r}; choose one of {', '.join(SCHEDULE_NAMES)}"
            )
        for k in ("step_size", "t_max"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ValueError(f"schedule {k} must be a whole number >= 1, not {v!r}")
        for k in ("gamma", "eta_min"):
            _number("schedule", k, getattr(self, k))
        if not 0 < self.gamma <= 1:
            raise ValueError(f"schedule gamma must be in (0, 1], not {self.gamma:g}")
        if not (math.isfinite(self.eta_min) and self.eta_min >= 0):
            raise ValueError(f"schedule eta_min must be a finite number >= 0, not {self.eta_min:g}")

    def lr_at(self, base_lr: float, step: int) -> float:
        if self.name == "constant":
            return base_lr
        if self.name == "step":
            return base_lr * self.gamma ** (step // self.step_size)
        if self.name == "exponential":
            return base_lr * self.gamma**step
        t = min(step, self.t_max)
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t / self.t_max)) / 2

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "step_size": self.step_size,
            "gamma": self.gamma,
            "t_max": self.t_max,
            "eta_min": self.eta_min,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Schedule:
        return cls(**d)
