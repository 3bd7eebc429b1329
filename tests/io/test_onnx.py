"""ONNX export and import: onnxruntime must predict what nnviz predicts on raw inputs, and
files must come back as the same network."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import nnviz  # noqa: E402
from nnviz.core.activations import ACTIVATION_NAMES  # noqa: E402
from nnviz.core.data import generate  # noqa: E402
from nnviz.core.losses import make_loss  # noqa: E402
from nnviz.core.network import Network  # noqa: E402
from nnviz.core.optim import OptimizerConfig  # noqa: E402
from nnviz.core.preprocess import FEATURES_2D, PREPROCESS_NAMES, InputPipeline  # noqa: E402
from nnviz.core.session import DataConfig, Session, build_spec  # noqa: E402
from nnviz.core.spec import LayerSpec, NetworkSpec  # noqa: E402
from nnviz.core.trainer import TrainConfig  # noqa: E402
from nnviz.io.onnx_common import UNAVAILABLE_MESSAGE, OnnxUnavailableError  # noqa: E402
from nnviz.io.onnx_export import OnnxExportError, build_model, export_onnx  # noqa: E402
from nnviz.io.onnx_import import OnnxImportError, import_onnx  # noqa: E402

TOL = {"rtol": 1e-5, "atol": 1e-5}


def make_session(
    dataset: str = "spiral",
    *,
    layers: tuple[int, ...] = (5, 5, 5),
    activation: str = "relu",
    loss: str | None = None,
    residual: bool = False,
    dtype: str = "float64",
    preprocess: str = "none",
    features: tuple[str, ...] = (),
    alpha: float | None = None,
    steps: int = 4,
) -> Session:
    """A small session trained a few steps, so the weights are not just the initial ones."""
    kw = {"arms": 3} if dataset == "spiral" else {}
    data = generate(dataset, n=60, noise=0.1, seed=3, **kw)
    dc = DataConfig(test_fraction=0.2, preprocess=preprocess, features=features)
    spec = build_spec(data, dc, layers=layers, activation=activation, loss=loss,
                      residual=residual, dtype=dtype, alpha=alpha)
    train = TrainConfig(optimizer=OptimizerConfig("adam", {"lr": 0.05}), batch_size=8, seed=1)
    session = Session(data, dc, spec, train, grid_size=0)
    session.trainer.run(steps)
    return session


def export(session: Session, folder: Path, **kw) -> Path:
    path = folder / "model.onnx"
    export_onnx(session.spec, session.network.params, session.pipeline, path, **kw)
    return path


def run_model(path: Path, X: np.ndarray) -> dict[str, np.ndarray]:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {"input": X}), strict=True))


def check_matches_nnviz(session: Session, path: Path) -> None:
    """onnxruntime's logits and probabilities on RAW inputs equal nnviz's, for any batch."""
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    dtype = session.network.dtype
    X = np.random.default_rng(0).uniform(-1.5, 1.5, (37, session.data.n_features)).astype(dtype)
    for batch in (X[:1], X):
        got = run_model(path, batch)
        want = session.predict_raw(batch.astype(np.float64))
        assert got["logits"].dtype == dtype
        assert got["logits"].shape == want.shape == (len(batch), session.spec.output_dim)
        np.testing.assert_allclose(got["logits"], want, **TOL)
        if session.network.loss.is_classification:
            np.testing.assert_allclose(
                got["probabilities"], session.network.loss.probabilities(want), **TOL
            )
        else:
            assert "probabilities" not in got


def check_round_trip(session: Session, path: Path) -> None:
    spec, params, pipeline = import_onnx(path)
    assert spec == session.spec
    assert len(params) == len(session.network.params)
    for got, want in zip(params, session.network.params, strict=True):
        assert got.dtype == want.dtype and np.array_equal(got, want)
    assert pipeline.method == session.pipeline.method
    assert pipeline.features == session.pipeline.features
    for name in ("mean", "matrix"):
        want = getattr(session.pipeline, name)
        got = getattr(pipeline, name)
        assert (got is None and want is None) or np.array_equal(got, want)


# --- export: every activation, loss, preprocessing, dtype ---------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_every_activation_matches_and_round_trips(activation, residual, dtype, tmp_path):
    alpha = 0.3 if activation in ("leaky_relu", "elu") else None
    session = make_session(activation=activation, residual=residual, dtype=dtype, alpha=alpha)
    path = export(session, tmp_path)
    check_matches_nnviz(session, path)
    check_round_trip(session, path)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("loss", "dataset"), [("softmax", "spiral"), ("svm", "spiral"), ("logistic", "moons"), ("mse", "plane")]
)
def test_every_loss_matches_and_round_trips(loss, dataset, dtype, tmp_path):
    session = make_session(dataset, layers=(6, 4), activation="tanh", loss=loss, dtype=dtype)
    path = export(session, tmp_path)
    check_matches_nnviz(session, path)
    check_round_trip(session, path)
    outputs = [o.name for o in onnx.load(str(path)).graph.output]
    assert outputs == (["logits"] if loss == "mse" else ["logits", "probabilities"])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("features", [(), FEATURES_2D, ("x1^2", "x2", "sin(x1)")])
@pytest.mark.parametrize("preprocess", PREPROCESS_NAMES)
def test_every_preprocessing_runs_in_the_graph(preprocess, features, dtype, tmp_path):
    session = make_session(layers=(6,), preprocess=preprocess, features=features, dtype=dtype)
    path = export(session, tmp_path)
    check_matches_nnviz(session, path)
    check_round_trip(session, path)


def test_no_hidden_layer_and_wide_inputs(tmp_path):
    data = generate("plane", n=40, seed=0)
    X = np.random.default_rng(1).normal(size=(40, 9))
    data = data.with_points(X, data.y)
    dc = DataConfig(preprocess="standardize")
    session = Session(data, dc, build_spec(data, dc, layers=()), TrainConfig(), grid_size=0)
    session.trainer.run(3)
    path = export(session, tmp_path)
    check_matches_nnviz(session, path)
    check_round_trip(session, path)


# --- the model's header and its options -------------------------------------------------
def test_model_header_batch_dimension_and_metadata(tmp_path):
    session = make_session(preprocess="pca", features=FEATURES_2D)
    model = onnx.load(str(export(session, tmp_path)))
    assert model.producer_name == "nnviz" and model.producer_version == nnviz.__version__
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 17)]
    assert model.ir_version == 8
    (inp,) = model.graph.input
    assert inp.name == "input"
    dims = inp.type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == 2
    ops = {n.op_type for n in model.graph.node}
    assert {"Slice", "Mul", "Sin", "Concat", "Sub", "MatMul", "Gemm", "Softmax"} <= ops
    assert all(n.attribute[0].i == 1 for n in model.graph.node if n.op_type == "Gemm")  # transB
    assert {p.key for p in model.metadata_props} >= {"nnviz.spec", "nnviz.preprocess"}
    assert list(tmp_path.iterdir()) == [tmp_path / "model.onnx"]  # no temporary file left


@pytest.mark.parametrize("opset", [13, 18, 21])
def test_other_opsets_load_and_match(opset, tmp_path):
    session = make_session(activation="maxout", residual=True, preprocess="whiten", features=FEATURES_2D)
    path = export(session, tmp_path, opset=opset)
    assert onnx.load(str(path)).opset_import[0].version == opset
    check_matches_nnviz(session, path)
    check_round_trip(session, path)


def test_export_refuses_bad_input_and_keeps_the_old_file(tmp_path):
    session = make_session()
    path = export(session, tmp_path)
    before = path.read_bytes()
    spec, params, pipeline = session.spec, session.network.params, session.pipeline
    with pytest.raises(OnnxExportError, match="opset"):
        export_onnx(spec, params, pipeline, path, opset=7)
    with pytest.raises(OnnxExportError, match="do not fit"):
        export_onnx(spec, params[:-2], pipeline, path)
    broken = [p.copy() for p in params]
    broken[0][0, 0] = np.nan
    with pytest.raises(OnnxExportError, match="NaN"):
        export_onnx(spec, broken, pipeline, path)
    with pytest.raises(OnnxExportError, match="fitted"):
        export_onnx(spec, params, InputPipeline("standardize"), path)
    with pytest.raises(OnnxExportError, match="columns"):
        export_onnx(spec, params, InputPipeline("none", ("x1", "x2", "x1^2")), path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def test_a_failed_save_is_an_os_error_and_leaves_nothing(tmp_path):
    session = make_session(steps=0)
    with pytest.raises(OSError, match="does not exist"):
        export(session, tmp_path / "missing-folder")
    assert list(tmp_path.iterdir()) == []


# --- import of models nnviz did not write ----------------------------------------------
def _model(nodes, inits, out="y", out_width=3, in_width=4, opset=17, elem=TensorProto.FLOAT):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", elem, ["N", in_width])],
        [helper.make_tensor_value_info(out, elem, ["N", out_width])],
        initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    opsets = [helper.make_opsetid("", opset)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=helper.find_min_ir_version_for(opsets))


def _save(model, folder: Path, name: str = "model.onnx") -> Path:
    path = folder / name
    onnx.save(model, str(path))
    return path


def _ort(path: Path, X: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: X})[0]


def test_torch_style_matmul_add_model(tmp_path):
    """The shape torch's exporters give nn.Linear (MatMul + Add), with the wrappers they add."""
    rng = np.random.default_rng(0)
    W0, b0 = rng.normal(size=(4, 6)).astype(np.float32), rng.normal(size=6).astype(np.float32)
    W1, b1 = rng.normal(size=(6, 5)).astype(np.float32), rng.normal(size=5).astype(np.float32)
    W2, b2 = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)
    nodes = [
        helper.make_node("Flatten", ["x"], ["xf"], name="flatten", axis=1),
        helper.make_node("Cast", ["xf"], ["xc"], name="cast", to=TensorProto.FLOAT),
        helper.make_node("MatMul", ["xc", "W0"], ["m0"], name="fc1/MatMul"),
        helper.make_node("Add", ["b0", "m0"], ["z0"], name="fc1/Add"),
        helper.make_node("LeakyRelu", ["z0"], ["a0"], name="act1", alpha=0.2),
        helper.make_node("Identity", ["a0"], ["a0i"], name="dropout"),
        helper.make_node("Constant", [], ["b1c"], name="bias2",
                         value=numpy_helper.from_array(b1.reshape(1, 5))),
        helper.make_node("MatMul", ["a0i", "W1"], ["m1"], name="fc2/MatMul"),
        helper.make_node("Add", ["m1", "b1c"], ["z1"], name="fc2/Add"),
        helper.make_node("Elu", ["z1"], ["a1"], name="act2"),
        helper.make_node("MatMul", ["a1", "W2"], ["m2"], name="fc3/MatMul"),
        helper.make_node("Add", ["m2", "b2"], ["z2"], name="fc3/Add"),
        helper.make_node("Softmax", ["z2"], ["y"], name="softmax", axis=-1),
    ]
    path = _save(_model(nodes, {"W0": W0, "b0": b0, "W1": W1, "W2": W2, "b2": b2}), tmp_path)
    spec, params, pipeline = import_onnx(path)
    assert spec.hidden == (LayerSpec(6, "leaky_relu", 0.2), LayerSpec(5, "elu"))
    assert (spec.input_dim, spec.output_dim, spec.loss, spec.dtype) == (4, 3, "softmax", "float32")
    assert pipeline == InputPipeline()
    for got, want in zip(params, [W0, b0, W1, b1, W2, b2], strict=True):
        assert np.array_equal(got, want)
    X = rng.normal(size=(11, 4)).astype(np.float32)
    net = Network(spec, params)
    np.testing.assert_allclose(net.loss.probabilities(net.scores(X)), _ort(path, X), **TOL)


