"""Hostile ONNX models: every one is refused with one clear message, quickly and within
bounded memory, and no file the user did not name is ever read.

The models are built here with ``onnx.helper`` and are small files; what they ask for
(a 900-million-value broadcast, a tensor kept in "external data" that names a private
file, a (100000, 100000) initializer) is what is refused.
"""

from __future__ import annotations

import builtins
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from nnviz import cli  # noqa: E402
from nnviz.io import onnx_graph, onnx_tensors  # noqa: E402
from nnviz.io.onnx_import import MAX_FILE_BYTES, OnnxImportError, import_onnx  # noqa: E402
from nnviz.io.onnx_tensors import (  # noqa: E402
    Budget,
    TensorRefusedError,
    broadcast_size,
    tensor_to_array,
)

EXTERNAL = "keeps its data in another file; external data is not supported"
SECRET = b"-----BEGIN OPENSSH PRIVATE KEY----- not for weights"


# --- building models ----------------------------------------------------------------------
def make_model(nodes, inits=(), *, in_width=4, out_width=3, out="y", functions=(), sparse=()):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", in_width])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N", out_width])],
        initializer=[t if isinstance(t, TensorProto) else numpy_helper.from_array(t[1], t[0]) for t in inits],
        sparse_initializer=list(sparse),
    )
    opsets = [helper.make_opsetid("", 17)]
    if functions:
        opsets.append(helper.make_opsetid("local", 1))
    return helper.make_model(graph, opset_imports=opsets, ir_version=8, functions=list(functions))


def save(model, folder: Path, name: str = "model.onnx") -> Path:
    path = folder / name
    path.write_bytes(model.SerializeToString())
    return path


def dense(bias: str = "b") -> list:
    """x @ W + bias -> y: the smallest MLP, reading its bias from ``bias``."""
    return [helper.make_node("MatMul", ["x", "W"], ["m"], name="fc"),
            helper.make_node("Add", ["m", bias], ["y"], name="bias")]


W = ("W", np.arange(12, dtype=np.float32).reshape(4, 3) / 10)


def raw_tensor(name: str, dims, raw: bytes = b"", data_type=TensorProto.FLOAT) -> TensorProto:
    """A TensorProto written field by field, so its dims and data may disagree."""
    t = TensorProto()
    t.name, t.data_type = name, data_type
    t.dims.extend(dims)
    if raw:
        t.raw_data = raw
    return t


def external(name: str, location: str, *, marker: str = "both") -> TensorProto:
    """A (3,) float tensor whose 12 bytes are meant to come from the file ``location``."""
    t = raw_tensor(name, [3])
    if marker in ("both", "location"):
        t.data_location = TensorProto.EXTERNAL
    if marker in ("both", "entries"):
        for key, value in (("location", location), ("offset", "0"), ("length", "12")):
            entry = t.external_data.add()
            entry.key, entry.value = key, value
    return t


def constant(output: str, tensor: TensorProto) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [output], name=f"const_{output}", value=tensor)


@pytest.fixture
def secret(tmp_path, monkeypatch) -> Path:
    """A private file beside the model and in the current directory, as in the report
    (the model named ``.ssh/id_ed25519`` relative to where nnviz ran)."""
    folder = tmp_path / ".ssh"
    folder.mkdir()
    path = folder / "id_ed25519"
    path.write_bytes(SECRET)
    monkeypatch.chdir(tmp_path)
    return path


@pytest.fixture
def no_checker(monkeypatch):
    """The ONNX checker out of the way, so nnviz's own checks are what is tested."""
    monkeypatch.setattr(onnx.checker, "check_model", lambda *a, **k: None)


# --- running the command line as a user would, measured -----------------------------------
def _nnviz_command() -> list[str]:
    script = Path(sys.executable).with_name("nnviz")
    return [str(script)] if script.exists() else [sys.executable, "-m", "nnviz"]


