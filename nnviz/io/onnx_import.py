"""Read an ONNX multilayer perceptron back as an nnviz network.

What is understood: one input table; dense layers as ``Gemm`` (``transA=0``, any
``transB``, ``alpha`` and ``beta``, folded into the weights) or ``MatMul`` + ``Add``;
between them ``Relu``, ``Sigmoid``, ``Tanh``, ``LeakyRelu``, ``Elu``, ``Softplus``,
``Identity`` and maxout (strided ``Slice`` pairs + ``Max``, or ``Reshape`` to pairs +
``ReduceMax``); residual ``Add`` links where nnviz puts them; and at the end an optional
``Softmax``/``LogSoftmax``/``Sigmoid`` (ignored: it only maps logits to probabilities).
Harmless wrappers (``Identity``, ``Dropout``, ``Flatten``, 2-D ``Reshape``, float ``Cast``,
``Constant``, ``ArgMax`` outputs) pass through, and nodes that only compute constants (a
transposed weight) are folded. The preprocessing block that
:func:`nnviz.io.onnx_export.export_onnx` writes (2-D feature expansion, ``Sub`` of the mean,
``MatMul`` by the matrix) comes back as an :class:`InputPipeline`.

The loss is not in an ONNX graph, so it is a guess: a file written by nnviz names it in
its metadata; otherwise softmax if a Softmax follows or there are two or more output
units, logistic for one output unit followed by a Sigmoid, and mse for one bare output
unit. An activation after the last layer (other than that Sigmoid) becomes a hidden layer
followed by an identity output layer, so the rebuilt network computes the same numbers.
Anything else is refused with an :class:`OnnxImportError` that names the operator.

The file is untrusted, so nothing it says is believed before it is bounded: only a
regular file of at most :data:`MAX_FILE_BYTES` is read; external data is refused wherever
it appears (nothing but the named file is ever opened); a tensor is converted only when a
node reads it, after its dims, type and data length are checked from its fields; every
constant computed here is sized from the shapes first; all of them together and the layers
built are held to limits tied to :data:`nnviz.core.spec.MAX_PARAMETERS` (see
:mod:`nnviz.io.onnx_tensors`). Whatever still goes wrong, a ``MemoryError`` included, is an
:class:`OnnxImportError` with one line of text.
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nnviz.core.preprocess import FEATURES_2D, PREPROCESS_NAMES, InputPipeline
from nnviz.core.spec import MAX_LAYERS, MAX_PARAMETERS, MAX_UNITS, LayerSpec, NetworkSpec, SpecError
from nnviz.io.errors import FileFormatError
from nnviz.io.onnx_common import (
    META_PREPROCESS,
    META_SPEC,
    OnnxImportError,
    OnnxUnavailableError,
    require_onnx,
)
from nnviz.io.onnx_tensors import (
    MAX_ATTRIBUTE_VALUES,
    MAX_DIMS,
    Budget,
    TensorRefusedError,
    attribute_array,
    broadcast_size,
    numpy_dtype,
    refuse_external_data,
    tensor_to_array,
)
from nnviz.io.regular_file import open_regular

__all__ = ["OnnxImportError", "OnnxUnavailableError", "import_onnx"]

#: files past this are refused before parsing: the largest network nnviz builds, in
#: float64, with a preprocessing matrix as large again, and room for the graph itself
MAX_FILE_BYTES = 2 * 8 * MAX_PARAMETERS + 2**24
#: metadata is a few short strings; a model with more is not read
MAX_METADATA_ENTRIES = 1_000
MAX_METADATA_CHARS = 1_000_000
_ACTIVATION_OPS = {
    "Relu": "relu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "LeakyRelu": "leaky_relu",
    "Elu": "elu",
    "Softplus": "softplus",
}
_DEFAULT_ALPHA = {"leaky_relu": 0.01, "elu": 1.0}
_PASS_THROUGH = frozenset({"Identity", "Dropout"})
#: the operators folded when all their inputs are constants (Cast and Transpose too)
_FOLDED: dict[str, Any] = {
    "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Cast": None, "Transpose": None,
}
#: the operators understood, with the method of :class:`_Reader` that reads each
_HANDLERS = {
    "Constant": "_op_constant",
    "Identity": "_op_identity",
    "Dropout": "_op_dropout",
    "Cast": "_op_cast",
    "Flatten": "_op_flatten",
    "Reshape": "_op_reshape",
    "Gemm": "_op_gemm",
    "MatMul": "_op_mat_mul",
    "Add": "_op_add",
    "Sub": "_op_sub",
    "Slice": "_op_slice",
    "Max": "_op_max",
    "ReduceMax": "_op_reduce_max",
    "Mul": "_op_mul",
    "Sin": "_op_sin",
    "Concat": "_op_concat",
    "ArgMax": "_op_arg_max",
    "Transpose": "_op_transpose",
    "Relu": "_activation",
    "Sigmoid": "_activation",
    "Tanh": "_activation",
    "LeakyRelu": "_activation",
    "Elu": "_activation",
    "Softplus": "_activation",
    "Softmax": "_probability",
    "LogSoftmax": "_probability",
}
#: (fewest, most) inputs of each operator; the rest take exactly one
_ARITY = {
    "Constant": (0, 0),
    "Dropout": (1, 3),
    "Reshape": (2, 2),
    "Gemm": (2, 3),
    "MatMul": (2, 2),
    "Add": (2, 2),
    "Sub": (2, 2),
    "Mul": (2, 2),
    "Slice": (1, 5),
    "Max": (1, 8),
    "ReduceMax": (1, 2),
    "Concat": (1, 1_000),
}


def import_onnx(path: str | os.PathLike[str]) -> tuple[NetworkSpec, list[np.ndarray], InputPipeline]:
    """The architecture, weights ``[W0, b0, ...]`` (W as (fan_in, fan_out)) and input
    pipeline of the MLP in the ONNX file at ``path``.

    Raises :class:`OnnxUnavailableError` without the ``onnx`` package, and
    :class:`OnnxImportError` (a ``ValueError``) for a file that cannot be read or is not an
    MLP nnviz can rebuild.
    """
    onnx = require_onnx()
    path = Path(path)
    try:
        return _read(onnx, path)
    except MemoryError:
        # every size is bounded before it is allocated, so this is a machine short of
        # memory: still a message, never a traceback
        raise OnnxImportError(
            f"{path.name}: there is not enough free memory to read this model"
        ) from None
    except RecursionError:
        raise OnnxImportError(f"{path.name}: the model is nested too deeply to read") from None


def _read(onnx: Any, path: Path) -> tuple[NetworkSpec, list[np.ndarray], InputPipeline]:
    model = _load(onnx, path)
    try:
        return _Reader(onnx, model).read()
    except (_RefusedError, TensorRefusedError) as e:
        raise OnnxImportError(f"{path.name}: {e}") from None
    except (ArithmeticError, LookupError, TypeError, ValueError) as e:
        # a file that passes the ONNX checker can still hold inconsistent tensors or
        # attributes that onnx's own helpers trip over: it is a bad file, not a crash
        why = f"{type(e).__name__}: {_short(e)}"
        raise OnnxImportError(f"{path.name}: inconsistent ONNX model ({why})") from e


class _RefusedError(Exception):
    """Internal: why the graph is refused; the file name is added by :func:`import_onnx`."""


def _load(onnx: Any, path: Path) -> Any:
    """The parsed model, read only if it is a regular file of a bounded size, and checked:
    no tensor may keep its data in another file, and the ONNX checker must accept it."""
    data = _read_bytes(path)
    # the checker runs on the bytes before they are parsed here, so the file is held at
    # most twice at once (it would serialise a parsed model again); it only looks at the
    # names of external files, and any tensor naming one is refused below with the
    # clearer message whatever the checker said
    checker_error = _check(onnx, data)
    try:
        # protobuf always (a path's extension could pick the text format), and never the
        # external data: tensors that name other files are refused below
        model = onnx.load(io.BytesIO(data), format="protobuf", load_external_data=False)
    except MemoryError:
        raise
    except Exception as e:  # protobuf's DecodeError and friends: not an ONNX file
        raise OnnxImportError(f"{path.name}: not a readable ONNX model ({_short(e)})") from e
    del data
    if not model.HasField("graph") or not model.graph.node:
        raise OnnxImportError(f"{path.name}: not an ONNX model (it has no graph)")
    try:
        refuse_external_data(model)
    except TensorRefusedError as e:
        raise OnnxImportError(f"{path.name}: {e}") from None
    if checker_error is not None:
        raise OnnxImportError(f"{path.name}: not a valid ONNX model ({checker_error})")
    return model


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, if it is a regular file of at most :data:`MAX_FILE_BYTES`."""
    try:
        with open_regular(path) as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise OnnxImportError(
                    f"{path.name}: {size:,} bytes is more than an ONNX file of the largest network "
                    f"nnviz builds needs (at most {MAX_FILE_BYTES:,} are read)"
                )
            data = f.read(MAX_FILE_BYTES + 1)  # bounded even if the file grows meanwhile
    except FileFormatError as e:
        raise OnnxImportError(f"{path.name}: {e.problem}") from None
    except OSError as e:
        raise OnnxImportError(f"{path.name}: cannot read the file ({e.strerror or e})") from e
    if len(data) > MAX_FILE_BYTES:
        raise OnnxImportError(f"{path.name}: more than {MAX_FILE_BYTES:,} bytes")
    return data