def test_gemm_flags_fold_into_the_weights(tmp_path):
    rng = np.random.default_rng(1)
    B = rng.normal(size=(4, 3))  # transB=0: stored (fan_in, fan_out)
    C = rng.normal(size=(1, 3))
    nodes = [helper.make_node("Gemm", ["x", "B", "C"], ["y"], name="g", alpha=0.5, beta=2.0)]
    path = _save(_model(nodes, {"B": B, "C": C}, elem=TensorProto.DOUBLE), tmp_path)
    spec, params, _ = import_onnx(path)
    assert (spec.hidden, spec.loss, spec.dtype) == ((), "softmax", "float64")
    X = rng.normal(size=(5, 4))
    np.testing.assert_allclose(Network(spec, params).scores(X), _ort(path, X), rtol=1e-12)


@pytest.mark.parametrize("opset", [17, 18])
def test_maxout_as_reshape_and_reducemax(opset, tmp_path):
    rng = np.random.default_rng(2)
    W0, b0 = rng.normal(size=(3, 8)), rng.normal(size=8)
    W1, b1 = rng.normal(size=(4, 1)), rng.normal(size=1)
    axes = {"axes": [2]} if opset < 18 else {}
    reduce_inputs = ["pairs"] if opset < 18 else ["pairs", "axes"]
    nodes = [
        helper.make_node("Gemm", ["x", "W0", "b0"], ["z0"], name="fc1"),
        helper.make_node("Reshape", ["z0", "shape"], ["pairs"], name="pairs"),
        helper.make_node("ReduceMax", reduce_inputs, ["a0"], name="maxout", keepdims=0, **axes),
        helper.make_node("Gemm", ["a0", "W1", "b1"], ["s"], name="fc2"),
        helper.make_node("Sigmoid", ["s"], ["y"], name="prob"),
    ]
    inits = {"W0": W0, "b0": b0, "W1": W1, "b1": b1, "shape": np.array([-1, 4, 2], dtype=np.int64),
             "axes": np.array([2], dtype=np.int64)}
    model = _model(nodes, inits, out_width=1, in_width=3, opset=opset, elem=TensorProto.DOUBLE)
    path = _save(model, tmp_path)
    spec, params, _ = import_onnx(path)
    assert spec.hidden == (LayerSpec(4, "maxout"),) and spec.loss == "logistic"
    X = rng.normal(size=(6, 3))
    net = Network(spec, params)
    np.testing.assert_allclose(net.loss.probabilities(net.scores(X))[:, 1:], _ort(path, X), rtol=1e-12)