#: runs the command in a grandchild forked from this small interpreter, so the peak RSS
#: that wait4 reports is the command's own (a child forked from pytest itself would
#: count pytest's pages as its own), under a 3 GiB address-space limit: a regression must
#: fail the test with a MemoryError, not take the machine's memory
_LAUNCHER = """
import os, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def run_import(model: Path, out: Path, cwd: Path, timeout: float = 120) -> tuple[int, str, float, int]:
    """``nnviz import MODEL OUT`` as a user runs it: exit code, stderr, wall seconds and
    peak RSS in MiB."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    command = [sys.executable, "-c", _LAUNCHER, *_nnviz_command(), "import", str(model), str(out)]
    start = time.monotonic()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        report, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.communicate()
        pytest.fail(f"nnviz import {model.name} ran past {timeout} s")
    wall = time.monotonic() - start
    rc, peak_kib = (int(v) for v in report.split())
    return rc, stderr.decode(), wall, peak_kib // 1024


def assert_one_line_refusal(rc: int, stderr: str, *, match: str) -> None:
    assert rc == 2, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nnviz: "), stderr
    assert "Traceback" not in stderr and match in lines[0], stderr


# --- 1. constant folding is sized before it is computed ---------------------------------
def broadcast_bomb(n: int, op: str = "Add"):
    inits = [W, ("A", np.ones((n, 1), np.float32)), ("B", np.ones((1, n), np.float32))]
    return make_model([helper.make_node(op, ["A", "B"], ["C"], name="bomb"), *dense("C")], inits)


def test_the_broadcast_bomb_is_refused_at_once_by_the_command_line(tmp_path):
    """The report's 240 KB model: (30000, 1) + (1, 30000) reached 3.5 GB."""
    path = save(broadcast_bomb(30_000), tmp_path)
    assert path.stat().st_size < 300_000
    rc, stderr, wall, peak_mib = run_import(path, tmp_path / "out.nnviz", tmp_path)
    assert_one_line_refusal(rc, stderr, match="of constants has shape (30000, 30000) (900,000,000 values)")
    assert not (tmp_path / "out.nnviz").exists()
    assert peak_mib < 500, f"peak RSS {peak_mib} MiB"  # ~60 MiB here; the bomb itself is 3,433 MiB
    assert wall < 60, f"{wall:.1f} s"  # ~2 s here


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul"])
def test_a_fold_too_large_is_refused_before_it_is_computed(op, tmp_path, monkeypatch):
    def never(*args):
        raise AssertionError("the fold was computed before its size was checked")

    monkeypatch.setitem(onnx_graph._FOLDED, op, never)
    with pytest.raises(OnnxImportError, match=rf"^model\.onnx: {op} \(node 'bomb'\) of constants has shape "
                       r"\(60000, 60000\) \(3,600,000,000 values\); one tensor may hold at most 20,000,000"):
        import_onnx(save(broadcast_bomb(60_000, op), tmp_path))


def test_folds_that_fit_one_by_one_are_bounded_together(tmp_path, monkeypatch):
    """Each (300, 300) fold is under the per-tensor limit; together they pass the budget."""
    monkeypatch.setattr(onnx_tensors, "MAX_CONSTANT_ELEMENTS", 250_000)
    inits = [W, ("A", np.ones((300, 1), np.float32)), ("B", np.ones((1, 300), np.float32))]
    nodes = [helper.make_node("Add", ["A", "B"], [f"C{i}"], name=f"fold{i}") for i in range(4)]
    model = make_model([*nodes, *dense("C3")], inits)
    with pytest.raises(OnnxImportError, match=r"node 'fold2'\) of constants would bring the model's "
                       r"constants to 270,600 values; an import reads at most 250,000"):
        import_onnx(save(model, tmp_path))


