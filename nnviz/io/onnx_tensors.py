"""Reading the tensors of an untrusted ONNX model without letting it choose what is read
or how much memory is spent.

An ONNX file is a few hundred bytes of protobuf that can declare a (100000, 100000)
tensor, keep a tensor's bytes "externally" in any file the reader can open (a Constant
node naming ``.ssh/id_ed25519``), or ask for a constant ``Add`` whose broadcast result is
gigabytes. So, before anything is converted or computed:

- :func:`refuse_external_data` walks every TensorProto of the model (initializers,
  sparse tensors, every tensor attribute, the subgraphs of If/Loop/Scan, functions and
  training graphs) and refuses any that keeps its data outside the file;
- :func:`check_tensor` reads a tensor's dims, type and data length from its fields and
  refuses one that is too large, of a type nnviz cannot use, or inconsistent;
- a :class:`Budget` counts every value converted or computed, against a limit tied to
  the largest network nnviz builds (:data:`nnviz.core.spec.MAX_PARAMETERS`);
- :func:`broadcast_size` gives the size of an elementwise result from the shapes alone.

Only NumPy and the protobuf objects are used here; ``onnx`` is passed in by the caller.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from nnviz.core.spec import MAX_PARAMETERS

#: one constant can hold no more values than the largest network has parameters
MAX_TENSOR_ELEMENTS = MAX_PARAMETERS
#: all constants converted or computed during one import, together: the weights, a
#: preprocessing matrix and the transposed or scaled copies some exporters write
MAX_CONSTANT_ELEMENTS = 3 * MAX_PARAMETERS
#: an MLP of 64 layers is a few hundred nodes; past these the model is not one
MAX_NODES = 20_000
MAX_TENSORS = 20_000
MAX_DIMS = 16
#: attribute lists (perm, axes, starts...) are a few numbers; a Constant's value_floats
#: is read straight into an array instead
MAX_ATTRIBUTE_VALUES = 4_096

EXTERNAL_MESSAGE = "external data is not supported; save the model with its weights inside the file"

# TensorProto.DataType numbers (fixed by the ONNX standard) -> NumPy dtype, and the
# typed field that holds the values when raw_data is not used
_DTYPES: dict[int, tuple[np.dtype, str]] = {
    1: (np.dtype("float32"), "float_data"),
    2: (np.dtype("uint8"), "int32_data"),
    3: (np.dtype("int8"), "int32_data"),
    4: (np.dtype("uint16"), "int32_data"),
    5: (np.dtype("int16"), "int32_data"),
    6: (np.dtype("int32"), "int32_data"),
    7: (np.dtype("int64"), "int64_data"),
    9: (np.dtype("bool"), "int32_data"),
    10: (np.dtype("float16"), "int32_data"),
    11: (np.dtype("float64"), "double_data"),
    12: (np.dtype("uint32"), "uint64_data"),
    13: (np.dtype("uint64"), "uint64_data"),
}
_EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL


class TensorRefusedError(ValueError):
    """A tensor the import will not read; the message says which and why."""


def numpy_dtype(data_type: int) -> np.dtype | None:
    """The NumPy dtype of an ONNX element type nnviz can use, or None."""
    entry = _DTYPES.get(int(data_type))
    return None if entry is None else entry[0]


# --- every tensor of a model --------------------------------------------------------------
def iter_tensors(model: Any) -> Iterator[tuple[str, Any]]:
    """Every TensorProto in ``model`` with a description of where it is, walked with an
    explicit stack (no recursion limit) and bounded in nodes and tensors."""
    graphs: list[tuple[str, Any]] = [("", model.graph)]
    graphs += [(f" in training graph {i + 1}", t.algorithm) for i, t in enumerate(model.training_info)]
    graphs += [(f" in training initialisation {i + 1}", t.initialization)
               for i, t in enumerate(model.training_info)]
    counts = {"nodes": 0, "tensors": 0}
    for function in model.functions:
        where = f" in function {function.name!r}"
        for a in function.attribute_proto:  # default values of its attributes
            yield from _attribute_tensors(a, f"default of attribute {a.name!r}{where}", where, graphs, counts)
        yield from _node_tensors(function.node, where, graphs, counts)
    while graphs:
        where, graph = graphs.pop()
        for t in graph.initializer:
            yield from _counted(counts, f"initializer {t.name!r}{where}", t)
        for s in graph.sparse_initializer:
            yield from _sparse(counts, f"sparse initializer {s.values.name!r}{where}", s)
        yield from _node_tensors(graph.node, where, graphs, counts)


def _node_tensors(nodes: Any, where: str, graphs: list, counts: dict[str, int]) -> Iterator[tuple[str, Any]]:
    counts["nodes"] += len(nodes)
    if counts["nodes"] > MAX_NODES:
        raise TensorRefusedError(f"the model has more than {MAX_NODES:,} nodes; an MLP has a few hundred")
    for index, node in enumerate(nodes):
        name = node.name or (node.output[0] if node.output else f"#{index}")
        for a in node.attribute:
            here = f"attribute {a.name!r} of node {name!r}{where}"
            yield from _attribute_tensors(a, here, f" in a subgraph of node {name!r}{where}", graphs, counts)


def _attribute_tensors(
    a: Any, here: str, inner: str, graphs: list, counts: dict[str, int]
) -> Iterator[tuple[str, Any]]:
    """The tensors an attribute holds; its subgraphs go on the stack to be walked."""
    if a.HasField("t"):
        yield from _counted(counts, here, a.t)
    for t in a.tensors:
        yield from _counted(counts, here, t)
    if a.HasField("sparse_tensor"):
        yield from _sparse(counts, here, a.sparse_tensor)
    for s in a.sparse_tensors:
        yield from _sparse(counts, here, s)
    if a.HasField("g"):
        graphs.append((inner, a.g))
    graphs.extend((inner, g) for g in a.graphs)


def _sparse(counts: dict[str, int], where: str, sparse: Any) -> Iterator[tuple[str, Any]]:
    yield from _counted(counts, f"{where} (values)", sparse.values)
    yield from _counted(counts, f"{where} (indices)", sparse.indices)


def _counted(counts: dict[str, int], where: str, tensor: Any) -> Iterator[tuple[str, Any]]:
    counts["tensors"] += 1
    if counts["tensors"] > MAX_TENSORS:
        raise TensorRefusedError(f"the model has more than {MAX_TENSORS:,} tensors; an MLP has a few hundred")
    yield where, tensor


def uses_external_data(tensor: Any) -> bool:
    """Whether the tensor's bytes are meant to come from another file (either marker)."""
    return tensor.data_location == _EXTERNAL or len(tensor.external_data) > 0