def _check(onnx: Any, data: bytes) -> str | None:
    """What the ONNX checker finds wrong with the serialised model, or None."""
    try:
        onnx.checker.check_model(data)
    except MemoryError:
        raise
    except Exception as e:  # the checker's exception types vary
        return _short(e)
    return None


def _short(e: Exception) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 300 else text[:297] + "..."


# --- abstract values: what each tensor of the graph is, in nnviz's terms -----------------
class _Const:
    """A constant tensor. An initializer is converted only when a node reads its values
    (through the reader's budget), so an unused one costs nothing."""

    __slots__ = ("_load", "_value")

    def __init__(self, value: np.ndarray | None = None, load: Callable[[], np.ndarray] | None = None):
        self._value = value
        self._load = load

    @property
    def value(self) -> np.ndarray:
        if self._value is None:
            assert self._load is not None
            self._value, self._load = self._load(), None
        return self._value


@dataclass(frozen=True)
class _Raw:
    """The graph's input table."""

    width: int | None


@dataclass(frozen=True)
class _Col:
    """One expanded 2-D feature column (a name from FEATURES_2D)."""

    name: str


@dataclass(frozen=True)
class _Feat:
    names: tuple[str, ...]


@dataclass(frozen=True)
class _Centered:
    features: tuple[str, ...]
    mean: np.ndarray = field(compare=False)


@dataclass(frozen=True)
class _Projected:
    """``(X - mean) @ M``: the preprocessing matrix, or a first layer without bias."""

    features: tuple[str, ...]
    mean: np.ndarray = field(compare=False)
    matrix: np.ndarray = field(compare=False)


@dataclass(frozen=True)
class _Hidden:
    """The input of dense layer ``k`` (k = 0: the network's input)."""

    k: int


