"""Reading an ONNX graph as an MLP: the reader walks the nodes in order, gives every
tensor an abstract value (:mod:`nnviz.io.onnx_values`), lets the operator functions
(:mod:`nnviz.io.onnx_ops`) turn nodes into layers, folds nodes of constants, and at the
end builds the :class:`NetworkSpec`, weights and :class:`InputPipeline`.

Every size is bounded before it is allocated: tensors are converted only when read, and
through the reader's :class:`~nnviz.io.onnx_tensors.Budget`; layers are held to the limits
of :mod:`nnviz.core.spec`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from nnviz.core.preprocess import PREPROCESS_NAMES, InputPipeline
from nnviz.core.spec import MAX_LAYERS, MAX_PARAMETERS, MAX_UNITS, LayerSpec, NetworkSpec, SpecError
from nnviz.io.onnx_common import META_PREPROCESS, META_SPEC
from nnviz.io.onnx_ops import ARITY, HANDLERS
from nnviz.io.onnx_tensors import (
    MAX_ATTRIBUTE_VALUES,
    MAX_DIMS,
    Budget,
    TensorRefusedError,
    broadcast_size,
    numpy_dtype,
    tensor_to_array,
)
from nnviz.io.onnx_values import (
    DEFAULT_ALPHA,
    INPUTS,
    Act,
    Centered,
    Col,
    Const,
    Derived,
    Feat,
    Hidden,
    Layer,
    Pairs,
    Piece,
    Pre,
    Prob,
    Projected,
    Raw,
    RefusedError,
    short,
)

#: metadata is a few short strings; a model with more is not read
MAX_METADATA_ENTRIES = 1_000
MAX_METADATA_CHARS = 1_000_000
_PASS_THROUGH = frozenset({"Identity", "Dropout"})
#: the operators folded when all their inputs are constants (Cast and Transpose too)
_FOLDED: dict[str, Any] = {
    "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Cast": None, "Transpose": None,
}


class GraphReader:
    """Walks the nodes in order, giving every tensor an abstract value."""

    def __init__(self, onnx: Any, model: Any):
        self.onnx = onnx
        self.model = model
        self.graph = model.graph
        self.values: dict[str, Any] = {}
        self.layers: list[Layer] = []
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
            raise RefusedError(f"sparse initializer {sparse.values.name!r} is not supported")
        for init in self.graph.initializer:
            self.values[init.name] = Const(load=self.converter(init, f"the tensor {init.name!r}"))
        inputs = [i for i in self.graph.input if i.name not in self.values]
        if len(inputs) != 1:
            raise RefusedError(
                f"the model has {len(inputs)} inputs; an nnviz network takes exactly one table"
            )
        self.values[inputs[0].name] = Raw(self._input_width(inputs[0]))
        for index, node in enumerate(self.graph.node):
            self.node_desc = f"node '{node.name or (node.output[0] if node.output else index)}'"
            self.op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
            outputs = self._node(node)
            for name, value in zip(node.output, outputs, strict=False):
                if name:
                    self.values[name] = value
        return self._finish()

    def converter(self, tensor: Any, what: str) -> Callable[[], np.ndarray]:
        """Converts ``tensor`` when called: sizes from its fields first, then the budget."""
        return lambda: self.array(tensor_to_array(tensor, what, self.budget), what)

    def _input_width(self, value_info: Any) -> int | None:
        t = value_info.type
        if not t.HasField("tensor_type"):
            raise RefusedError(f"the input {value_info.name!r} is not a tensor")
        elem = t.tensor_type.elem_type
        floats = {
            self.onnx.TensorProto.FLOAT,
            self.onnx.TensorProto.DOUBLE,
            self.onnx.TensorProto.FLOAT16,
        }
        if elem not in floats:
            name = self.onnx.TensorProto.DataType.Name(elem)
            raise RefusedError(
                f"the input {value_info.name!r} holds {name}; nnviz needs floating-point inputs"
            )
        if not t.tensor_type.HasField("shape"):
            return None
        dims = t.tensor_type.shape.dim
        if len(dims) < 2:
            raise RefusedError(
                f"the input {value_info.name!r} has {len(dims)} dimension(s); a table has two"
            )
        widths = [d.dim_value if d.HasField("dim_value") else None for d in dims[1:]]
        if any(w is None for w in widths):
            return None
        return math.prod(widths) if len(dims) > 2 else widths[0]

    def array(self, a: np.ndarray, name: str) -> np.ndarray:
        a = np.asarray(a)
        if a.dtype.kind in "iub" or a.dtype in (np.float32, np.float64):
            return a
        if a.dtype == np.float16:
            return a.astype(np.float32)
        raise RefusedError(f"the tensor {name!r} holds {a.dtype} values, which nnviz cannot use")

    # --- helpers -------------------------------------------------------------------------
    def refuse(self, why: str) -> RefusedError:
        return RefusedError(f"{self.op} ({self.node_desc}) {why}")

    def arg(self, node: Any, i: int) -> Any:
        if i >= len(node.input) or not node.input[i]:
            return None
        name = node.input[i]
        if name not in self.values:
            raise self.refuse(f"reads {name!r}, which nothing before it produces")
        return self.values[name]

    def const(self, node: Any, i: int, what: str) -> np.ndarray:
        v = self.arg(node, i)
        if not isinstance(v, Const):
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
        if isinstance(v, Raw):
            return v.width
        if isinstance(v, Col):
            return 1
        if isinstance(v, Feat):
            return len(v.names)
        if isinstance(v, Centered):
            return len(v.mean)
        if isinstance(v, Projected):
            return v.matrix.shape[1]
        if isinstance(v, Hidden):
            return self.input_width if v.k == 0 else self._layer_output_width(v.k - 1)
        if isinstance(v, Pre):
            return self.layers[v.k].W.shape[1]
        if isinstance(v, Act):
            return self.layers[v.k].units
        return None

    def _layer_output_width(self, k: int) -> int:
        return self.layers[k].units

    # --- streams -------------------------------------------------------------------------
    def start(self, v: Any) -> None:
        """Fix the input pipeline from a preprocessing value that a layer now reads."""
        if self.layers or self.pipeline is not None:
            raise self.refuse("reads the raw input again after the first layer")
        if isinstance(v, Raw):
            pipeline, width = InputPipeline(), v.width
        elif isinstance(v, Col | Feat):
            names = (v.name,) if isinstance(v, Col) else v.names
            pipeline, width = InputPipeline("none", names), len(names)
        elif isinstance(v, Centered):
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
        if isinstance(v, INPUTS):
            if create:
                self.start(v)
                return 0
            raise self.refuse("adds the raw input back, which nnviz cannot express")
        if isinstance(v, Hidden):
            return v.k
        if isinstance(v, Pre | Act):
            layer = self.layers[v.k]
            if isinstance(v, Pre) and layer.activation not in (None, "identity"):
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

    def project_as_layer(self, v: Projected) -> Pre:
        """``(X - mean) @ M`` not followed by a layer: it is the first layer, centred inputs."""
        self.start(Centered(v.features, v.mean))
        return self.new_layer(0, v.matrix.astype(np.float64), np.zeros(v.matrix.shape[1]))

    def new_layer(self, k: int, W: np.ndarray, b: np.ndarray) -> Pre:
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
        self.layers.append(Layer(W, b))
        return Pre(k)

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
        if isinstance(v, Projected):
            v = self.project_as_layer(v)
        if not isinstance(v, Pre):
            raise self.refuse(f"applies to {self.describe(v)}, not to a layer's pre-activations")
        layer = self.layers[v.k]
        if v.k != len(self.layers) - 1 or layer.activation is not None or layer.out is not None:
            raise self.refuse("applies to a layer's pre-activations that are already used elsewhere")
        return v.k

    def describe(self, v: Any) -> str:
        names = {
            Const: "a constant",
            Raw: "the raw input",
            Col: "an input feature",
            Feat: "input features",
            Centered: "centred inputs",
            Hidden: "a hidden layer's output",
            Pre: "a layer's pre-activations",
            Act: "a layer's activations",
            Piece: "half of a maxout",
            Pairs: "maxout pairs",
            Prob: "probabilities",
            Derived: "a value computed from the outputs",
        }
        return names.get(type(v), "an intermediate value")

    # --- nodes ---------------------------------------------------------------------------
    def _node(self, node: Any) -> list[Any]:
        op = self.op
        if node.domain not in ("", "ai.onnx"):
            raise RefusedError(f"unsupported operator {op} ({self.node_desc})")
        if op not in HANDLERS:
            raise RefusedError(f"unsupported operator {op} ({self.node_desc})")
        handler = HANDLERS[op]
        fewest, most = ARITY.get(op, (1, 1))
        if not fewest <= len(node.input) <= most or any(not name for name in node.input[:fewest]):
            raise self.refuse(f"has {len(node.input)} inputs, which this operator does not take")
        ins = [self.arg(node, i) for i in range(len(node.input))]
        if ins and all(isinstance(v, Const) or v is None for v in ins):
            try:
                return [Const(self._fold(node))]
            except TensorRefusedError:
                raise
            except (ArithmeticError, ValueError, TypeError) as e:
                raise self.refuse(f"cannot be computed on its constants ({short(e)})") from None
        return handler(self, node, ins)

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
            return self.array(a[0].astype(dtype), what)
        if op == "Transpose":
            self.budget.take(a[0].size, what)  # a view, but the layer copies it
            return np.transpose(a[0], attrs.get("perm"))
        _, n = broadcast_size([a[0].shape, a[1].shape], what)
        self.budget.take(n, what)
        return _FOLDED[op](a[0], a[1])

    def opset(self) -> int:
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
                raise RefusedError(f"the output {out.name!r} is not computed by any node")
            v = self.values[out.name]
            while isinstance(v, Prob | Derived):
                if isinstance(v, Prob):
                    trailing.add("softmax")
                v = v.src
            if isinstance(v, Projected):
                v = self.project_as_layer(v)
            if not isinstance(v, Hidden | Pre | Act):
                raise RefusedError(f"the output {out.name!r} is {self.describe(v)}, not a layer's output")
            streams.append(v)
        if not self.layers:
            raise RefusedError("the model has no dense layer (Gemm, or MatMul + Add)")
        last = len(self.layers) - 1
        for v in streams:
            k = v.k - 1 if isinstance(v, Hidden) else v.k
            if k != last or (isinstance(v, Hidden) and self.layers[last].out != "residual"):
                raise RefusedError("an output comes from inside the network, not from its last layer")
        final = self.layers[last]
        kinds = {type(v) for v in streams}
        if kinds == {Pre} and final.activation is None:
            pass  # the usual case: the last layer's scores
        elif Act in kinds and Hidden not in kinds and final.activation == "sigmoid":
            final.activation = None  # a trailing Sigmoid maps logits to probabilities
            trailing.add("sigmoid")
        elif len(kinds) == 1 and Pre not in kinds:
            # the graph ends in an activation or a residual link: an identity output layer
            # keeps that exact (the hidden layer is what the ONNX model computed)
            final.out = final.out or "act"
            width = final.units
            self.check_size(width * width + width)
            dtype = final.W.dtype
            self.layers.append(Layer(np.eye(width, dtype=dtype), np.zeros(width, dtype=dtype)))
        else:
            raise RefusedError("the outputs mix a layer's values before and after its activation")
        return self._build(trailing)

    def _build(self, trailing: set[str]) -> tuple[NetworkSpec, list[np.ndarray], InputPipeline]:
        dtype = "float64" if any(layer.W.dtype == np.float64 for layer in self.layers) else "float32"
        hidden = []
        for i, layer in enumerate(self.layers[:-1]):
            if layer.activation == "maxout" and layer.W.shape[1] % 2:
                raise RefusedError(f"layer {i + 1}: a maxout needs an even number of columns")
            alpha = layer.alpha
            if alpha is not None and alpha == DEFAULT_ALPHA.get(layer.activation or ""):
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
            raise RefusedError(f"the network does not fit nnviz: {e}") from None
        flags = [layer.out == "residual" for layer in self.layers[:-1]]
        if flags != guess.residual_layers():
            raise RefusedError(
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
    if stored.activation not in DEFAULT_ALPHA:
        return True
    default = DEFAULT_ALPHA[stored.activation]
    a = default if stored.alpha is None else float(stored.alpha)
    b = default if guess.alpha is None else float(guess.alpha)
    return bool(np.float32(a) == np.float32(b))