def test_activation_on_the_output_becomes_an_identity_output_layer(tmp_path):
    rng = np.random.default_rng(3)
    W, b = rng.normal(size=(2, 4)).astype(np.float32), rng.normal(size=2).astype(np.float32)
    nodes = [
        helper.make_node("Gemm", ["x", "W", "b"], ["z"], name="fc", transB=1),
        helper.make_node("Tanh", ["z"], ["y"], name="tanh"),
    ]
    path = _save(_model(nodes, {"W": W, "b": b}, out_width=2), tmp_path)
    spec, params, _ = import_onnx(path)
    assert spec.hidden == (LayerSpec(2, "tanh"),) and spec.output_dim == 2
    X = rng.normal(size=(7, 4)).astype(np.float32)
    np.testing.assert_allclose(Network(spec, params).scores(X), _ort(path, X), **TOL)


def test_real_torch_export(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(3, 7), torch.nn.ReLU(), torch.nn.Dropout(0.2),
        torch.nn.Linear(7, 5), torch.nn.Softplus(), torch.nn.Linear(5, 4), torch.nn.Softmax(dim=1),
    ).eval()
    x = torch.randn(5, 3)
    path = tmp_path / "torch.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(model, (x,), str(path), input_names=["x"], dynamic_axes={"x": {0: "n"}},
                              dynamo=False)
        except Exception as e:  # an exporter that needs packages this machine lacks
            pytest.skip(f"torch.onnx.export is not usable here: {e}")
    spec, params, _ = import_onnx(path)
    assert [h.activation for h in spec.hidden] == ["relu", "softplus"] and spec.loss == "softmax"
    net = Network(spec, params)
    with torch.no_grad():
        want = model(x).numpy()
    np.testing.assert_allclose(net.loss.probabilities(net.scores(x.numpy())), want, **TOL)