@dataclass(frozen=True)
class _Pre:
    """Pre-activation of dense layer ``k``."""

    k: int


@dataclass(frozen=True)
class _Act:
    """Activation output of dense layer ``k`` (before any residual link)."""

    k: int


@dataclass(frozen=True)
class _Piece:
    """``z[:, offset::2]`` of layer ``k``: half of a maxout."""

    k: int
    offset: int


@dataclass(frozen=True)
class _Pairs:
    """Layer ``k``'s pre-activations reshaped to (N, units, 2) for a maxout."""

    k: int


@dataclass(frozen=True)
class _Prob:
    """Softmax/LogSoftmax of a stream: probabilities, not part of the network."""

    src: Any


@dataclass(frozen=True)
class _Derived:
    """Something computed from the outputs (1 - p, labels, ...): not part of the network."""

    src: Any


_STREAMS = (_Hidden, _Pre, _Act)
_INPUTS = (_Raw, _Col, _Feat, _Centered, _Projected)


@dataclass
class _Layer:
    W: np.ndarray
    b: np.ndarray
    activation: str | None = None
    alpha: float | None = None
    out: str | None = None  # "act": the next layer reads the activation; "residual": h + a

    @property
    def units(self) -> int:
        return self.W.shape[1] // (2 if self.activation == "maxout" else 1)


