"""Write a trained nnviz network as a standard ONNX model.

The graph takes RAW inputs: the stored input pipeline (2-D feature expansion, then
``(X - mean) @ matrix``) runs in front of the layers, in float64 as nnviz does, so the
model predicts exactly what the app shows. Dense layers are ``Gemm`` nodes with the
weights stored transposed (``transB=1``), the way PyTorch writes ``nn.Linear``; the
activations are the standard ONNX operators; maxout is two strided ``Slice`` nodes and a
``Max``; a residual link is an ``Add``. Outputs: ``logits`` and, for classification,
``probabilities``.

onnxruntime has no float64 kernel for ``Elu`` and ``Softplus``, so a float64 network
computes those two activations in float32 between two ``Cast`` nodes (a relative error
of about 1e-7 on that layer); everything else stays in the network's dtype.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

import nnviz
from nnviz.core.activations import make_activation
from nnviz.core.network import Network
from nnviz.core.preprocess import FEATURES_2D, InputPipeline
from nnviz.core.spec import NetworkSpec, SpecError
from nnviz.io.atomic import write_bytes_atomic
from nnviz.io.onnx_common import (
    BATCH_DIM,
    DEFAULT_OPSET,
    INPUT_NAME,
    LOGITS_NAME,
    META_FEATURES,
    META_PREPROCESS,
    META_SPEC,
    MIN_OPSET,
    PROBABILITIES_NAME,
    PRODUCER_NAME,
    OnnxExportError,
    require_onnx,
)

#: activations onnxruntime only implements for float32
_FLOAT32_ONLY = frozenset({"elu", "softplus"})


def export_onnx(
    spec: NetworkSpec,
    params: list[np.ndarray],
    pipeline: InputPipeline | None,
    path: str | os.PathLike[str],
    *,
    opset: int | None = None,
) -> None:
    """Write the network ``spec`` with weights ``params`` ([W0, b0, ...], W as (fan_in,
    fan_out)) and its fitted input ``pipeline`` to ``path`` as ONNX, atomically.

    Raises :class:`OnnxUnavailableError` without the ``onnx`` package,
    :class:`OnnxExportError` (a ``ValueError``) for a network or pipeline that cannot be
    written, and :class:`nnviz.io.errors.SaveError` (an ``OSError``) when the file cannot be
    saved; an existing file at ``path`` is then left as it was.
    """
    onnx = require_onnx()
    model = build_model(spec, params, pipeline, opset=opset)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:  # the checker's exception types vary between onnx releases
        raise OnnxExportError(f"the exported graph does not pass the ONNX checker: {e}") from e
    try:
        data = model.SerializeToString()
    except Exception as e:  # protobuf refuses messages over 2 GiB
        raise OnnxExportError(f"the network is too large for one ONNX file: {e}") from e
    write_bytes_atomic(path, data)


def build_model(
    spec: NetworkSpec,
    params: list[np.ndarray],
    pipeline: InputPipeline | None,
    *,
    opset: int | None = None,
) -> Any:
    """The ``onnx.ModelProto`` that :func:`export_onnx` writes (not yet checked)."""
    onnx = require_onnx()
    helper = onnx.helper
    opset = _check_opset(onnx, opset)
    pipeline = pipeline if pipeline is not None else InputPipeline()
    network = _check_network(spec, params)
    raw_dim = _check_pipeline(spec, pipeline)
    g = _GraphBuilder(onnx, np.dtype(spec.dtype))

    x = g.preprocess(INPUT_NAME, pipeline)
    h = x
    residual = spec.residual_layers()
    for i, layer in enumerate(spec.hidden):
        prefix = f"layer{i + 1}"
        z = g.dense(h, network.weights(i), network.biases(i), prefix)
        act = make_activation(layer.activation, layer.alpha)
        a = g.activation(z, act.name, act.alpha, layer.units, prefix)
        h = g.node("Add", [h, a], f"{prefix}/residual") if residual[i] else a
    g.dense(h, network.weights(-1), network.biases(-1), "output", out=LOGITS_NAME)

    outputs = [g.value_info(LOGITS_NAME, spec.output_dim)]
    if network.loss.is_classification:
        g.probabilities(spec.loss)
        n_probs = 2 if spec.loss == "logistic" else spec.output_dim
        outputs.append(g.value_info(PROBABILITIES_NAME, n_probs))

    graph = helper.make_graph(
        g.nodes,
        "nnviz",
        [g.value_info(INPUT_NAME, raw_dim)],
        outputs,
        initializer=g.initializers,
        doc_string=f"nnviz network: {spec.describe()}",
    )
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(
        graph,
        opset_imports=opsets,
        ir_version=helper.find_min_ir_version_for(opsets),
        producer_name=PRODUCER_NAME,
        producer_version=nnviz.__version__,
        doc_string=_doc(spec, pipeline),
    )
    helper.set_model_props(
        model,
        {
            META_SPEC: json.dumps(spec.to_dict(), sort_keys=True),
            META_PREPROCESS: pipeline.method,
            META_FEATURES: json.dumps(list(pipeline.features)),
        },
    )
    return model


def _doc(spec: NetworkSpec, pipeline: InputPipeline) -> str:
    steps = []
    if pipeline.features:
        steps.append(f"features {', '.join(pipeline.features)}")
    if pipeline.method != "none":
        steps.append(f"{pipeline.method} preprocessing")
    pre = f"; raw inputs go through {' then '.join(steps)}" if steps else ""
    return f"{spec.describe()}{pre}. Outputs: logits" + (
        ", probabilities" if spec.loss != "mse" else ""
    )


def _check_opset(onnx: Any, opset: int | None) -> int:
    newest = onnx.defs.onnx_opset_version()
    if opset is None:
        return min(DEFAULT_OPSET, newest)
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise OnnxExportError(f"the opset must be an integer in {MIN_OPSET}..{newest}, not {opset!r}")
    return opset


def _check_network(spec: NetworkSpec, params: list[np.ndarray]) -> Network:
    if not isinstance(spec, NetworkSpec):
        raise OnnxExportError("the architecture is not a NetworkSpec")
    try:
        network = Network(spec, [np.asarray(p) for p in params])
    except SpecError as e:
        raise OnnxExportError(f"the weights do not fit the architecture: {e}") from e
    if not all(np.all(np.isfinite(p)) for p in network.params):
        raise OnnxExportError(
            "the weights contain NaN or infinite values (the training diverged); "
            "reset or reload the network before exporting"
        )
    return network


def _check_pipeline(spec: NetworkSpec, pipeline: InputPipeline) -> int:
    """Validate the pipeline against the network; return the raw input width."""
    if not isinstance(pipeline, InputPipeline):
        raise OnnxExportError("the input pipeline is not an InputPipeline")
    if not pipeline.fitted:
        raise OnnxExportError(f"the {pipeline.method} preprocessing has not been fitted to data")
    unknown = [f for f in pipeline.features if f not in FEATURES_2D]
    if unknown:
        raise OnnxExportError(f"unknown input feature(s): {', '.join(unknown)}")
    expanded = len(pipeline.features) if pipeline.features else spec.input_dim
    if pipeline.method != "none":
        mean, matrix = np.asarray(pipeline.mean), np.asarray(pipeline.matrix)
        if mean.shape != (expanded,) or matrix.ndim != 2 or matrix.shape[0] != expanded:
            raise OnnxExportError(
                f"the preprocessing has mean {mean.shape} and matrix {matrix.shape}; "
                f"they do not fit {expanded} input columns"
            )
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(matrix))):
            raise OnnxExportError("the preprocessing contains NaN or infinite values")
        expanded = matrix.shape[1]
    if expanded != spec.input_dim:
        raise OnnxExportError(
            f"the input pipeline gives {expanded} columns but the network takes {spec.input_dim}"
        )
    return 2 if pipeline.features else spec.input_dim


class _GraphBuilder:
    """Collects nodes and initializers with readable, unique names (for Netron)."""

    def __init__(self, onnx: Any, dtype: np.dtype):
        self.onnx = onnx
        self.helper = onnx.helper
        self.dtype = dtype
        self.elem = onnx.helper.np_dtype_to_tensor_dtype(dtype)
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._consts: dict[tuple[str, bytes], str] = {}

    def value_info(self, name: str, width: int) -> Any:
        return self.helper.make_tensor_value_info(name, self.elem, [BATCH_DIM, width])

    def const(self, name: str, value: np.ndarray, shared: bool = False) -> str:
        """An initializer; a ``shared`` one is reused by every node that needs the same value."""
        value = np.ascontiguousarray(value)
        key = (str(value.dtype) + str(value.shape), value.tobytes()) if shared else None
        if key is not None and key in self._consts:
            return self._consts[key]
        self.initializers.append(self.onnx.numpy_helper.from_array(value, name))
        if key is not None:
            self._consts[key] = name
        return name

    def node(self, op: str, inputs: list[str], name: str, out: str | None = None, **attrs: Any) -> str:
        out = out or f"{name}_out"
        self.nodes.append(self.helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    def cast(self, x: str, dtype: np.dtype, name: str) -> str:
        return self.node("Cast", [x], name, to=self.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))

    def columns(self, x: str, start: int, stop: int, step: int, name: str) -> str:
        """``x[:, start:stop:step]`` with a Slice node."""
        ints = [
            self.const(f"const.int64.{v}", np.array([v], dtype=np.int64), shared=True)
            for v in (start, stop, 1, step)  # starts, ends, axes, steps
        ]
        return self.node("Slice", [x, *ints], name)

    # --- the stages ----------------------------------------------------------------------
    def preprocess(self, x: str, pipeline: InputPipeline) -> str:
        """Feature expansion and ``(X - mean) @ matrix`` in float64, as nnviz does."""
        if not pipeline.features and pipeline.method == "none":
            return x
        f64 = np.dtype(np.float64)
        if self.dtype != f64:
            x = self.cast(x, f64, "preprocess/to_float64")
        if pipeline.features:
            x = self.expand(x, pipeline.features)
        if pipeline.method != "none":
            mean = self.const("preprocess.mean", np.asarray(pipeline.mean, dtype=f64))
            x = self.node("Sub", [x, mean], "preprocess/center")
            if pipeline.method != "center":  # centring's matrix is the identity
                matrix = self.const("preprocess.matrix", np.asarray(pipeline.matrix, dtype=f64))
                x = self.node("MatMul", [x, matrix], f"preprocess/{pipeline.method}")
        if self.dtype != f64:
            x = self.cast(x, self.dtype, "preprocess/to_network_dtype")
        return x

    def expand(self, x: str, features: tuple[str, ...]) -> str:
        raw: dict[str, str] = {}

        def col(name: str) -> str:
            if name not in raw:
                i = 0 if name == "x1" else 1
                raw[name] = self.columns(x, i, i + 1, 1, f"features/{name}")
            return raw[name]

        made = []
        for f in features:
            if f in ("x1", "x2"):
                made.append(col(f))
            elif f in ("x1^2", "x2^2"):
                c = col(f[:2])
                made.append(self.node("Mul", [c, c], f"features/{f[:2]}_squared"))
            elif f == "x1*x2":
                made.append(self.node("Mul", [col("x1"), col("x2")], "features/x1_times_x2"))
            else:  # sin(x1), sin(x2)
                made.append(self.node("Sin", [col(f[4:6])], f"features/sin_{f[4:6]}"))
        return self.node("Concat", made, "features/concat", axis=1)

    def dense(self, h: str, W: np.ndarray, b: np.ndarray, prefix: str, out: str | None = None) -> str:
        """``h @ W + b`` as a Gemm with the (fan_out, fan_in) weight, like torch's Linear."""
        w = self.const(f"{prefix}.weight", np.ascontiguousarray(W.T, dtype=self.dtype))
        bias = self.const(f"{prefix}.bias", np.asarray(b, dtype=self.dtype))
        return self.node("Gemm", [h, w, bias], f"{prefix}/gemm", out=out, transB=1)

    def activation(self, z: str, name: str, alpha: float, units: int, prefix: str) -> str:
        if name == "maxout":
            # units are consecutive column pairs: max(z[:, 0::2], z[:, 1::2])
            even = self.columns(z, 0, 2 * units, 2, f"{prefix}/maxout_piece1")
            odd = self.columns(z, 1, 2 * units, 2, f"{prefix}/maxout_piece2")
            return self.node("Max", [even, odd], f"{prefix}/maxout")
        op, attrs = {
            "identity": ("Identity", {}),
            "relu": ("Relu", {}),
            "sigmoid": ("Sigmoid", {}),
            "tanh": ("Tanh", {}),
            "leaky_relu": ("LeakyRelu", {"alpha": alpha}),
            "elu": ("Elu", {"alpha": alpha}),
            "softplus": ("Softplus", {}),
        }[name]
        if name in _FLOAT32_ONLY and self.dtype != np.float32:
            z32 = self.cast(z, np.dtype(np.float32), f"{prefix}/to_float32")
            a32 = self.node(op, [z32], f"{prefix}/{name}", **attrs)
            return self.cast(a32, self.dtype, f"{prefix}/to_float64")
        return self.node(op, [z], f"{prefix}/{name}", **attrs)

    def probabilities(self, loss: str) -> None:
        if loss == "logistic":
            # [1 - sigmoid(s), sigmoid(s)], as nnviz.core.losses.Loss.probabilities
            p1 = self.node("Sigmoid", [LOGITS_NAME], "output/sigmoid")
            one = self.const("const.one", np.ones((1, 1), dtype=self.dtype))
            p0 = self.node("Sub", [one, p1], "output/complement")
            self.node("Concat", [p0, p1], "output/probabilities", out=PROBABILITIES_NAME, axis=1)
        else:
            self.node("Softmax", [LOGITS_NAME], "output/softmax", out=PROBABILITIES_NAME, axis=1)
