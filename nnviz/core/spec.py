"""The architecture of a network as a small immutable value that round-trips to JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nnviz.core.activations import ACTIVATION_NAMES
from nnviz.core.init import DEFAULT_INIT_STD, INIT_NAMES, SCALED_INIT, check_init_std
from nnviz.core.losses import LOSS_NAMES

DTYPES = ("float64", "float32")
#: sizes past these are refused: they exhaust memory long before they teach anything
MAX_UNITS = 65_536
MAX_LAYERS = 64
MAX_PARAMETERS = 20_000_000  # 160 MB a copy in float64; training keeps four or five copies


class SpecError(ValueError):
    """A network description that cannot be built; the message says why."""


@dataclass(frozen=True)
class LayerSpec:
    """One hidden dense layer: its width and its activation."""

    units: int
    activation: str = "relu"
    alpha: float | None = None  # leaky ReLU slope or ELU scale; None means the default

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"units": self.units, "activation": self.activation}
        if self.alpha is not None:
            d["alpha"] = self.alpha
        return d


@dataclass(frozen=True)
class NetworkSpec:
    """Inputs, hidden layers, outputs and loss: everything needed to build the weights."""

    input_dim: int
    output_dim: int
    hidden: tuple[LayerSpec, ...] = field(default_factory=tuple)
    loss: str = "softmax"
    init: str = "torch"
    residual: bool = False
    dtype: str = "float64"
    #: the ``normal`` initialiser's standard deviation (None for the others, which take
    #: their scale from the layer widths); a ``normal`` spec without one gets the default
    init_std: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(self.hidden))
        if self.init == SCALED_INIT and self.init_std is None:
            object.__setattr__(self, "init_std", DEFAULT_INIT_STD)
        self.validate()

    def validate(self) -> None:
        if not _is_int(self.input_dim) or not 1 <= self.input_dim <= MAX_UNITS:
            raise SpecError(f"input width must be an integer in 1..{MAX_UNITS}")
        if not _is_int(self.output_dim) or not 1 <= self.output_dim <= MAX_UNITS:
            raise SpecError(f"output width must be an integer in 1..{MAX_UNITS}")
        if len(self.hidden) > MAX_LAYERS:
            raise SpecError(f"at most {MAX_LAYERS} hidden layers")
        for i, layer in enumerate(self.hidden):
            if not isinstance(layer, LayerSpec):
                raise SpecError(f"hidden layer {i + 1} is not a layer description")
            if not _is_int(layer.units) or not 1 <= layer.units <= MAX_UNITS:
                raise SpecError(f"hidden layer {i + 1}: units must be an integer in 1..{MAX_UNITS}")
            if layer.activation not in ACTIVATION_NAMES:
                raise SpecError(
                    f"hidden layer {i + 1}: unknown activation {layer.activation!r} "
                    f"(known: {', '.join(ACTIVATION_NAMES)})"
                )
            if layer.alpha is not None and not (
                isinstance(layer.alpha, int | float) and 0 <= float(layer.alpha) <= 100
            ):
                raise SpecError(f"hidden layer {i + 1}: alpha must be a number in 0..100")
        if self.loss not in LOSS_NAMES:
            raise SpecError(f"unknown loss {self.loss!r} (known: {', '.join(LOSS_NAMES)})")
        if self.loss == "logistic" and self.output_dim != 1:
            raise SpecError("the logistic loss needs exactly one output unit")
        if self.loss in ("softmax", "svm") and self.output_dim < 2:
            raise SpecError(f"the {self.loss} loss needs at least two output units")
        if self.init not in INIT_NAMES:
            raise SpecError(f"unknown initialiser {self.init!r} (known: {', '.join(INIT_NAMES)})")
        if self.init == SCALED_INIT:
            try:
                object.__setattr__(self, "init_std", check_init_std(self.init_std))
            except ValueError as exc:
                raise SpecError(str(exc)) from None
        elif self.init_std is not None:
            raise SpecError(f"init_std applies to the {SCALED_INIT} initialiser only, not {self.init}")
        if self.dtype not in DTYPES:
            raise SpecError(f"dtype must be one of {', '.join(DTYPES)}")
        if not isinstance(self.residual, bool):
            raise SpecError("residual must be true or false")
        if self.parameter_count() > MAX_PARAMETERS:
            raise SpecError(
                f"{self.parameter_count():,} parameters is more than the {MAX_PARAMETERS:,} allowed"
            )

    @property
    def widths(self) -> list[int]:
        """Units per layer, inputs first and outputs last."""
        return [self.input_dim, *(h.units for h in self.hidden), self.output_dim]

    def layer_shapes(self) -> list[tuple[tuple[int, int], tuple[int]]]:
        """(W shape, b shape) per dense layer; maxout layers have two pieces per unit."""
        shapes = []
        fan_in = self.input_dim
        for layer in self.hidden:
            width = layer.units * (2 if layer.activation == "maxout" else 1)
            shapes.append(((fan_in, width), (width,)))
            fan_in = layer.units
        shapes.append(((fan_in, self.output_dim), (self.output_dim,)))
        return shapes

    def parameter_count(self) -> int:
        return sum(w[0] * w[1] + b[0] for w, b in self.layer_shapes())

    def residual_layers(self) -> list[bool]:
        """Whether each hidden layer adds its input back (needs equal widths)."""
        flags = []
        prev = None
        for layer in self.hidden:
            flags.append(bool(self.residual and prev is not None and prev == layer.units))
            prev = layer.units
        return flags

    def describe(self) -> str:
        parts = [str(self.input_dim)]
        parts += [f"{h.units} {h.activation}" for h in self.hidden]
        parts.append(f"{self.output_dim} ({self.loss})")
        text = " -> ".join(parts)
        return text + (" with residual links" if self.residual else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "hidden": [h.to_dict() for h in self.hidden],
            "loss": self.loss,
            "init": self.init,
            "residual": self.residual,
            "dtype": self.dtype,
            # only when it applies: files of the other initialisers stay as they were
            **({} if self.init_std is None else {"init_std": self.init_std}),
        }

    @classmethod
    def from_dict(cls, d: Any) -> NetworkSpec:
        """Build from parsed JSON, refusing anything malformed with a :class:`SpecError`."""
        if not isinstance(d, dict):
            raise SpecError("the architecture must be a JSON object")
        known = {"input_dim", "output_dim", "hidden", "loss", "init", "residual", "dtype", "init_std"}
        unknown = set(d) - known
        if unknown:
            raise SpecError(f"unknown architecture field(s): {', '.join(sorted(unknown))}")
        for key in ("input_dim", "output_dim"):
            if key not in d:
                raise SpecError(f"the architecture lacks {key!r}")
        hidden_raw = d.get("hidden", [])
        if not isinstance(hidden_raw, list):
            raise SpecError("'hidden' must be a list of layers")
        hidden = []
        for i, h in enumerate(hidden_raw):
            if not isinstance(h, dict) or "units" not in h:
                raise SpecError(f"hidden layer {i + 1} must be an object with 'units'")
            extra = set(h) - {"units", "activation", "alpha"}
            if extra:
                raise SpecError(f"hidden layer {i + 1}: unknown field(s) {', '.join(sorted(extra))}")
            hidden.append(
                LayerSpec(
                    units=h["units"],
                    activation=h.get("activation", "relu"),
                    alpha=h.get("alpha"),
                )
            )
        for key, kind in (("loss", str), ("init", str), ("dtype", str), ("residual", bool)):
            if key in d and not isinstance(d[key], kind):
                raise SpecError(f"{key!r} has the wrong type")
        return cls(
            input_dim=d["input_dim"],
            output_dim=d["output_dim"],
            hidden=tuple(hidden),
            loss=d.get("loss", "softmax"),
            init=d.get("init", "torch"),
            residual=d.get("residual", False),
            dtype=d.get("dtype", "float64"),
            init_std=d.get("init_std"),  # checked by validate(): type, finite, range
        )


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)