class _Reader:
    """Walks the nodes in order, giving every tensor an abstract value."""

    def __init__(self, onnx: Any, model: Any):
        self.onnx = onnx
        self.model = model
        self.graph = model.graph
        self.values: dict[str, Any] = {}
        self.layers: list[_Layer] = []
        self.pipeline: InputPipeline | None = None
        self.input_width: int | None = None
        self.meta = self._metadata(model)
        self.node_desc = ""
        self.op = ""
        self.saw_softmax = False
        self.budget = Budget()

    @staticmethod
    def _metadata(model: Any) -> dict[str, str]:
        """The model's metadata; untrusted hints, so a flood of them is not read at all."""
        props = model.metadata_props
        if len(props) > MAX_METADATA_ENTRIES or sum(len(p.value) for p in props) > MAX_METADATA_CHARS:
            return {}
        return {p.key: p.value for p in props}

    # --- entry ---------------------------------------------------------------------------
    def read(self) -> tuple[NetworkSpec, list[np.ndarray], InputPipeline]:
        for sparse in self.graph.sparse_initializer:
            raise _RefusedError(f"sparse initializer {sparse.values.name!r} is not supported")
        for init in self.graph.initializer:
            self.values[init.name] = _Const(load=self._converter(init, f"the tensor {init.name!r}"))
        inputs = [i for i in self.graph.input if i.name not in self.values]
        if len(inputs) != 1:
            raise _RefusedError(
                f"the model has {len(inputs)} inputs; an nnviz network takes exactly one table"
            )
        self.values[inputs[0].name] = _Raw(self._input_width(inputs[0]))
        for index, node in enumerate(self.graph.node):
            self.node_desc = f"node '{node.name or (node.output[0] if node.output else index)}'"
            self.op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
            outputs = self._node(node)
            for name, value in zip(node.output, outputs, strict=False):
                if name:
                    self.values[name] = value
        return self._finish()

    def _converter(self, tensor: Any, what: str) -> Callable[[], np.ndarray]:
        """Converts ``tensor`` when called: sizes from its fields first, then the budget."""
        return lambda: self._array(tensor_to_array(tensor, what, self.budget), what)

    def _input_width(self, value_info: Any) -> int | None:
        t = value_info.type
        if not t.HasField("tensor_type"):
            raise _RefusedError(f"the input {value_info.name!r} is not a tensor")
        elem = t.tensor_type.elem_type
        floats = {
            self.onnx.TensorProto.FLOAT,
            self.onnx.TensorProto.DOUBLE,
            self.onnx.TensorProto.FLOAT16,
        }
        if elem not in floats:
            name = self.onnx.TensorProto.DataType.Name(elem)
            raise _RefusedError(
                f"the input {value_info.name!r} holds {name}; nnviz needs floating-point inputs"
            )
        if not t.tensor_type.HasField("shape"):
            return None
        dims = t.tensor_type.shape.dim
        if len(dims) < 2:
            raise _RefusedError(
                f"the input {value_info.name!r} has {len(dims)} dimension(s); a table has two"
            )
        widths = [d.dim_value if d.HasField("dim_value") else None for d in dims[1:]]
        if any(w is None for w in widths):
            return None
        return math.prod(widths) if len(dims) > 2 else widths[0]

    def _array(self, a: np.ndarray, name: str) -> np.ndarray:
        a = np.asarray(a)
        if a.dtype.kind in "iub" or a.dtype in (np.float32, np.float64):
            return a
        if a.dtype == np.float16:
            return a.astype(np.float32)
        raise _RefusedError(f"the tensor {name!r} holds {a.dtype} values, which nnviz cannot use")

    # --- helpers -------------------------------------------------------------------------
    def refuse(self, why: str) -> _RefusedError:
        return _RefusedError(f"{self.op} ({self.node_desc}) {why}")

    def arg(self, node: Any, i: int) -> Any:
        if i >= len(node.input) or not node.input[i]:
            return None
        name = node.input[i]
        if name not in self.values:
            raise self.refuse(f"reads {name!r}, which nothing before it produces")
        return self.values[name]

    def const(self, node: Any, i: int, what: str) -> np.ndarray:
        v = self.arg(node, i)
        if not isinstance(v, _Const):
            raise self.refuse(f"needs a constant {what}")
        return v.value

    def small_const(self, node: Any, i: int, what: str) -> np.ndarray:
        """A constant list of a few numbers (a shape, axes): refused if long, before it
        becomes Python ints."""
        a = self.const(node, i, what).ravel()
        if a.size > MAX_DIMS:
            raise self.refuse(f"reads {a.size:,} values as its {what}")
        return a

    def attrs(self, node: Any) -> dict[str, Any]:
        """The node's attributes as Python values; a tensor stays a TensorProto (converted
        only through the budget) and a list longer than any operator here needs is refused."""
        values = {}
        for a in node.attribute:
            size = len(a.floats) + len(a.ints) + len(a.strings) + len(a.tensors) + len(a.graphs)
            if size > MAX_ATTRIBUTE_VALUES:
                raise self.refuse(f"has an attribute {a.name!r} of {size:,} values")
            values[a.name] = self.onnx.helper.get_attribute_value(a)
        return values

    def width(self, v: Any) -> int | None:
        if isinstance(v, _Raw):
            return v.width
        if isinstance(v, _Col):
            return 1
        if isinstance(v, _Feat):
            return len(v.names)
        if isinstance(v, _Centered):
            return len(v.mean)
        if isinstance(v, _Projected):
            return v.matrix.shape[1]
        if isinstance(v, _Hidden):
            return self.input_width if v.k == 0 else self._layer_output_width(v.k - 1)
        if isinstance(v, _Pre):
            return self.layers[v.k].W.shape[1]
        if isinstance(v, _Act):
            return self.layers[v.k].units
        return None

    def _layer_output_width(self, k: int) -> int:
        return self.layers[k].units

    # --- streams -------------------------------------------------------------------------
    def start(self, v: Any) -> None:
        """Fix the input pipeline from a preprocessing value that a layer now reads."""
        if self.layers or self.pipeline is not None:
            raise self.refuse("reads the raw input again after the first layer")
        if isinstance(v, _Raw):
            pipeline, width = InputPipeline(), v.width
        elif isinstance(v, _Col | _Feat):
            names = (v.name,) if isinstance(v, _Col) else v.names
            pipeline, width = InputPipeline("none", names), len(names)
        elif isinstance(v, _Centered):
            d = len(v.mean)
            pipeline, width = InputPipeline("center", v.features, v.mean, np.eye(d)), d
        else:
            method = self._method(v.matrix)
            pipeline = InputPipeline(method, v.features, v.mean, v.matrix)
            width = v.matrix.shape[1]
        self.pipeline, self.input_width = pipeline, width

    def _method(self, M: np.ndarray) -> str:
        hint = self.meta.get(META_PREPROCESS, "")
        if hint in PREPROCESS_NAMES and hint != "none":
            return hint
        if M.shape[0] == M.shape[1]:
            if np.array_equal(M, np.eye(len(M))):
                return "center"
            if np.array_equal(M, np.diag(np.diag(M))):
                return "standardize"
            if np.allclose(M.T @ M, np.eye(len(M)), atol=1e-6):
                return "pca"
        return "whiten"

    def hidden(self, v: Any, create: bool) -> int:
        """The layer index ``k`` whose input ``v`` is; closes the layer that made it."""
        if isinstance(v, _INPUTS):
            if create:
                self.start(v)
                return 0
            raise self.refuse("adds the raw input back, which nnviz cannot express")
        if isinstance(v, _Hidden):
            return v.k
        if isinstance(v, _Pre | _Act):
            layer = self.layers[v.k]
            if isinstance(v, _Pre) and layer.activation not in (None, "identity"):
                raise self.refuse("reads a pre-activation that also goes through an activation")
            if layer.out is None:  # the first reader of this layer's output closes the layer
                if v.k != len(self.layers) - 1:
                    raise self.refuse("reads a layer's output out of order (the graph branches)")
                layer.activation = layer.activation or "identity"
            self.close(v.k, "act")
            return v.k + 1
        raise self.refuse(f"reads {self.describe(v)} where a layer input belongs")

    def close(self, k: int, how: str) -> None:
        layer = self.layers[k]
        if layer.out not in (None, how):
            raise self.refuse("uses a layer's output in two different ways (the graph branches)")
        layer.out = how

    def project_as_layer(self, v: _Projected) -> _Pre:
        """``(X - mean) @ M`` not followed by a layer: it is the first layer, centred inputs."""
        self.start(_Centered(v.features, v.mean))
        return self.new_layer(0, v.matrix.astype(np.float64), np.zeros(v.matrix.shape[1]))

    def new_layer(self, k: int, W: np.ndarray, b: np.ndarray) -> _Pre:
        if k != len(self.layers):
            raise self.refuse("starts a second layer on the same input (the graph branches)")
        if max(W.shape) > MAX_UNITS:
            raise self.refuse(f"has a weight of shape {W.shape}; a layer has at most {MAX_UNITS:,} units")
        self.check_size(W.size + b.size)
        expected = self.input_width if k == 0 else self.layers[k - 1].units
        if expected is not None and W.shape[0] != expected:
            raise self.refuse(f"has {W.shape[0]} inputs per unit but receives {expected} columns")
        if k == 0:
            self.input_width = W.shape[0]
        self.layers.append(_Layer(W, b))
        return _Pre(k)

    def check_size(self, new: int) -> None:
        """Refuse a layer past nnviz's limits before it is stored: without this, a model
        could repeat one large weight in thousands of layers, each a copy."""
        if len(self.layers) > MAX_LAYERS:
            raise self.refuse(f"adds a layer past the {MAX_LAYERS} hidden layers nnviz allows")
        total = sum(layer.W.size + layer.b.size for layer in self.layers) + new
        if total > MAX_PARAMETERS:
            raise self.refuse(
                f"brings the network to {total:,} parameters, more than the {MAX_PARAMETERS:,} allowed"
            )

    def pre(self, v: Any) -> int:
        """The layer whose pre-activations ``v`` are, still open for a bias or activation."""
        if isinstance(v, _Projected):
            v = self.project_as_layer(v)
        if not isinstance(v, _Pre):
            raise self.refuse(f"applies to {self.describe(v)}, not to a layer's pre-activations")
        layer = self.layers[v.k]
        if v.k != len(self.layers) - 1 or layer.activation is not None or layer.out is not None:
            raise self.refuse("applies to a layer's pre-activations that are already used elsewhere")
        return v.k

    def describe(self, v: Any) -> str:
        names = {
            _Const: "a constant",
            _Raw: "the raw input",
            _Col: "an input feature",
            _Feat: "input features",
            _Centered: "centred inputs",
            _Hidden: "a hidden layer's output",
            _Pre: "a layer's pre-activations",
            _Act: "a layer's activations",
            _Piece: "half of a maxout",
            _Pairs: "maxout pairs",
            _Prob: "probabilities",
            _Derived: "a value computed from the outputs",
        }
        return names.get(type(v), "an intermediate value")

    # --- nodes ---------------------------------------------------------------------------
    def _node(self, node: Any) -> list[Any]:
        op = self.op
        if node.domain not in ("", "ai.onnx"):
            raise _RefusedError(f"unsupported operator {op} ({self.node_desc})")
        if op not in _HANDLERS:
            raise _RefusedError(f"unsupported operator {op} ({self.node_desc})")
        handler = getattr(self, _HANDLERS[op])
        fewest, most = _ARITY.get(op, (1, 1))
        if not fewest <= len(node.input) <= most or any(not name for name in node.input[:fewest]):
            raise self.refuse(f"has {len(node.input)} inputs, which this operator does not take")
        ins = [self.arg(node, i) for i in range(len(node.input))]
        if ins and all(isinstance(v, _Const) or v is None for v in ins):
            try:
                return [_Const(self._fold(node))]
            except TensorRefusedError:
                raise
            except (ArithmeticError, ValueError, TypeError) as e:
                raise self.refuse(f"cannot be computed on its constants ({_short(e)})") from None
        return handler(node, ins)

    def _fold(self, node: Any) -> np.ndarray:
        """A node of constants only (torch writes a few): computed here with NumPy, once
        the result's size (from the shapes alone) fits the budget."""
        op = self.op
        if op not in _PASS_THROUGH and op not in _FOLDED:
            raise self.refuse("of constants is not supported")
        attrs = self.attrs(node)
        a = [self.const(node, i, "input") for i in range(len(node.input)) if node.input[i]]
        if op in _PASS_THROUGH:
            return a[0]
        what = f"{op} ({self.node_desc}) of constants"
        if op == "Cast":
            dtype = numpy_dtype(attrs.get("to", 0))
            if dtype is None:
                raise self.refuse("casts a constant to a type nnviz cannot use")
            self.budget.take(a[0].size * (2 if dtype == np.float16 else 1), what)
            return self._array(a[0].astype(dtype), what)
        if op == "Transpose":
            self.budget.take(a[0].size, what)  # a view, but the layer copies it
            return np.transpose(a[0], attrs.get("perm"))
        _, n = broadcast_size([a[0].shape, a[1].shape], what)
        self.budget.take(n, what)
        return _FOLDED[op](a[0], a[1])

    def _op_transpose(self, node: Any, ins: list[Any]) -> list[Any]:
        raise self.refuse("transposes the data, which an MLP does not do")

    def _op_constant(self, node: Any, ins: list[Any]) -> list[Any]:
        """The node's value, converted (bounded) only when something reads it."""
        found = {a.name: a for a in node.attribute}
        what = f"the value of {self.node_desc}"
        if "value" in found:
            return [_Const(load=self._converter(found["value"].t, what))]
        budget = self.budget
        loaders: dict[str, Callable[[Any], np.ndarray]] = {
            "value_float": lambda a: np.asarray(a.f, dtype=np.float32),
            "value_floats": lambda a: attribute_array(a.floats, np.float32, what, budget),
            "value_int": lambda a: np.asarray(a.i, dtype=np.int64),
            "value_ints": lambda a: attribute_array(a.ints, np.int64, what, budget),
        }
        for key, load in loaders.items():
            if key in found:
                return [_Const(load=functools.partial(load, found[key]))]
        raise self.refuse("has a kind of constant nnviz does not read")

    def _op_identity(self, node: Any, ins: list[Any]) -> list[Any]:
        return [ins[0]]

    def _op_dropout(self, node: Any, ins: list[Any]) -> list[Any]:
        # inference: the data passes unchanged; the optional mask output is unused
        return [ins[0], _Derived(ins[0])]

    def _op_cast(self, node: Any, ins: list[Any]) -> list[Any]:
        to = self.attrs(node).get("to")
        floats = {self.onnx.TensorProto.FLOAT, self.onnx.TensorProto.DOUBLE, self.onnx.TensorProto.FLOAT16}
        if to in floats or isinstance(ins[0], _Prob | _Derived):
            return [ins[0]]
        raise self.refuse("casts the data to a non-floating-point type")

    def _op_flatten(self, node: Any, ins: list[Any]) -> list[Any]:
        if self.attrs(node).get("axis", 1) != 1:
            raise self.refuse("flattens on an axis other than 1")
        return [ins[0]]

    def _op_reshape(self, node: Any, ins: list[Any]) -> list[Any]:
        shape = [int(s) for s in self.small_const(node, 1, "shape")]
        v = ins[0]
        width = self.width(v)
        if len(shape) == 2 and shape[0] in (0, -1) and (shape[1] == -1 or shape[1] == width):
            return [v]
        if isinstance(v, _Pre) and len(shape) == 3 and shape[0] in (0, -1) and shape[2] == 2:
            k = self.pre(v)
            if shape[1] in (-1, self.layers[k].W.shape[1] // 2) and self.layers[k].W.shape[1] % 2 == 0:
                return [_Pairs(k)]
        if isinstance(v, _Prob | _Derived):
            return [_Derived(v)]
        raise self.refuse(f"reshapes to {shape}, which is not a layer of an MLP")

    def _op_gemm(self, node: Any, ins: list[Any]) -> list[Any]:
        attrs = self.attrs(node)
        if attrs.get("transA", 0):
            raise self.refuse("transposes the data (transA=1)")
        B = self.const(node, 1, "weight matrix")
        if B.ndim != 2:
            raise self.refuse(f"has a weight of shape {B.shape}; a layer's weight is a matrix")
        W = B.T if attrs.get("transB", 0) else B
        alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
        if alpha != 1.0:
            W = W * W.dtype.type(alpha)
        bias = self.bias(node, 2, W.shape[1]) if len(node.input) > 2 and node.input[2] else None
        if bias is None:
            bias = np.zeros(W.shape[1], dtype=W.dtype)
        elif beta != 1.0:
            bias = bias * bias.dtype.type(beta)
        k = self.hidden(ins[0], create=True)
        return [self.new_layer(k, np.ascontiguousarray(W), bias)]

    def bias(self, node: Any, i: int, units: int) -> np.ndarray:
        c = self.const(node, i, "bias")
        if c.ndim == 2 and c.shape[0] == 1:
            c = c[0]
        if c.ndim > 1 or c.size not in (1, units):
            raise self.refuse(f"has a bias of shape {c.shape} for {units} units")
        return np.ascontiguousarray(np.broadcast_to(c.reshape(-1), (units,)))

    def _op_mat_mul(self, node: Any, ins: list[Any]) -> list[Any]:
        W = self.const(node, 1, "weight matrix")
        if W.ndim != 2:
            raise self.refuse(f"has a weight of shape {W.shape}; a layer's weight is a matrix")
        if isinstance(ins[0], _Centered):
            if W.shape[0] != len(ins[0].mean):
                raise self.refuse(f"multiplies {len(ins[0].mean)} columns by a {W.shape} matrix")
            return [_Projected(ins[0].features, ins[0].mean, W.astype(np.float64))]
        k = self.hidden(ins[0], create=True)
        return [self.new_layer(k, np.ascontiguousarray(W), np.zeros(W.shape[1], dtype=W.dtype))]

    def _op_add(self, node: Any, ins: list[Any]) -> list[Any]:
        a, b = ins
        if isinstance(a, _Prob | _Derived) or isinstance(b, _Prob | _Derived):
            return [_Derived(a if not isinstance(a, _Const) else b)]
        if isinstance(a, _Const) or isinstance(b, _Const):
            value, c_index = (b, 0) if isinstance(a, _Const) else (a, 1)
            k = self.pre(value)
            layer = self.layers[k]
            layer.b = layer.b + self.bias(node, c_index, layer.W.shape[1]).astype(layer.b.dtype)
            return [_Pre(k)]
        # a residual link: one side is the newest layer's activation, the other its input
        last = len(self.layers) - 1
        pairs = [(o, s) for o, s in ((b, a), (a, b)) if isinstance(o, _Act | _Pre) and o.k == last]
        if len(pairs) != 1:
            raise self.refuse(
                f"adds {self.describe(a)} and {self.describe(b)}; only a bias or a residual link fits"
            )
        out, skip = pairs[0]
        layer = self.layers[last]
        if layer.out is not None or (isinstance(out, _Pre) and layer.activation is not None):
            raise self.refuse("adds a layer's output that is already used elsewhere")
        if self.hidden(skip, create=False) != last:
            raise self.refuse("adds a value that is not the layer's own input (not a residual link)")
        if isinstance(out, _Pre):
            layer.activation = "identity"
        self.close(last, "residual")
        return [_Hidden(last + 1)]

    def _op_sub(self, node: Any, ins: list[Any]) -> list[Any]:
        a, b = ins
        if isinstance(a, _Const) and not isinstance(b, _Const):
            return [_Derived(b)]  # 1 - p: the exporter's logistic probabilities
        if isinstance(b, _Const) and isinstance(a, _Raw | _Col | _Feat):
            features = () if isinstance(a, _Raw) else ((a.name,) if isinstance(a, _Col) else a.names)
            width = self.width(a)
            mean = np.asarray(b.value, dtype=np.float64)
            if mean.ndim == 2 and mean.shape[0] == 1:
                mean = mean[0]
            if mean.ndim != 1 or (width is not None and mean.shape[0] != width):
                raise self.refuse(f"subtracts a mean of shape {b.value.shape} from {width} columns")
            return [_Centered(features, mean)]
        if isinstance(b, _Const):
            k = self.pre(a)
            layer = self.layers[k]
            layer.b = layer.b - self.bias(node, 1, layer.W.shape[1]).astype(layer.b.dtype)
            return [_Pre(k)]
        raise self.refuse(f"subtracts {self.describe(b)} from {self.describe(a)}")

    # activations --------------------------------------------------------------------------
    def _activation(self, node: Any, ins: list[Any]) -> list[Any]:
        name = _ACTIVATION_OPS[self.op]
        if isinstance(ins[0], _Prob | _Derived):
            return [_Derived(ins[0])]
        k = self.pre(ins[0])
        layer = self.layers[k]
        layer.activation = name
        if name in _DEFAULT_ALPHA:
            alpha = self.attrs(node).get("alpha", _DEFAULT_ALPHA[name])
            # attributes are float32: take the shortest decimal that gives the same float32
            layer.alpha = float(str(np.float32(alpha)))
        return [_Act(k)]

    def _op_slice(self, node: Any, ins: list[Any]) -> list[Any]:
        if len(node.input) > 1:
            starts = self.small_const(node, 1, "start")
            ends = self.small_const(node, 2, "end")
            axes = self.small_const(node, 3, "axes") if len(node.input) > 3 and node.input[3] else [0]
            steps = self.small_const(node, 4, "steps") if len(node.input) > 4 and node.input[4] else [1]
        else:
            attrs = self.attrs(node)
            starts, ends = attrs.get("starts", []), attrs.get("ends", [])
            axes, steps = attrs.get("axes", list(range(len(starts)))), [1] * len(starts)
        if len(starts) != 1 or list(axes) not in ([1], [-1]):
            raise self.refuse("slices something other than columns")
        start, end, step = int(starts[0]), int(ends[0]), int(steps[0])
        v = ins[0]
        column = step == 1 and start in (0, 1) and end == start + 1
        if isinstance(v, _Raw) and column and v.width in (2, None):
            return [_Col(f"x{start + 1}")]
        if isinstance(v, _Pre) and step == 2 and start in (0, 1):
            k = self.pre(v)
            if end >= self.layers[k].W.shape[1] and self.layers[k].W.shape[1] % 2 == 0:
                return [_Piece(k, start)]
        raise self.refuse(
            f"takes columns {start}:{end}:{step}, which is neither an input feature nor a maxout"
        )

    def _op_max(self, node: Any, ins: list[Any]) -> list[Any]:
        if len(ins) == 2 and all(isinstance(v, _Piece) for v in ins):
            a, b = ins
            if a.k == b.k and {a.offset, b.offset} == {0, 1}:
                return [self.maxout(a.k)]
        raise self.refuse("is not the maximum of the two halves of a maxout")

    def _op_reduce_max(self, node: Any, ins: list[Any]) -> list[Any]:
        attrs = self.attrs(node)
        axes = attrs.get("axes")
        if axes is None and len(node.input) > 1 and node.input[1]:
            axes = self.small_const(node, 1, "axes").tolist()
        if isinstance(ins[0], _Pairs) and list(axes or []) in ([2], [-1]) and attrs.get("keepdims", 1) == 0:
            return [self.maxout(ins[0].k)]
        raise self.refuse("is not a maxout over (units, 2) pairs")

    def maxout(self, k: int) -> _Act:
        layer = self.layers[k]
        if layer.activation is not None or k != len(self.layers) - 1:
            raise self.refuse("applies a maxout to a layer that already has an activation")
        layer.activation = "maxout"
        return _Act(k)

    def _op_mul(self, node: Any, ins: list[Any]) -> list[Any]:
        a, b = ins
        if isinstance(a, _Col) and isinstance(b, _Col):
            names = {("x1", "x1"): "x1^2", ("x2", "x2"): "x2^2", ("x1", "x2"): "x1*x2", ("x2", "x1"): "x1*x2"}
            if (a.name, b.name) in names:
                return [_Col(names[(a.name, b.name)])]
        raise self.refuse(f"multiplies {self.describe(a)} by {self.describe(b)}")

    def _op_sin(self, node: Any, ins: list[Any]) -> list[Any]:
        if isinstance(ins[0], _Col) and ins[0].name in ("x1", "x2"):
            return [_Col(f"sin({ins[0].name})")]
        raise self.refuse(f"applies to {self.describe(ins[0])}, not to an input column")

    def _op_concat(self, node: Any, ins: list[Any]) -> list[Any]:
        axis = self.attrs(node).get("axis")
        if any(isinstance(v, _Prob | _Derived) for v in ins):
            sources = {v for v in ins if not isinstance(v, _Const)}
            return [_Derived(sources.pop() if len(sources) == 1 else ins[-1])]
        if axis not in (1, -1):
            raise self.refuse(f"joins on axis {axis}, not on columns")
        names: list[str] = []
        for v in ins:
            if isinstance(v, _Col):
                names.append(v.name)
            elif isinstance(v, _Feat):
                names.extend(v.names)
            elif isinstance(v, _Raw) and v.width in (2, None):
                names.extend(("x1", "x2"))
            else:
                raise self.refuse(f"joins {self.describe(v)}, which is not an input feature")
        unknown = [n for n in names if n not in FEATURES_2D]
        if unknown:
            raise self.refuse(f"joins unknown features {unknown}")
        return [_Feat(tuple(names))]

    # outputs --------------------------------------------------------------------------------
    def _probability(self, node: Any, ins: list[Any]) -> list[Any]:
        axis = self.attrs(node).get("axis", -1 if self._opset() >= 13 else 1)
        if axis not in (1, -1):
            raise self.refuse(f"normalises over axis {axis}, not over the classes")
        self.saw_softmax = True
        return [_Prob(ins[0])]

    def _op_arg_max(self, node: Any, ins: list[Any]) -> list[Any]:
        return [_Derived(ins[0])]

    def _opset(self) -> int:
        for o in self.model.opset_import:
            if o.domain in ("", "ai.onnx"):
                return int(o.version)
        return 1

    # --- the end -----------------------------------------------------------------------------
    def _finish(self) -> tuple[NetworkSpec, list[np.ndarray], InputPipeline]:
        self.node_desc, self.op = "the graph outputs", "output"
        streams = []
        trailing: set[str] = set()
        for out in self.graph.output:
            if out.name not in self.values:
                raise _RefusedError(f"the output {out.name!r} is not computed by any node")
            v = self.values[out.name]
            while isinstance(v, _Prob | _Derived):
                if isinstance(v, _Prob):
                    trailing.add("softmax")
                v = v.src
            if isinstance(v, _Projected):
                v = self.project_as_layer(v)
            if not isinstance(v, _Hidden | _Pre | _Act):
                raise _RefusedError(f"the output {out.name!r} is {self.describe(v)}, not a layer's output")
            streams.append(v)
        if not self.layers:
            raise _RefusedError("the model has no dense layer (Gemm, or MatMul + Add)")
        last = len(self.layers) - 1
        for v in streams:
            k = v.k - 1 if isinstance(v, _Hidden) else v.k
            if k != last or (isinstance(v, _Hidden) and self.layers[last].out != "residual"):
                raise _RefusedError("an output comes from inside the network, not from its last layer")
        final = self.layers[last]
        kinds = {type(v) for v in streams}
        if kinds == {_Pre} and final.activation is None:
            pass  # the usual case: the last layer's scores
        elif _Act in kinds and _Hidden not in kinds and final.activation == "sigmoid":
            final.activation = None  # a trailing Sigmoid maps logits to probabilities
            trailing.add("sigmoid")
        elif len(kinds) == 1 and _Pre not in kinds:
            # the graph ends in an activation or a residual link: an identity output layer
            # keeps that exact (the hidden layer is what the ONNX model computed)
            final.out = final.out or "act"
            width = final.units
            self.check_size(width * width + width)
            dtype = final.W.dtype
            self.layers.append(_Layer(np.eye(width, dtype=dtype), np.zeros(width, dtype=dtype)))
        else:
            raise _RefusedError("the outputs mix a layer's values before and after its activation")
        return self._build(trailing)

    def _build(self, trailing: set[str]) -> tuple[NetworkSpec, list[np.ndarray], InputPipeline]:
        dtype = "float64" if any(layer.W.dtype == np.float64 for layer in self.layers) else "float32"
        hidden = []
        for i, layer in enumerate(self.layers[:-1]):
            if layer.activation == "maxout" and layer.W.shape[1] % 2:
                raise _RefusedError(f"layer {i + 1}: a maxout needs an even number of columns")
            alpha = layer.alpha
            if alpha is not None and alpha == _DEFAULT_ALPHA.get(layer.activation or ""):
                alpha = None
            hidden.append(LayerSpec(layer.units, layer.activation or "identity", alpha))
        out_dim = self.layers[-1].W.shape[1]
        try:
            guess = NetworkSpec(
                input_dim=self.layers[0].W.shape[0],
                output_dim=out_dim,
                hidden=tuple(hidden),
                loss=self._loss(trailing, out_dim),
                residual=any(layer.out == "residual" for layer in self.layers[:-1]),
                dtype=dtype,
            )
        except SpecError as e:
            raise _RefusedError(f"the network does not fit nnviz: {e}") from None
        flags = [layer.out == "residual" for layer in self.layers[:-1]]
        if flags != guess.residual_layers():
            raise _RefusedError(
                "the residual links are not where nnviz puts them (on every hidden layer after "
                "the first whose width equals the previous one's)"
            )
        spec = self._metadata_spec(guess) or guess
        np_dtype = np.dtype(dtype)
        params: list[np.ndarray] = []
        for layer in self.layers:
            params += [
                np.ascontiguousarray(layer.W, dtype=np_dtype),
                np.ascontiguousarray(layer.b, dtype=np_dtype),
            ]
        pipeline = self.pipeline or InputPipeline()
        return spec, params, pipeline

    def _loss(self, trailing: set[str], out_dim: int) -> str:
        hint = self._metadata_dict().get("loss")
        if hint in ("softmax", "svm") and out_dim >= 2:
            return hint
        if hint == "logistic" and out_dim == 1:
            return "logistic"
        if hint == "mse":
            return "mse"
        if "softmax" in trailing and out_dim >= 2:
            return "softmax"
        if "sigmoid" in trailing and out_dim == 1:
            return "logistic"
        return "softmax" if out_dim >= 2 else "mse"

    def _metadata_dict(self) -> dict[str, Any]:
        try:
            d = json.loads(self.meta.get(META_SPEC, "{}"))
        except Exception:  # untrusted text: any failure only means there is no hint
            return {}
        return d if isinstance(d, dict) else {}

    def _metadata_spec(self, guess: NetworkSpec) -> NetworkSpec | None:
        """The spec the exporter stored, when it describes the same network as the graph
        (it adds what a graph cannot say: the initialiser, and alphas of unused layers)."""
        try:
            stored = NetworkSpec.from_dict(self._metadata_dict())
        except Exception:  # untrusted metadata: a bad one is ignored, the graph decides
            return None
        same = (
            stored.widths == guess.widths
            and stored.residual_layers() == guess.residual_layers()
            and stored.dtype == guess.dtype
            and stored.loss == guess.loss
            and all(
                s.activation == g.activation and _alpha_matches(s, g)
                for s, g in zip(stored.hidden, guess.hidden, strict=True)
            )
        )
        return stored if same else None


def _alpha_matches(stored: LayerSpec, guess: LayerSpec) -> bool:
    if stored.activation not in _DEFAULT_ALPHA:
        return True
    default = _DEFAULT_ALPHA[stored.activation]
    a = default if stored.alpha is None else float(stored.alpha)
    b = default if guess.alpha is None else float(guess.alpha)
    return bool(np.float32(a) == np.float32(b))
