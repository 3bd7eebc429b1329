"""Save then load gives back exactly what was saved, and training continues exactly."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_io_support import assert_same_state, make_session, table_data, train

from nnviz.core.data import Dataset, generate
from nnviz.core.optim import OPTIMIZER_NAMES, Schedule
from nnviz.core.preprocess import InputPipeline
from nnviz.core.spec import LayerSpec, NetworkSpec
from nnviz.core.trainer import TrainConfig
from nnviz.io import FORMAT_VERSION, FileFormatError, load_file, save_network, save_session


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_state_round_trips_bit_for_bit(tmp_path, dtype):
    s = make_session(dtype=dtype, preprocess="standardize", l2=1e-3)
    train(s, 37)
    path = tmp_path / "net.nnviz"
    save_session(s, path)
    loaded = load_file(path)
    assert loaded.kind == "network" and loaded.format_version == FORMAT_VERSION
    assert loaded.spec == s.spec
    assert loaded.train_config == s.trainer.config
    assert loaded.data_config == s.data_config
    for p, q in zip(loaded.params, s.network.params, strict=True):
        assert p.dtype == np.dtype(dtype) and p.tobytes() == q.tobytes()
    assert loaded.pipeline.method == "standardize"
    assert loaded.pipeline.mean.tobytes() == s.pipeline.mean.tobytes()
    assert loaded.pipeline.matrix.tobytes() == s.pipeline.matrix.tobytes()
    assert_same_state(loaded.trainer_state, s.trainer.get_state())
    assert loaded.data.X.tobytes() == s.data.X.tobytes()
    assert np.array_equal(loaded.data.y, s.data.y)
    assert loaded.data.source == s.data.source and loaded.data.class_names == s.data.class_names
    np.testing.assert_array_equal(loaded.history.steps.array(), s.history.steps.array())
    np.testing.assert_array_equal(loaded.history.evals.array(), s.history.evals.array())
    s2 = loaded.to_session()
    assert_same_state(s2.trainer.get_state(), s.trainer.get_state())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_interrupted_training_matches_uninterrupted(tmp_path, dtype, dropout):
    """100 steps, save, load, 100 more == 200 straight. 160 training examples with a batch
    of 7: step 100 ends mid-epoch, so the shuffle order and position must survive; dropout
    draws from the RNG, so its state must survive too."""
    straight = make_session(dtype=dtype, dropout=dropout, optimizer="adam")
    expected = train(straight, 200)

    first = make_session(dtype=dtype, dropout=dropout, optimizer="adam")
    losses = train(first, 100)
    assert first.trainer.get_state()["perm"] is not None  # mid-epoch
    save_session(first, tmp_path / "half.nnviz")
    resumed = load_file(tmp_path / "half.nnviz").to_session()
    losses += train(resumed, 100)
    assert losses == expected
    assert_same_state(resumed.trainer.get_state(), straight.trainer.get_state())
    np.testing.assert_array_equal(resumed.history.steps.array(), straight.history.steps.array())


@pytest.mark.parametrize("optimizer", OPTIMIZER_NAMES)
def test_every_optimizer_resumes_exactly(tmp_path, optimizer):
    hyper = {"lr": 0.01}
    if optimizer == "rmsprop":
        hyper["momentum"] = 0.5  # both of rmsprop's state lists
    straight = make_session(optimizer=optimizer, hyper=hyper,
                            schedule=Schedule("cosine", t_max=50))
    expected = train(straight, 40)
    first = make_session(optimizer=optimizer, hyper=hyper, schedule=Schedule("cosine", t_max=50))
    losses = train(first, 20)
    save_session(first, tmp_path / "o.nnviz", include_history=False)
    loaded = load_file(tmp_path / "o.nnviz")
    assert loaded.history is None
    losses += train(loaded.to_session(), 20)
    assert losses == expected


def test_learning_rate_changed_while_training_is_saved(tmp_path):
    s = make_session()
    train(s, 5)
    s.trainer.set_learning_rate(0.123)
    s.trainer.update_config(batch_size=13, l2=0.01)
    save_session(s, tmp_path / "lr.nnviz")
    cfg = load_file(tmp_path / "lr.nnviz").to_session().trainer.config
    assert cfg.optimizer.lr == 0.123 and cfg.batch_size == 13 and cfg.l2 == 0.01


def test_generated_data_is_regenerated_when_not_stored(tmp_path):
    s = make_session(data=generate("checkerboard", n=300, noise=0.05, seed=4, cells=3))
    train(s, 50)
    save_session(s, tmp_path / "g.nnviz", include_data=False)
    assert "data.npz" not in zipfile.ZipFile(tmp_path / "g.nnviz").namelist()
    loaded = load_file(tmp_path / "g.nnviz")
    assert loaded.data.X.tobytes() == s.data.X.tobytes()
    assert np.array_equal(loaded.data.y, s.data.y)
    expected = train(s, 30)
    assert train(loaded.to_session(), 30) == expected


def test_imported_data_not_stored_must_be_given(tmp_path):
    data = table_data()
    s = make_session(data=data, layers=(5,), preprocess="whiten")
    train(s, 25)
    save_session(s, tmp_path / "t.nnviz", include_data=False)
    loaded = load_file(tmp_path / "t.nnviz")
    assert loaded.data is None
    assert loaded.class_names == data.class_names and loaded.feature_names == data.feature_names
    with pytest.raises(FileFormatError, match=r"t\.nnviz: the file holds no data set"):
        loaded.to_session()
    expected = train(s, 10)
    assert train(loaded.to_session(data), 10) == expected
    # other data of the wrong width is refused with a clear message
    with pytest.raises(FileFormatError, match="the network has 3 inputs; the data has 2"):
        loaded.to_session(generate("xor", n=50))


def test_other_sized_data_drops_only_the_shuffle_order(tmp_path):
    s = make_session(data=table_data(n=60))
    train(s, 3)
    save_session(s, tmp_path / "t.nnviz")
    resumed = load_file(tmp_path / "t.nnviz").to_session(table_data(n=90, seed=5))
    state = resumed.trainer.get_state()
    assert state["perm"] is None and state["step"] == 3
    train(resumed, 20)


def test_regression_round_trip(tmp_path):
    s = make_session(data=generate("multigauss", n=200, seed=2), loss="mse", preprocess="center")
    expected_first = train(s, 10)
    save_session(s, tmp_path / "r.nnviz")
    loaded = load_file(tmp_path / "r.nnviz")
    assert loaded.data.task == "regression"
    assert loaded.history.steps.array()[:, 2].tolist() == expected_first
    expected = train(s, 10)
    assert train(loaded.to_session(), 10) == expected


def test_save_network_holds_weights_and_pipeline_only(tmp_path):
    spec = NetworkSpec(3, 2, (LayerSpec(4, "relu"),), loss="softmax", dtype="float32")
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(s).astype(np.float32) for pair in spec.layer_shapes() for s in pair]
    pipeline = InputPipeline("standardize").fit(rng.standard_normal((20, 3)))
    save_network(spec, params, pipeline, tmp_path / "bare.nnviz",
                 train_config=TrainConfig(batch_size=32, seed=9))
    names = set(zipfile.ZipFile(tmp_path / "bare.nnviz").namelist())
    assert names == {"manifest.json", "network.json", "weights.npz", "pipeline.npz"}
    loaded = load_file(tmp_path / "bare.nnviz")
    assert loaded.trainer_state is None and loaded.data is None and loaded.history is None
    assert loaded.train_config.batch_size == 32 and loaded.train_config.seed == 9
    for p, q in zip(loaded.params, params, strict=True):
        assert p.tobytes() == q.tobytes()
    assert loaded.pipeline.mean.tobytes() == pipeline.mean.tobytes()
    s = loaded.to_session(table_data(n=40, d=3, classes=2))
    assert s.network.params[0].tobytes() == params[0].tobytes()
    assert loaded.params[0].flags.writeable is False  # training the session never touches them
    train(s, 5)
    assert loaded.params[0].tobytes() == params[0].tobytes()


def test_save_network_refuses_mismatched_weights(tmp_path):
    spec = NetworkSpec(2, 2, (LayerSpec(3),))
    with pytest.raises(ValueError, match="layer 1"):
        save_network(spec, [np.zeros((2, 4)), np.zeros(4), np.zeros((3, 2)), np.zeros(2)],
                     InputPipeline(), tmp_path / "x.nnviz")
    with pytest.raises(ValueError, match="not fitted"):
        save_network(spec, [np.zeros((2, 3)), np.zeros(3), np.zeros((3, 2)), np.zeros(2)],
                     InputPipeline("center"), tmp_path / "x.nnviz")
    assert not list(tmp_path.iterdir())


def test_feature_expansion_round_trip(tmp_path):
    s = make_session(data=generate("circle", n=120, seed=3), features=("x1", "x2", "x1^2", "x2^2"),
                     preprocess="pca", layers=(4,))
    train(s, 12)
    save_session(s, tmp_path / "f.nnviz")
    loaded = load_file(tmp_path / "f.nnviz")
    assert loaded.pipeline.features == ("x1", "x2", "x1^2", "x2^2")
    expected = train(s, 9)
    assert train(loaded.to_session(), 9) == expected


# --- property: any architecture and settings round-trip --------------------------------
settings_strategy = st.fixed_dictionaries({
    "layers": st.lists(st.integers(1, 6), min_size=0, max_size=3),
    "activation": st.sampled_from(["relu", "tanh", "sigmoid", "leaky_relu", "elu", "softplus", "maxout",
                                   "identity"]),
    "optimizer": st.sampled_from(OPTIMIZER_NAMES),
    "dtype": st.sampled_from(["float64", "float32"]),
    "batch_size": st.integers(1, 50),
    "dropout": st.sampled_from([0.0, 0.0, 0.25]),
    "l2": st.sampled_from([0.0, 1e-3]),
    "l1": st.sampled_from([0.0, 1e-4]),
    "preprocess": st.sampled_from(["none", "center", "standardize", "pca", "whiten"]),
    "residual": st.booleans(),
    "seed": st.integers(0, 2**63 - 1),
    "steps": st.integers(0, 30),
    "test_fraction": st.sampled_from([0.0, 0.25]),
    "include_data": st.booleans(),
    "include_history": st.booleans(),
    "data": st.sampled_from(["spiral", "xor", "plane", "table3", "table_regression"]),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cfg=settings_strategy)
def test_any_session_round_trips(tmp_path, cfg):
    if cfg["data"] == "table3":
        data = table_data(n=45, d=3, classes=3, seed=cfg["seed"] % 100)
    elif cfg["data"] == "table_regression":
        data = table_data(n=45, d=4, task="regression")
    else:
        data = generate(cfg["data"], n=60, noise=0.1, seed=cfg["seed"] % 1000)
    s = make_session(
        data=data, layers=tuple(cfg["layers"]), activation=cfg["activation"], optimizer=cfg["optimizer"],
        hyper={"lr": 0.01}, batch_size=cfg["batch_size"], dtype=cfg["dtype"], dropout=cfg["dropout"],
        l2=cfg["l2"], l1=cfg["l1"], preprocess=cfg["preprocess"], residual=cfg["residual"],
        seed=cfg["seed"], test_fraction=cfg["test_fraction"],
    )
    train(s, cfg["steps"])
    path = tmp_path / "p.nnviz"
    save_session(s, path, include_data=cfg["include_data"], include_history=cfg["include_history"])
    loaded = load_file(path)
    assert loaded.spec == s.spec and loaded.train_config == s.trainer.config
    assert_same_state(loaded.trainer_state, s.trainer.get_state())
    assert (loaded.history is not None) == cfg["include_history"]
    regenerable = "generator" in data.source
    assert (loaded.data is not None) == (cfg["include_data"] or regenerable)
    given_data = None if loaded.data is not None else data
    resumed = loaded.to_session(given_data)
    assert_same_state(resumed.trainer.get_state(), s.trainer.get_state())
    # the next steps agree bit for bit
    expected = train(s, 5)
    assert train(resumed, 5) == expected


def test_incompressible_arrays_are_stored_compressible_ones_deflated(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100_000, 3))
    data = Dataset(X, (X[:, 0] > 0).astype(int), "classification", "noise")
    s = make_session(data=data, layers=(4,), batch_size=500)
    train(s, 3)
    save_session(s, tmp_path / "big.nnviz")
    infos = {i.filename: i for i in zipfile.ZipFile(tmp_path / "big.nnviz").infolist()}
    assert infos["data.npz"].compress_type == zipfile.ZIP_STORED  # random floats: not worth deflating
    assert infos["network.json"].compress_type == zipfile.ZIP_DEFLATED
    loaded = load_file(tmp_path / "big.nnviz")
    assert loaded.data.X.tobytes() == X.tobytes()