def refuse_external_data(model: Any) -> None:
    """TensorRefusedError if any tensor anywhere in the model keeps its data outside the
    file: reading it would let the model choose which of the user's files becomes weights."""
    for where, tensor in iter_tensors(model):
        if uses_external_data(tensor):
            raise TensorRefusedError(f"the {where} keeps its data in another file; {EXTERNAL_MESSAGE}")


# --- one tensor: checked from its fields, then converted ---------------------------------
def declared_shape(tensor: Any, what: str) -> tuple[int, ...]:
    """The tensor's dims, refused if negative, too many or too large (before any data is
    touched: the product is taken on Python ints, which cannot overflow)."""
    dims = tensor.dims
    if len(dims) > MAX_DIMS:
        raise TensorRefusedError(f"{what} has {len(dims)} dimensions; at most {MAX_DIMS} are read")
    shape = tuple(int(d) for d in dims)
    if any(d < 0 for d in shape):
        raise TensorRefusedError(f"{what} has a negative dimension {shape}")
    if any(d > MAX_TENSOR_ELEMENTS for d in shape):  # even beside a 0: NumPy cannot shape it
        raise TensorRefusedError(f"{what} has a dimension past {MAX_TENSOR_ELEMENTS:,}: {shape}")
    check_elements(math.prod(shape), shape, what)
    return shape


def check_elements(n: int, shape: tuple[int, ...], what: str) -> None:
    """TensorRefusedError if one constant of ``n`` values is more than any network needs."""
    if n > MAX_TENSOR_ELEMENTS:
        raise TensorRefusedError(
            f"{what} has shape {shape} ({n:,} values); one tensor may hold at most "
            f"{MAX_TENSOR_ELEMENTS:,} (the most parameters a network may have)"
        )