def test_a_small_fold_still_works(tmp_path):
    """What torch writes (a bias computed from two constants) still imports."""
    b1, b2 = np.full((1, 3), 0.5, np.float32), np.array([1.0, 2.0, 3.0], np.float32)
    model = make_model([helper.make_node("Add", ["b1", "b2"], ["b"], name="fold"), *dense()],
                       [W, ("b1", b1), ("b2", b2)])
    spec, params, _ = import_onnx(save(model, tmp_path))
    assert spec.widths == [4, 3]
    np.testing.assert_array_equal(params[1], (b1 + b2)[0])


def test_broadcast_size_follows_numpy():
    assert broadcast_size([(5, 1), (1, 7)], "x") == ((5, 7), 35)
    assert broadcast_size([(3,), (2, 1)], "x") == ((2, 3), 6)
    assert broadcast_size([(0, 4), (1,)], "x") == ((0, 4), 0)
    with pytest.raises(TensorRefusedError, match="do not broadcast"):
        broadcast_size([(2, 3), (4,)], "x")


def test_budget_counts_and_refuses_before_the_limit():
    budget = Budget(10)
    budget.take(6, "a")
    with pytest.raises(TensorRefusedError, match="b would bring the model's constants to 11 values"):
        budget.take(5, "b")
    budget.take(4, "c")
    assert budget.used == 10


# --- 2. tensors: checked from their fields, converted only when used ----------------------
def test_an_unused_moderate_initializer_is_never_converted(tmp_path, monkeypatch):
    converted = []
    real = onnx_graph.tensor_to_array

    def spy(tensor, what, budget):
        converted.append(tensor.name)
        return real(tensor, what, budget)

    monkeypatch.setattr(onnx_graph, "tensor_to_array", spy)
    unused = ("U", np.ones((2_000, 1_000), np.float32))  # 8 MB nothing reads
    model = make_model(dense(), [W, ("b", np.zeros(3, np.float32)), unused])
    spec, _, _ = import_onnx(save(model, tmp_path))
    assert spec.widths == [4, 3]
    assert sorted(converted) == ["W", "b"]


def test_an_unused_initializer_costs_about_nothing_in_the_command_line(tmp_path):
    """Peak memory is bounded by the file (read, checked and parsed, at most about twice
    at once), and the unused tensor adds nothing to that."""
    small = save(make_model(dense(), [W, ("b", np.zeros(3, np.float32))]), tmp_path, "small.onnx")
    unused = ("U", np.ones((10_000, 1_000), np.float32))
    large = save(make_model(dense(), [W, ("b", np.zeros(3, np.float32)), unused]), tmp_path, "large.onnx")
    size_mib = large.stat().st_size / 2**20
    rc0, err0, _, base_mib = run_import(small, tmp_path / "small.nnviz", tmp_path)
    rc1, err1, wall, peak_mib = run_import(large, tmp_path / "large.nnviz", tmp_path)
    assert rc0 == 0 and rc1 == 0, err0 + err1
    # measured: +76 MiB for this 38 MiB file (2.0x: bytes and checker, then bytes and
    # parsed model); the import before (checker on a re-serialised model) took 3.0x
    assert peak_mib - base_mib < 2.5 * size_mib, f"{peak_mib} MiB against {base_mib} MiB for a small model"
    assert wall < 60


def test_an_unused_initializer_declaring_a_huge_shape_is_refused_or_ignored(tmp_path, monkeypatch):
    huge = raw_tensor("U", [100_000, 100_000], b"\0" * 16)
    model = make_model(dense(), [W, ("b", np.zeros(3, np.float32)), huge])
    path = save(model, tmp_path)
    with pytest.raises(OnnxImportError, match=r"not a valid ONNX model .*raw_data size"):
        import_onnx(path)  # the ONNX checker sees the mismatch
    monkeypatch.setattr(onnx.checker, "check_model", lambda *a, **k: None)
    assert import_onnx(path)[0].widths == [4, 3]  # without it: never converted, so harmless


