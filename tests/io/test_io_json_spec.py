"""Hand-written JSON specs: architecture and settings, weights drawn from the seed."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_io_support import table_data

from nnviz.core.data import generate
from nnviz.core.network import Network
from nnviz.io import FileFormatError, load_file, save_session

XOR_SPEC = {
    "architecture": {"input_dim": 2, "output_dim": 1, "hidden": [{"units": 2, "activation": "tanh"}],
                     "loss": "logistic"},
    "training": {"optimizer": {"name": "adam", "lr": 0.05}, "batch_size": 10, "seed": 3},
    "data": {"generator": "xor", "n": 200, "noise": 0.05, "seed": 0, "test_fraction": 0.2,
             "preprocess": "none", "features": []},
}


def write(tmp_path, doc, name="spec.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


def test_spec_with_a_built_in_data_set(tmp_path):
    loaded = load_file(write(tmp_path, XOR_SPEC))
    assert loaded.kind == "spec" and loaded.trainer_state is None and loaded.history is None
    assert loaded.train_config.optimizer.name == "adam" and loaded.train_config.seed == 3
    assert loaded.data.X.tobytes() == generate("xor", n=200, noise=0.05, seed=0).X.tobytes()
    fresh = Network.initialised(loaded.spec, 3)
    for p, q in zip(loaded.params, fresh.params, strict=True):
        assert p.tobytes() == q.tobytes()
    s = loaded.to_session()
    assert len(s.split.test) == 40
    s.trainer.run(20)


def test_spec_without_data_takes_data_in_to_session(tmp_path):
    doc = {"architecture": {"input_dim": 3, "output_dim": 3, "hidden": [{"units": 4}]},
           "data": {"preprocess": "standardize", "test_fraction": 0.1}}
    loaded = load_file(write(tmp_path, doc))
    assert loaded.data is None and not loaded.pipeline.fitted
    with pytest.raises(FileFormatError, match="holds no data set"):
        loaded.to_session()
    s = loaded.to_session(table_data(n=50, d=3))
    assert s.pipeline.fitted and s.pipeline.method == "standardize"


def test_preprocessing_is_fitted_on_the_training_split(tmp_path):
    doc = {**XOR_SPEC, "data": {**XOR_SPEC["data"], "preprocess": "whiten"}}
    loaded = load_file(write(tmp_path, doc))
    s = loaded.to_session()
    np.testing.assert_array_equal(loaded.pipeline.mean, s.split.train.X.mean(axis=0))


def test_inline_truth_table(tmp_path):
    doc = {"architecture": {"input_dim": 2, "output_dim": 2},
           "data": {"X": [[0, 0], [0, 1], [1, 0], [1, 1]], "y": [0, 0, 0, 1], "name": "and",
                    "class_names": ["no", "yes"], "test_fraction": 0}}
    loaded = load_file(write(tmp_path, doc))
    assert loaded.data.name == "and" and loaded.data.class_names == ("no", "yes")
    s = loaded.to_session()
    s.trainer.run(3)
    save_session(s, tmp_path / "and.nnviz")
    assert load_file(tmp_path / "and.nnviz").data.y.tolist() == [0, 0, 0, 1]


def test_a_saved_spec_session_resumes_exactly(tmp_path):
    s = load_file(write(tmp_path, XOR_SPEC)).to_session()
    s.trainer.run(30)
    save_session(s, tmp_path / "x.nnviz", include_data=False)
    resumed = load_file(tmp_path / "x.nnviz").to_session()
    assert [r.loss for r in s.trainer.run(10)] == [r.loss for r in resumed.trainer.run(10)]


@pytest.mark.parametrize("doc, match", [
    ({}, "lacks 'architecture'"),
    ({"architecture": {"input_dim": 2}}, "lacks 'output_dim'"),
    ({"architecture": {"input_dim": 2, "output_dim": 2, "hidden": [{"units": 0}]}}, "units must be"),
    ({"architecture": {"input_dim": 2, "output_dim": 2}, "extra": 1}, "unknown field(s) 'extra'"),
    ({"architecture": {"input_dim": 2, "output_dim": 2}, "training": {"batch_size": 0}}, "batch size"),
    ({"architecture": {"input_dim": 2, "output_dim": 2}, "training": {"seed": -1}}, "seed"),
    ({"architecture": {"input_dim": 2, "output_dim": 2}, "training": {"lr": 0.1}}, "unknown field(s) 'lr'"),
    ({"architecture": {"input_dim": 2, "output_dim": 2}, "format_version": 3}, "newer than the version 2"),
    ({"architecture": {"input_dim": 2, "output_dim": 2}, "format": "nnviz-network"}, "unpacked .nnviz"),
    ({**XOR_SPEC, "architecture": {**XOR_SPEC["architecture"], "input_dim": 3}},
     "the xor data does not fit the architecture: the network has 3 inputs; the data has 2"),
    ({**XOR_SPEC, "architecture": {**XOR_SPEC["architecture"], "loss": "mse"}}, "mse loss is for regression"),
    ({**XOR_SPEC, "data": {"generator": "swirl"}}, "'swirl' is not a built-in data set"),
    ({**XOR_SPEC, "data": {"generator": "xor", "n": 10**9}}, "data.n must be in"),
    ({**XOR_SPEC, "data": {"generator": "xor", "noise": "lots"}}, "data.noise must be a finite number"),
    ({**XOR_SPEC, "data": {"generator": "xor", "arms": 3}}, "unknown field(s) 'arms'"),
    ({**XOR_SPEC, "data": {"n": 10}}, "neither a generator nor inline"),
    ({**XOR_SPEC, "data": {"X": [[0, 0], [1]], "y": [0, 1]}}, "data.X[1] has 1 values"),
    ({**XOR_SPEC, "data": {"X": [[0, 0]], "y": [0, 1]}}, "1 rows but data.y has 2"),
    ({**XOR_SPEC, "data": {"X": [[0, "a"]], "y": [0]}}, "data.X[0][1] must be a finite number"),
    ({**XOR_SPEC, "data": {"X": [[0, 0]], "y": [-1]}}, "class numbers"),
    ({**XOR_SPEC, "data": {"preprocess": "zscore"}}, "unknown preprocessing 'zscore'"),
    ({**XOR_SPEC, "data": {"features": ["x1", "x2", "x1*x2"]}}, "3 input features"),
    ('{"architecture": {"input_dim": 2, "output_dim": 2}, "architecture": {}}', "appears twice"),
    ('{"architecture": {"input_dim": Infinity, "output_dim": 2}}', "not a number JSON allows"),
    ('{"architecture": {"input_dim": 2, "output_dim": 2},}', "not valid JSON"),
])
def test_bad_specs(tmp_path, doc, match):
    with pytest.raises(FileFormatError) as info:
        load_file(write(tmp_path, doc))
    assert str(info.value).startswith("spec.json: ")
    assert match in str(info.value), str(info.value)


def test_huge_but_legal_architecture_is_refused_past_the_cap(tmp_path):
    doc = {"architecture": {"input_dim": 65536, "output_dim": 65536, "hidden": [{"units": 65536}]}}
    with pytest.raises(FileFormatError, match="parameters is more than"):
        load_file(write(tmp_path, doc))