def test_import_without_metadata_guesses_the_rest(tmp_path):
    session = make_session(loss="svm", activation="leaky_relu", residual=True, dtype="float32",
                           preprocess="standardize")
    model = build_model(session.spec, session.network.params, session.pipeline)
    del model.metadata_props[:]
    spec, params, pipeline = import_onnx(_save(model, tmp_path))
    assert spec.loss == "softmax"  # an SVM's graph looks like a softmax classifier's
    assert spec.widths == session.spec.widths and spec.residual
    assert spec.hidden[0] == LayerSpec(5, "leaky_relu")  # the default alpha comes back as None
    assert all(np.array_equal(a, b) for a, b in zip(params, session.network.params, strict=True))
    assert pipeline.method == "standardize"
    X = session.data.X[:9]
    np.testing.assert_array_equal(pipeline.transform(X), session.pipeline.transform(X))


# --- refusals ---------------------------------------------------------------------------
def test_unsupported_operator_is_named(tmp_path):
    nodes = [
        helper.make_node("Conv", ["x", "K"], ["c"], name="conv1"),
        helper.make_node("Flatten", ["c"], ["y"], name="flat"),
    ]
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 9])],
        initializer=[numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "K")],
    )
    path = _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8),
                 tmp_path, "conv.onnx")
    with pytest.raises(OnnxImportError, match=r"^conv\.onnx: unsupported operator Conv \(node 'conv1'\)$"):
        import_onnx(path)


