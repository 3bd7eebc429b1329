"""The ONNX operators nnviz reads: one function per operator, each given the reader and
the abstract values of the node's inputs, returning the abstract values of its outputs.

A function either recognises its node as part of an MLP (a dense layer, a bias, an
activation, a residual link, a preprocessing step, a wrapper that changes nothing) and
records that on the reader, or refuses it with a message naming the operator. Adding an
operator is one function and one line in :data:`HANDLERS`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from nnviz.core.preprocess import FEATURES_2D
from nnviz.io.onnx_tensors import attribute_array
from nnviz.io.onnx_values import (
    DEFAULT_ALPHA,
    Act,
    Centered,
    Col,
    Const,
    Derived,
    Feat,
    Hidden,
    Pairs,
    Piece,
    Pre,
    Prob,
    Projected,
    Raw,
)

if TYPE_CHECKING:
    from nnviz.io.onnx_graph import GraphReader

ACTIVATION_OPS = {
    "Relu": "relu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "LeakyRelu": "leaky_relu",
    "Elu": "elu",
    "Softplus": "softplus",
}


def op_transpose(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    raise r.refuse("transposes the data, which an MLP does not do")


def op_constant(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    """The node's value, converted (bounded) only when something reads it."""
    found = {a.name: a for a in node.attribute}
    what = f"the value of {r.node_desc}"
    if "value" in found:
        return [Const(load=r.converter(found["value"].t, what))]
    budget = r.budget
    loaders: dict[str, Callable[[Any], np.ndarray]] = {
        "value_float": lambda a: np.asarray(a.f, dtype=np.float32),
        "value_floats": lambda a: attribute_array(a.floats, np.float32, what, budget),
        "value_int": lambda a: np.asarray(a.i, dtype=np.int64),
        "value_ints": lambda a: attribute_array(a.ints, np.int64, what, budget),
    }
    for key, load in loaders.items():
        if key in found:
            return [Const(load=functools.partial(load, found[key]))]
    raise r.refuse("has a kind of constant nnviz does not read")


