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

The work is split by job: this module reads and checks the file; :mod:`nnviz.io.onnx_graph`
walks the graph and builds the network; :mod:`nnviz.io.onnx_ops` reads each operator;
:mod:`nnviz.io.onnx_values` names what each tensor is; :mod:`nnviz.io.onnx_tensors` converts
tensors within bounds.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from nnviz.core.preprocess import InputPipeline
from nnviz.core.spec import MAX_PARAMETERS, NetworkSpec
from nnviz.io.errors import FileFormatError
from nnviz.io.onnx_common import OnnxImportError, OnnxUnavailableError, require_onnx
from nnviz.io.onnx_graph import GraphReader
from nnviz.io.onnx_tensors import TensorRefusedError, refuse_external_data
from nnviz.io.onnx_values import RefusedError, short
from nnviz.io.regular_file import open_regular

__all__ = ["OnnxImportError", "OnnxUnavailableError", "import_onnx"]

#: files past this are refused before parsing: the largest network nnviz builds, in
#: float64, with a preprocessing matrix as large again, and room for the graph itself
MAX_FILE_BYTES = 2 * 8 * MAX_PARAMETERS + 2**24


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
        return GraphReader(onnx, model).read()
    except (RefusedError, TensorRefusedError) as e:
        raise OnnxImportError(f"{path.name}: {e}") from None
    except (ArithmeticError, LookupError, TypeError, ValueError) as e:
        # a file that passes the ONNX checker can still hold inconsistent tensors or
        # attributes that onnx's own helpers trip over: it is a bad file, not a crash
        why = f"{type(e).__name__}: {short(e)}"
        raise OnnxImportError(f"{path.name}: inconsistent ONNX model ({why})") from e



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
        raise OnnxImportError(f"{path.name}: not a readable ONNX model ({short(e)})") from e
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
        return short(e)
    return None