@pytest.mark.usefixtures("no_checker")
@pytest.mark.parametrize(
    ("tensor", "message"),
    [
        (raw_tensor("b", [100_000, 100_000], b"\0" * 16),
         r"the tensor 'b' has shape \(100000, 100000\) \(10,000,000,000 values\); one tensor may hold"),
        (raw_tensor("b", [2**62, 2**62, 0, 2**62], b""), r"the tensor 'b' has a dimension past 20,000,000"),
        (raw_tensor("b", [3, -1], b"\0" * 12), r"the tensor 'b' has a negative dimension \(3, -1\)"),
        (raw_tensor("b", [1] * 17, b"\0" * 4), r"the tensor 'b' has 17 dimensions"),
        (raw_tensor("b", [3], b"\0" * 5),
         r"the tensor 'b' declares shape \(3,\) \(12 bytes\) but holds 5 bytes"),
        (helper.make_tensor("b", TensorProto.FLOAT, [2], [1.0, 2.0]),
         r"the tensor 'b' declares shape \(2,\) \(2 values\) but holds 2|"
         r"Add \(node 'bias'\) has a bias of shape \(2,\) for 3 units"),
        (raw_tensor("b", [3], b"\0" * 6, TensorProto.BFLOAT16), r"the tensor 'b' holds BFLOAT16 values"),
        (helper.make_tensor("b", TensorProto.STRING, [3], [b"a", b"b", b"c"]),
         r"the tensor 'b' holds STRING values, which nnviz cannot use"),
        (raw_tensor("b", [3], b"\0" * 24, TensorProto.COMPLEX64), r"the tensor 'b' holds COMPLEX64 values"),
    ],
)
def test_a_used_tensor_is_checked_from_its_fields_first(tensor, message, tmp_path):
    with pytest.raises(OnnxImportError, match=message):
        import_onnx(save(make_model(dense(), [W, tensor]), tmp_path))


@pytest.mark.usefixtures("no_checker")
def test_typed_values_of_the_wrong_count_are_refused(tmp_path):
    t = helper.make_tensor("b", TensorProto.FLOAT, [5], [1.0] * 5)
    t.dims[0] = 3
    with pytest.raises(OnnxImportError, match=r"declares shape \(3,\) \(3 values\) but holds 5"):
        import_onnx(save(make_model(dense(), [W, t]), tmp_path))


_DTYPES = [np.float32, np.float64, np.float16, np.int8, np.int16, np.int32, np.int64,
           np.uint8, np.uint16, np.uint32, np.uint64, np.bool_]


@pytest.mark.parametrize("raw", [True, False])
@pytest.mark.parametrize("dtype", _DTYPES)
def test_conversion_agrees_with_onnx(dtype, raw):
    values = (np.arange(-3, 9) % 5).astype(dtype).reshape(3, 4)
    if raw:
        t = numpy_helper.from_array(values, "t")
    else:
        t = helper.make_tensor("t", helper.np_dtype_to_tensor_dtype(values.dtype), values.shape,
                               values.ravel().tolist())
    got = tensor_to_array(t, "t", Budget())
    want = numpy_helper.to_array(t)
    if dtype == np.float16:
        want = want.astype(np.float32)  # nnviz computes in float32 or float64
    assert got.dtype == want.dtype and got.shape == (3, 4)
    np.testing.assert_array_equal(got, want)