def check_tensor(tensor: Any, what: str) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype of a tensor that :func:`tensor_to_array` can convert: its
    type is one nnviz uses, its size is bounded and its data is all in the file and of
    the declared length. Reads only lengths, never the data."""
    if uses_external_data(tensor):
        raise TensorRefusedError(f"{what} keeps its data in another file; {EXTERNAL_MESSAGE}")
    if tensor.HasField("segment"):
        raise TensorRefusedError(f"{what} is a segment of a tensor, which nnviz does not read")
    entry = _DTYPES.get(int(tensor.data_type))
    if entry is None:
        raise TensorRefusedError(
            f"{what} holds {_type_name(tensor.data_type)} values, which nnviz cannot use"
        )
    dtype, field = entry
    shape = declared_shape(tensor, what)
    n = math.prod(shape)
    if tensor.HasField("raw_data"):
        return shape, dtype  # its length is checked where the bytes are taken, once
    held = len(getattr(tensor, field))
    if held != n:
        raise TensorRefusedError(f"{what} declares shape {shape} ({n:,} values) but holds {held:,}")
    return shape, dtype


def tensor_to_array(tensor: Any, what: str, budget: Budget) -> np.ndarray:
    """The tensor as a NumPy array, after :func:`check_tensor` and with its values taken
    from ``budget``; float16 comes back as float32 (the dtypes nnviz computes in)."""
    shape, dtype = check_tensor(tensor, what)
    n = math.prod(shape)
    budget.take(n * (2 if dtype == np.float16 else 1), what)
    if tensor.HasField("raw_data"):
        raw = tensor.raw_data  # one copy out of the protobuf
        if len(raw) != n * dtype.itemsize:
            raise TensorRefusedError(
                f"{what} declares shape {shape} ({n * dtype.itemsize:,} bytes) but holds {len(raw):,} bytes"
            )
        array = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).reshape(shape)
        if sys.byteorder == "big":
            array = array.astype(dtype)
    else:
        array = _typed_values(tensor, dtype, shape)
    return array.astype(np.float32) if dtype == np.float16 else array


def _typed_values(tensor: Any, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    field = _DTYPES[int(tensor.data_type)][1]
    values = getattr(tensor, field)
    if dtype == np.float16:  # stored as the 16 bits of each value in int32_data
        return np.asarray(values, dtype=np.int64).astype(np.uint16).view(np.float16).reshape(shape)
    if dtype == np.bool_:
        return (np.asarray(values, dtype=np.int64) != 0).reshape(shape)
    if field == "int32_data" and dtype != np.int32:
        return np.asarray(values, dtype=np.int64).astype(dtype).reshape(shape)
    return np.asarray(values, dtype=dtype).reshape(shape)


def _type_name(data_type: int) -> str:
    names = {0: "UNDEFINED", 8: "STRING", 14: "COMPLEX64", 15: "COMPLEX128", 16: "BFLOAT16"}
    return names.get(int(data_type), f"element type {int(data_type)}")


def attribute_array(values: Any, dtype: type, what: str, budget: Budget) -> np.ndarray:
    """A repeated attribute (a Constant's ``value_floats``) as an array, bounded first."""
    n = len(values)
    check_elements(n, (n,), what)
    budget.take(n, what)
    return np.asarray(values, dtype=dtype)


# --- sizes of computed constants ---------------------------------------------------------
def broadcast_size(shapes: list[tuple[int, ...]], what: str) -> tuple[tuple[int, ...], int]:
    """The shape and value count of an elementwise result of arrays of ``shapes`` (NumPy
    broadcasting, as ONNX), computed from the shapes alone and refused if too large."""
    try:
        shape = tuple(int(d) for d in np.broadcast_shapes(*shapes))
    except ValueError:
        shown = " and ".join(map(str, shapes))
        raise TensorRefusedError(f"{what}: shapes {shown} do not broadcast") from None
    n = math.prod(shape)
    check_elements(n, shape, what)
    return shape, n


class Budget:
    """Values converted or computed so far, against :data:`MAX_CONSTANT_ELEMENTS`."""

    def __init__(self, limit: int | None = None):
        self.limit = MAX_CONSTANT_ELEMENTS if limit is None else limit
        self.used = 0

    def take(self, n: int, what: str) -> None:
        """Count ``n`` more values, or refuse before they are allocated."""
        if self.used + n > self.limit:
            raise TensorRefusedError(
                f"{what} would bring the model's constants to {self.used + n:,} values; an import "
                f"reads at most {self.limit:,} (three times the most parameters a network may have)"
            )
        self.used += n


__all__ = [
    "EXTERNAL_MESSAGE",
    "MAX_CONSTANT_ELEMENTS",
    "MAX_TENSOR_ELEMENTS",
    "Budget",
    "TensorRefusedError",
    "attribute_array",
    "broadcast_size",
    "check_elements",
    "check_tensor",
    "declared_shape",
    "iter_tensors",
    "numpy_dtype",
    "refuse_external_data",
    "tensor_to_array",
]