def test_branching_and_inner_outputs_are_refused(tmp_path):
    rng = np.random.default_rng(4)
    inits = {"W": rng.normal(size=(4, 3)).astype(np.float32), "V": rng.normal(size=(4, 3)).astype(np.float32)}
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["a"], name="left"),
        helper.make_node("MatMul", ["x", "V"], ["b"], name="right"),
        helper.make_node("Add", ["a", "b"], ["y"], name="join"),
    ]
    with pytest.raises(OnnxImportError, match="MatMul"):
        import_onnx(_save(_model(nodes, inits), tmp_path))
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="r")]
    with pytest.raises(OnnxImportError, match="Relu"):
        import_onnx(_save(_model(nodes, {}, out_width=4), tmp_path))


@pytest.mark.parametrize("content", [b"", b"not an onnx model at all \x00\xff" * 20, "truncated"])
def test_corrupt_files_give_import_errors(content, tmp_path):
    if content == "truncated":
        whole = export(make_session(), tmp_path).read_bytes()
        content = whole[: len(whole) // 2]
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(OnnxImportError, match=r"^bad\.onnx: "):
        import_onnx(path)


def test_missing_file_and_folder_give_import_errors(tmp_path):
    with pytest.raises(OnnxImportError, match=r"^absent\.onnx: no such file$"):
        import_onnx(tmp_path / "absent.onnx")
    with pytest.raises(OnnxImportError, match="is a folder, not a regular file"):
        import_onnx(tmp_path)


# --- without the optional packages ------------------------------------------------------
def test_without_onnx_both_functions_say_what_to_install(monkeypatch, tmp_path):
    for name in [m for m in sys.modules if m == "onnx" or m.startswith("onnx.")]:
        monkeypatch.setitem(sys.modules, name, None)
    session = make_session(steps=0)
    with pytest.raises(OnnxUnavailableError) as info:
        export_onnx(session.spec, session.network.params, session.pipeline, tmp_path / "m.onnx")
    assert str(info.value) == UNAVAILABLE_MESSAGE
    assert UNAVAILABLE_MESSAGE == "ONNX support needs the optional extra: pip install 'nnviz[onnx]'"
    with pytest.raises(OnnxUnavailableError, match=r"nnviz\[onnx\]"):
        import_onnx(tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_modules_import_neither_onnx_nor_qt():
    code = (
        "import sys, nnviz.io.onnx_export, nnviz.io.onnx_import, nnviz.io.onnx_common\n"
        "import nnviz.io.onnx_graph, nnviz.io.onnx_ops, nnviz.io.onnx_values\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('onnx', 'onnxruntime', 'PySide6', 'torch')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_spec_with_every_activation_exports_without_data(tmp_path):
    """A spec straight from a JSON file (no session) exports too; the pipeline may be None."""
    hidden = tuple(LayerSpec(4, a) for a in ACTIVATION_NAMES)
    spec = NetworkSpec(input_dim=3, output_dim=1, hidden=hidden, loss="mse", residual=True)
    net = Network.initialised(spec, seed=5)
    path = tmp_path / "spec.onnx"
    export_onnx(spec, net.params, None, path)
    X = np.random.default_rng(5).normal(size=(8, 3))
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(["logits"], {"input": X})[0]
    np.testing.assert_allclose(got, net.scores(X), **TOL)
    assert make_loss(import_onnx(path)[0].loss).name == "mse"


# --- mutated graphs: refused cleanly, or rebuilt exactly -----------------------------------
_MUTANT_OPS = ["Relu", "Add", "Sub", "MatMul", "Gemm", "Max", "Slice", "Concat", "Sigmoid", "Softmax",
               "Identity", "Cast", "Reshape", "Mul", "Sin", "Tanh", "ReduceMax", "Elu", "Conv"]


def _mutate(model, rng):
    g = model.graph
    for _ in range(rng.integers(1, 3)):
        node = g.node[rng.integers(len(g.node))]
        names = [i.name for i in (*g.input, *g.initializer)] + [o for n in g.node for o in n.output]
        kind = rng.integers(4)
        if kind == 0:
            node.op_type = str(rng.choice(_MUTANT_OPS))
        elif kind == 1 and node.input:
            node.input[rng.integers(len(node.input))] = str(rng.choice(names))
        elif kind == 2:
            g.output[0].name = str(rng.choice(names))
        elif kind == 3 and node.attribute:
            attr = node.attribute[rng.integers(len(node.attribute))]
            attr.i, attr.f = int(rng.integers(-1, 3)), float(rng.choice([0.0, -1.0, 0.5]))


def test_mutated_graphs_are_refused_or_rebuilt_exactly(tmp_path):
    """Every mutant is either refused with an OnnxImportError or, where onnxruntime runs
    it, rebuilt into a network that computes what onnxruntime computes."""
    seeds = [
        build_model(s.spec, s.network.params, s.pipeline)
        for s in (
            make_session(activation="maxout", residual=True, preprocess="whiten",
                         features=("x1", "x2", "x1^2", "sin(x1)"), steps=1),
            make_session("moons", loss="logistic", activation="leaky_relu", steps=1),
            make_session(dtype="float32", activation="elu", preprocess="center", residual=True, steps=1),
        )
    ]
    rng = np.random.default_rng(11)
    options = ort.SessionOptions()
    options.log_severity_level = 4
    path = tmp_path / "mutant.onnx"
    rebuilt = compared = 0
    for _ in range(300):
        model = onnx.ModelProto()
        model.CopyFrom(seeds[rng.integers(len(seeds))])
        _mutate(model, rng)
        path.write_bytes(model.SerializeToString())
        try:
            spec, params, pipeline = import_onnx(path)
        except OnnxImportError:
            continue
        rebuilt += 1
        try:
            sess = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            net = Network(spec, params)
            X = rng.uniform(-1, 1, (5, 2)).astype(net.dtype)
            got = sess.run(None, {sess.get_inputs()[0].name: X})[0]
        except Exception:  # onnxruntime refuses the mutant too: nothing to compare
            continue
        scores = net.scores(pipeline.transform(X.astype(np.float64)).astype(net.dtype))
        p = 1 / (1 + np.exp(-scores))
        expected = [scores, make_loss("softmax").probabilities(scores), p, 1 - p]
        if scores.shape[1] == 1:
            expected.append(np.concatenate([1 - p, p], axis=1))
        assert any(e.shape == got.shape and np.allclose(e, got, rtol=1e-4, atol=1e-4) for e in expected)
        compared += 1
    print(f"{rebuilt} of 300 mutants rebuilt, {compared} compared with onnxruntime")
    assert rebuilt > 10 and compared > 10  # the mutations leave enough valid models to test