# --- 3. memory running out is a message, not a traceback --------------------------------
def test_memory_error_becomes_the_import_error(tmp_path, monkeypatch, capsys):
    def out_of_memory(*args):
        raise MemoryError

    path = save(make_model(dense(), [W, ("b", np.zeros(3, np.float32))]), tmp_path)
    monkeypatch.setattr(onnx_graph, "tensor_to_array", out_of_memory)
    with pytest.raises(OnnxImportError, match=r"^model\.onnx: there is not enough free memory"):
        import_onnx(path)
    assert cli.main(["import", str(path), str(tmp_path / "out.nnviz")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("nnviz: model.onnx: there is not enough free memory")
    assert not (tmp_path / "out.nnviz").exists()


def test_memory_error_while_parsing_becomes_the_import_error(tmp_path, monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise MemoryError

    path = save(make_model(dense(), [W, ("b", np.zeros(3, np.float32))]), tmp_path)
    monkeypatch.setattr(onnx, "load", out_of_memory)
    with pytest.raises(OnnxImportError, match="not enough free memory"):
        import_onnx(path)


# --- 4. external data: refused wherever it is, nothing else is read ----------------------
def _constant_model(tensor: TensorProto):
    return make_model([constant("b", tensor), *dense()], [W])


def _subgraph_model(tensor: TensorProto, depth: int = 1):
    """The external tensor in the then-branch of an If, ``depth`` Ifs deep."""
    inner_out = helper.make_tensor_value_info("c", TensorProto.FLOAT, [3])
    branch = helper.make_graph([constant("c", tensor)], "then", [], [inner_out])
    for level in range(depth - 1):
        cond = helper.make_tensor("cond", TensorProto.BOOL, [], [True])
        other = helper.make_graph([constant("c", numpy_helper.from_array(np.zeros(3, np.float32)))],
                                  "else", [], [inner_out])
        node = helper.make_node("If", ["cond"], ["c"], name=f"if{level}",
                                then_branch=branch, else_branch=other)
        branch = helper.make_graph([constant("cond", cond), node], f"level{level}", [], [inner_out])
    other = helper.make_graph([constant("c", numpy_helper.from_array(np.zeros(3, np.float32)))],
                              "else", [], [inner_out])
    nodes = [helper.make_node("If", ["flag"], ["b"], name="choose", then_branch=branch, else_branch=other),
             *dense()]
    return make_model(nodes, [W, ("flag", np.array(True))])


def _subgraph_initializer_model(tensor: TensorProto):
    inner_out = helper.make_tensor_value_info("c", TensorProto.FLOAT, [3])
    branch = helper.make_graph([helper.make_node("Identity", ["k"], ["c"])], "then", [], [inner_out],
                               initializer=[tensor])
    other = helper.make_graph([constant("c", numpy_helper.from_array(np.zeros(3, np.float32)))],
                              "else", [], [inner_out])
    nodes = [helper.make_node("If", ["flag"], ["b"], name="choose", then_branch=branch, else_branch=other),
             *dense()]
    return make_model(nodes, [W, ("flag", np.array(True))])


def _sparse_model(tensor: TensorProto):
    indices = numpy_helper.from_array(np.array([0, 1, 2], np.int64), "b_idx")
    sparse = helper.make_sparse_tensor(tensor, indices, [3])
    return make_model(dense(), [W], sparse=[sparse])


def _sparse_attribute_model(tensor: TensorProto):
    indices = numpy_helper.from_array(np.array([0, 1, 2], np.int64), "b_idx")
    node = helper.make_node("Constant", [], ["b"], name="sparse_const",
                            sparse_value=helper.make_sparse_tensor(tensor, indices, [3]))
    return make_model([node, *dense()], [W])


def _tensors_attribute_model(tensor: TensorProto):
    node = constant("b", numpy_helper.from_array(np.zeros(3, np.float32)))
    node.attribute.append(helper.make_attribute("extra", [tensor]))  # a TENSORS attribute
    return make_model([node, *dense()], [W])


def _function_model(tensor: TensorProto):
    function = helper.make_function("local", "Bias", [], ["c"], [constant("c", tensor)],
                                    [helper.make_opsetid("", 17)])
    nodes = [helper.make_node("Bias", [], ["b"], domain="local", name="call"), *dense()]
    return make_model(nodes, [W], functions=[function])


def _function_default_model(tensor: TensorProto):
    """The tensor as the default value of a function's attribute (IR 9 attribute_proto)."""
    body = [helper.make_node("Constant", [], ["c"], name="inner")]
    body[0].attribute.add().CopyFrom(helper.make_attribute_ref("value", onnx.AttributeProto.TENSOR))
    function = helper.make_function("local", "Bias", [], ["c"], body, [helper.make_opsetid("", 17)],
                                    attribute_protos=[helper.make_attribute("value", tensor)])
    nodes = [helper.make_node("Bias", [], ["b"], domain="local", name="call"), *dense()]
    return make_model(nodes, [W], functions=[function])


def _training_model(tensor: TensorProto):
    model = make_model(dense(), [W, ("b", np.zeros(3, np.float32))])
    info = model.training_info.add()
    info.algorithm.CopyFrom(helper.make_graph([constant("c", tensor)], "train", [], []))
    return model


_PLACES = {
    "constant": _constant_model,
    "initializer": lambda t: make_model(dense(), [W, t]),
    "if_branch": _subgraph_model,
    "deeply_nested_if": lambda t: _subgraph_model(t, depth=20),
    "subgraph_initializer": _subgraph_initializer_model,
    "sparse_initializer": _sparse_model,
    "sparse_attribute": _sparse_attribute_model,
    "tensors_attribute": _tensors_attribute_model,
    "function": _function_model,
    "function_default": _function_default_model,
    "training_graph": _training_model,
}


@pytest.mark.parametrize("marker", ["both", "location", "entries"])
@pytest.mark.parametrize("how", ["relative", "absolute", "beside"])
@pytest.mark.parametrize("place", list(_PLACES))
def test_external_data_is_refused_wherever_it_is(place, how, marker, secret, tmp_path, monkeypatch):
    opened = []
    real_open = os.open

    real_builtin_open = builtins.open

    def spy(p, *args, **kwargs):
        opened.append(os.fspath(p))
        return real_open(p, *args, **kwargs)

    def builtin_spy(p, *args, **kwargs):
        opened.append(os.fspath(p))
        return real_builtin_open(p, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    monkeypatch.setattr(builtins, "open", builtin_spy)
    location = {"relative": ".ssh/id_ed25519", "absolute": str(secret), "beside": "weights.bin"}[how]
    (tmp_path / "weights.bin").write_bytes(np.ones(3, np.float32).tobytes())
    name = "k" if place == "subgraph_initializer" else "b"
    path = save(_PLACES[place](external(name, location, marker=marker)), tmp_path)
    with pytest.raises(OnnxImportError, match=rf"^model\.onnx: the .* {EXTERNAL}; save the model"):
        import_onnx(path)
    assert opened == [str(path)]  # the model itself, and nothing it names


def test_the_reported_key_theft_fails_in_the_command_line(secret, tmp_path):
    """The report's case: exit 0 and the key's bytes in the weights. Now: exit 2, one line,
    no output file."""
    secret.write_bytes(np.array([7.0, 8.0, 9.0], np.float32).tobytes())  # would even fit as a bias
    path = save(_constant_model(external("b", ".ssh/id_ed25519")), tmp_path)
    rc, stderr, wall, _ = run_import(path, tmp_path / "stolen.nnviz", tmp_path)
    assert_one_line_refusal(rc, stderr, match=f"'value' of node 'const_b' {EXTERNAL}")
    assert not (tmp_path / "stolen.nnviz").exists()
    assert wall < 60


def test_onnx_load_is_asked_for_no_external_data(tmp_path, monkeypatch):
    calls = []
    real_load = onnx.load

    def spy(f, *args, **kwargs):
        calls.append(kwargs)
        return real_load(f, *args, **kwargs)

    monkeypatch.setattr(onnx, "load", spy)
    import_onnx(save(make_model(dense(), [W, ("b", np.zeros(3, np.float32))]), tmp_path))
    assert calls == [{"format": "protobuf", "load_external_data": False}]


# --- the file itself: only a regular file of a bounded size is read ----------------------
def test_a_file_past_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "huge.onnx"
    with open(path, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk space, no reading
    monkeypatch.setattr(onnx, "load", lambda *a, **k: pytest.fail("the file was parsed"))
    with pytest.raises(OnnxImportError, match=rf"^huge\.onnx: {MAX_FILE_BYTES + 1:,} bytes is more than"):
        import_onnx(path)
    assert MAX_FILE_BYTES == 2 * 8 * 20_000_000 + 2**24  # the largest float64 network, twice, and room


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.onnx"
    os.mkfifo(fifo)
    rc, stderr, wall, _ = run_import(fifo, tmp_path / "out.nnviz", tmp_path, timeout=60)
    assert_one_line_refusal(rc, stderr, match="pipe.onnx: is a named pipe (FIFO), not a regular file")
    assert wall < 50  # it hung forever in open() before


def _varint(n: int) -> bytes:
    out = b""
    while True:
        out += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
        n >>= 7
        if not n:
            return out


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def test_nesting_past_what_protobuf_parses_is_a_clean_refusal(tmp_path):
    """Ifs nested 200 deep (onnx.helper cannot even build them: written as protobuf by
    hand, and appended to a valid model, which protobuf merges into its graph)."""
    graph = b""
    for _ in range(200):
        attribute = _field(1, b"then_branch") + _varint(20 << 3) + _varint(5) + _field(6, graph)
        graph = _field(1, _field(4, b"If") + _field(5, attribute))  # GraphProto.node = If
    model = make_model(dense(), [W, ("b", np.zeros(3, np.float32))])
    path = tmp_path / "deep.onnx"
    path.write_bytes(model.SerializeToString() + _field(7, graph))
    with pytest.raises(OnnxImportError, match=r"^deep\.onnx: not a readable ONNX model"):
        import_onnx(path)


# --- the network built: bounded as it is built -------------------------------------------
def _chain(layers: int, width: int = 4):
    nodes, inits, src = [], [], "x"
    for i in range(layers):
        inits.append((f"W{i}", np.eye(width, dtype=np.float32)))
        nodes.append(helper.make_node("MatMul", [src, f"W{i}"], [f"z{i}"], name=f"fc{i}"))
        nodes.append(helper.make_node("Relu", [f"z{i}"], [f"a{i}"], name=f"act{i}"))
        src = f"a{i}"
    nodes[-1] = helper.make_node("Identity", [f"z{layers - 1}"], ["y"], name="out")
    return make_model(nodes, inits, in_width=width, out_width=width)


def test_more_layers_than_nnviz_allows_are_refused_as_they_are_built(tmp_path):
    with pytest.raises(OnnxImportError, match=r"MatMul \(node 'fc65'\) adds a layer past the 64 hidden"):
        import_onnx(save(_chain(70), tmp_path))
    assert import_onnx(save(_chain(65), tmp_path))[0].widths == [4] * 66


def test_one_weight_repeated_in_many_layers_is_bounded_by_the_parameter_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(onnx_graph, "MAX_PARAMETERS", 100)
    with pytest.raises(OnnxImportError, match=r"node 'fc5'\) brings the network to 120 parameters"):
        import_onnx(save(_chain(8), tmp_path))


def test_an_activation_after_a_wide_output_is_refused_before_the_identity_layer(tmp_path, monkeypatch):
    """A Relu after 5,000 outputs needs a (5000, 5000) identity layer: refused before np.eye."""
    monkeypatch.setattr(np, "eye", lambda *a, **k: pytest.fail("the identity layer was built"))
    nodes = [helper.make_node("MatMul", ["x", "Wide"], ["z"], name="fc"),
             helper.make_node("Relu", ["z"], ["y"], name="act")]
    model = make_model(nodes, [("Wide", np.ones((1, 5_000), np.float32))], in_width=1, out_width=5_000)
    with pytest.raises(OnnxImportError, match=r"brings the network to 25,015,000 parameters, more than"):
        import_onnx(save(model, tmp_path))


def test_a_layer_wider_than_nnviz_allows_is_refused(tmp_path):
    nodes = [helper.make_node("MatMul", ["x", "Wide"], ["y"], name="fc")]
    model = make_model(nodes, [("Wide", np.ones((1, 70_000), np.float32))], in_width=1, out_width=70_000)
    with pytest.raises(OnnxImportError, match=r"a weight of shape \(1, 70000\); a layer has at most 65,536"):
        import_onnx(save(model, tmp_path))


def test_a_graph_of_too_many_nodes_is_refused(tmp_path):
    n = onnx_tensors.MAX_NODES + 1
    nodes = [helper.make_node("Identity", [f"i{k}" if k else "x"], [f"i{k + 1}"]) for k in range(n)]
    nodes += [helper.make_node("MatMul", [f"i{n}", "W"], ["y"], name="fc")]
    start = time.monotonic()
    with pytest.raises(OnnxImportError, match=r"more than 20,000 nodes"):
        import_onnx(save(make_model(nodes, [W]), tmp_path))
    assert time.monotonic() - start < 60


@pytest.mark.usefixtures("no_checker")
def test_long_attribute_lists_and_large_constants_are_refused(tmp_path, monkeypatch):
    perm = helper.make_node("Transpose", ["W"], ["Wt"], name="t", perm=list(range(5_000)))
    model = make_model([perm, helper.make_node("MatMul", ["x", "Wt"], ["y"], name="fc")], [W])
    with pytest.raises(OnnxImportError, match=r"Transpose \(node 't'\) has an attribute 'perm' of 5,000"):
        import_onnx(save(model, tmp_path))
    monkeypatch.setattr(onnx_tensors, "MAX_TENSOR_ELEMENTS", 1_000)
    floats = helper.make_node("Constant", [], ["b"], name="c", value_floats=[0.5] * 1_001)
    with pytest.raises(OnnxImportError, match=r"the value of node 'c' has shape \(1001,\) \(1,001 values\)"):
        import_onnx(save(make_model([floats, *dense()], [W]), tmp_path))


def test_an_unused_constant_node_is_never_converted(tmp_path, monkeypatch):
    converted = []
    real = onnx_graph.tensor_to_array
    monkeypatch.setattr(onnx_graph, "tensor_to_array",
                        lambda t, what, budget: (converted.append(what), real(t, what, budget))[1])
    unused = constant("unused", numpy_helper.from_array(np.ones((500, 500), np.float32)))
    model = make_model([unused, *dense()], [W, ("b", np.zeros(3, np.float32))])
    assert import_onnx(save(model, tmp_path))[0].widths == [4, 3]
    assert sorted(converted) == ["the tensor 'W'", "the tensor 'b'"]


def test_the_limits_are_tied_to_the_parameter_cap():
    from nnviz.core.spec import MAX_PARAMETERS

    assert onnx_tensors.MAX_TENSOR_ELEMENTS == MAX_PARAMETERS
    assert onnx_tensors.MAX_CONSTANT_ELEMENTS == 3 * MAX_PARAMETERS
    assert math.prod((30_000, 30_000)) > onnx_tensors.MAX_TENSOR_ELEMENTS


@pytest.mark.parametrize("op", ["Reshape", "Slice"])
def test_a_long_shape_or_axes_constant_is_refused_before_it_becomes_python_ints(op, tmp_path):
    inits = [W, ("b", np.zeros(3, np.float32)), ("L", np.ones(100_000, np.int64)),
             ("one", np.ones(1, np.int64)), ("two", np.full(1, 2, np.int64))]
    if op == "Reshape":
        nodes = [*dense(), helper.make_node("Reshape", ["y", "L"], ["r"], name="op")]
    else:
        nodes = [*dense(), helper.make_node("Slice", ["y", "one", "two", "L"], ["r"], name="op")]
    model = make_model(nodes, inits, out="r")
    what = "shape" if op == "Reshape" else "axes"
    with pytest.raises(OnnxImportError, match=rf"{op} \(node 'op'\) reads 100,000 values as its {what}"):
        import_onnx(save(model, tmp_path))