def op_identity(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    return [ins[0]]


def op_dropout(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    # inference: the data passes unchanged; the optional mask output is unused
    return [ins[0], Derived(ins[0])]


def op_cast(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    to = r.attrs(node).get("to")
    floats = {r.onnx.TensorProto.FLOAT, r.onnx.TensorProto.DOUBLE, r.onnx.TensorProto.FLOAT16}
    if to in floats or isinstance(ins[0], Prob | Derived):
        return [ins[0]]
    raise r.refuse("casts the data to a non-floating-point type")


def op_flatten(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    if r.attrs(node).get("axis", 1) != 1:
        raise r.refuse("flattens on an axis other than 1")
    return [ins[0]]


def op_reshape(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    shape = [int(s) for s in r.small_const(node, 1, "shape")]
    v = ins[0]
    width = r.width(v)
    if len(shape) == 2 and shape[0] in (0, -1) and (shape[1] == -1 or shape[1] == width):
        return [v]
    if isinstance(v, Pre) and len(shape) == 3 and shape[0] in (0, -1) and shape[2] == 2:
        k = r.pre(v)
        if shape[1] in (-1, r.layers[k].W.shape[1] // 2) and r.layers[k].W.shape[1] % 2 == 0:
            return [Pairs(k)]
    if isinstance(v, Prob | Derived):
        return [Derived(v)]
    raise r.refuse(f"reshapes to {shape}, which is not a layer of an MLP")


def op_gemm(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    attrs = r.attrs(node)
    if attrs.get("transA", 0):
        raise r.refuse("transposes the data (transA=1)")
    B = r.const(node, 1, "weight matrix")
    if B.ndim != 2:
        raise r.refuse(f"has a weight of shape {B.shape}; a layer's weight is a matrix")
    W = B.T if attrs.get("transB", 0) else B
    alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
    if alpha != 1.0:
        W = W * W.dtype.type(alpha)
    bias = bias_of(r, node, 2, W.shape[1]) if len(node.input) > 2 and node.input[2] else None
    if bias is None:
        bias = np.zeros(W.shape[1], dtype=W.dtype)
    elif beta != 1.0:
        bias = bias * bias.dtype.type(beta)
    k = r.hidden(ins[0], create=True)
    return [r.new_layer(k, np.ascontiguousarray(W), bias)]


def bias_of(r: GraphReader, node: Any, i: int, units: int) -> np.ndarray:
    c = r.const(node, i, "bias")
    if c.ndim == 2 and c.shape[0] == 1:
        c = c[0]
    if c.ndim > 1 or c.size not in (1, units):
        raise r.refuse(f"has a bias of shape {c.shape} for {units} units")
    return np.ascontiguousarray(np.broadcast_to(c.reshape(-1), (units,)))


def op_mat_mul(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    W = r.const(node, 1, "weight matrix")
    if W.ndim != 2:
        raise r.refuse(f"has a weight of shape {W.shape}; a layer's weight is a matrix")
    if isinstance(ins[0], Centered):
        if W.shape[0] != len(ins[0].mean):
            raise r.refuse(f"multiplies {len(ins[0].mean)} columns by a {W.shape} matrix")
        return [Projected(ins[0].features, ins[0].mean, W.astype(np.float64))]
    k = r.hidden(ins[0], create=True)
    return [r.new_layer(k, np.ascontiguousarray(W), np.zeros(W.shape[1], dtype=W.dtype))]


def op_add(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    a, b = ins
    if isinstance(a, Prob | Derived) or isinstance(b, Prob | Derived):
        return [Derived(a if not isinstance(a, Const) else b)]
    if isinstance(a, Const) or isinstance(b, Const):
        value, c_index = (b, 0) if isinstance(a, Const) else (a, 1)
        k = r.pre(value)
        layer = r.layers[k]
        layer.b = layer.b + bias_of(r, node, c_index, layer.W.shape[1]).astype(layer.b.dtype)
        return [Pre(k)]
    # a residual link: one side is the newest layer's activation, the other its input
    last = len(r.layers) - 1
    pairs = [(o, s) for o, s in ((b, a), (a, b)) if isinstance(o, Act | Pre) and o.k == last]
    if len(pairs) != 1:
        raise r.refuse(
            f"adds {r.describe(a)} and {r.describe(b)}; only a bias or a residual link fits"
        )
    out, skip = pairs[0]
    layer = r.layers[last]
    if layer.out is not None or (isinstance(out, Pre) and layer.activation is not None):
        raise r.refuse("adds a layer's output that is already used elsewhere")
    if r.hidden(skip, create=False) != last:
        raise r.refuse("adds a value that is not the layer's own input (not a residual link)")
    if isinstance(out, Pre):
        layer.activation = "identity"
    r.close(last, "residual")
    return [Hidden(last + 1)]


def op_sub(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    a, b = ins
    if isinstance(a, Const) and not isinstance(b, Const):
        return [Derived(b)]  # 1 - p: the exporter's logistic probabilities
    if isinstance(b, Const) and isinstance(a, Raw | Col | Feat):
        features = () if isinstance(a, Raw) else ((a.name,) if isinstance(a, Col) else a.names)
        width = r.width(a)
        mean = np.asarray(b.value, dtype=np.float64)
        if mean.ndim == 2 and mean.shape[0] == 1:
            mean = mean[0]
        if mean.ndim != 1 or (width is not None and mean.shape[0] != width):
            raise r.refuse(f"subtracts a mean of shape {b.value.shape} from {width} columns")
        return [Centered(features, mean)]
    if isinstance(b, Const):
        k = r.pre(a)
        layer = r.layers[k]
        layer.b = layer.b - bias_of(r, node, 1, layer.W.shape[1]).astype(layer.b.dtype)
        return [Pre(k)]
    raise r.refuse(f"subtracts {r.describe(b)} from {r.describe(a)}")


# activations --------------------------------------------------------------------------
def op_activation(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    name = ACTIVATION_OPS[r.op]
    if isinstance(ins[0], Prob | Derived):
        return [Derived(ins[0])]
    k = r.pre(ins[0])
    layer = r.layers[k]
    layer.activation = name
    if name in DEFAULT_ALPHA:
        alpha = r.attrs(node).get("alpha", DEFAULT_ALPHA[name])
        # attributes are float32: take the shortest decimal that gives the same float32
        layer.alpha = float(str(np.float32(alpha)))
    return [Act(k)]


def op_slice(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    if len(node.input) > 1:
        starts = r.small_const(node, 1, "start")
        ends = r.small_const(node, 2, "end")
        axes = r.small_const(node, 3, "axes") if len(node.input) > 3 and node.input[3] else [0]
        steps = r.small_const(node, 4, "steps") if len(node.input) > 4 and node.input[4] else [1]
    else:
        attrs = r.attrs(node)
        starts, ends = attrs.get("starts", []), attrs.get("ends", [])
        axes, steps = attrs.get("axes", list(range(len(starts)))), [1] * len(starts)
    if len(starts) != 1 or list(axes) not in ([1], [-1]):
        raise r.refuse("slices something other than columns")
    start, end, step = int(starts[0]), int(ends[0]), int(steps[0])
    v = ins[0]
    column = step == 1 and start in (0, 1) and end == start + 1
    if isinstance(v, Raw) and column and v.width in (2, None):
        return [Col(f"x{start + 1}")]
    if isinstance(v, Pre) and step == 2 and start in (0, 1):
        k = r.pre(v)
        if end >= r.layers[k].W.shape[1] and r.layers[k].W.shape[1] % 2 == 0:
            return [Piece(k, start)]
    raise r.refuse(
        f"takes columns {start}:{end}:{step}, which is neither an input feature nor a maxout"
    )


def op_max(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    if len(ins) == 2 and all(isinstance(v, Piece) for v in ins):
        a, b = ins
        if a.k == b.k and {a.offset, b.offset} == {0, 1}:
            return [maxout_of(r, a.k)]
    raise r.refuse("is not the maximum of the two halves of a maxout")


def op_reduce_max(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    attrs = r.attrs(node)
    axes = attrs.get("axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = r.small_const(node, 1, "axes").tolist()
    if isinstance(ins[0], Pairs) and list(axes or []) in ([2], [-1]) and attrs.get("keepdims", 1) == 0:
        return [maxout_of(r, ins[0].k)]
    raise r.refuse("is not a maxout over (units, 2) pairs")


def maxout_of(r: GraphReader, k: int) -> Act:
    layer = r.layers[k]
    if layer.activation is not None or k != len(r.layers) - 1:
        raise r.refuse("applies a maxout to a layer that already has an activation")
    layer.activation = "maxout"
    return Act(k)


def op_mul(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    a, b = ins
    if isinstance(a, Col) and isinstance(b, Col):
        names = {("x1", "x1"): "x1^2", ("x2", "x2"): "x2^2", ("x1", "x2"): "x1*x2", ("x2", "x1"): "x1*x2"}
        if (a.name, b.name) in names:
            return [Col(names[(a.name, b.name)])]
    raise r.refuse(f"multiplies {r.describe(a)} by {r.describe(b)}")


def op_sin(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    if isinstance(ins[0], Col) and ins[0].name in ("x1", "x2"):
        return [Col(f"sin({ins[0].name})")]
    raise r.refuse(f"applies to {r.describe(ins[0])}, not to an input column")


def op_concat(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    axis = r.attrs(node).get("axis")
    if any(isinstance(v, Prob | Derived) for v in ins):
        sources = {v for v in ins if not isinstance(v, Const)}
        return [Derived(sources.pop() if len(sources) == 1 else ins[-1])]
    if axis not in (1, -1):
        raise r.refuse(f"joins on axis {axis}, not on columns")
    names: list[str] = []
    for v in ins:
        if isinstance(v, Col):
            names.append(v.name)
        elif isinstance(v, Feat):
            names.extend(v.names)
        elif isinstance(v, Raw) and v.width in (2, None):
            names.extend(("x1", "x2"))
        else:
            raise r.refuse(f"joins {r.describe(v)}, which is not an input feature")
    unknown = [n for n in names if n not in FEATURES_2D]
    if unknown:
        raise r.refuse(f"joins unknown features {unknown}")
    return [Feat(tuple(names))]


# outputs --------------------------------------------------------------------------------
def op_probability(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    axis = r.attrs(node).get("axis", -1 if r.opset() >= 13 else 1)
    if axis not in (1, -1):
        raise r.refuse(f"normalises over axis {axis}, not over the classes")
    r.saw_softmax = True
    return [Prob(ins[0])]


def op_arg_max(r: GraphReader, node: Any, ins: list[Any]) -> list[Any]:
    return [Derived(ins[0])]


HANDLERS: dict[str, Callable[[GraphReader, Any, list[Any]], list[Any]]] = {
    "Constant": op_constant,
    "Identity": op_identity,
    "Dropout": op_dropout,
    "Cast": op_cast,
    "Flatten": op_flatten,
    "Reshape": op_reshape,
    "Gemm": op_gemm,
    "MatMul": op_mat_mul,
    "Add": op_add,
    "Sub": op_sub,
    "Slice": op_slice,
    "Max": op_max,
    "ReduceMax": op_reduce_max,
    "Mul": op_mul,
    "Sin": op_sin,
    "Concat": op_concat,
    "ArgMax": op_arg_max,
    "Transpose": op_transpose,
    "Relu": op_activation,
    "Sigmoid": op_activation,
    "Tanh": op_activation,
    "LeakyRelu": op_activation,
    "Elu": op_activation,
    "Softplus": op_activation,
    "Softmax": op_probability,
    "LogSoftmax": op_probability,
}
#: (fewest, most) inputs of each operator; the rest take exactly one
ARITY = {
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
