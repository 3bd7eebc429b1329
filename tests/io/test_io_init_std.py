"""The normal initialiser's standard deviation in files: the .nnviz network file and the
JSON spec keep it, older files without it still load, a bad one is refused by name."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from test_io_support import edited, make_session, members, train

from nnviz.core.init import initial_params
from nnviz.io import FileFormatError, load_file, save_session

SPEC = {
    "architecture": {"input_dim": 2, "output_dim": 2, "hidden": [{"units": 16, "activation": "sigmoid"}],
                     "loss": "softmax", "init": "normal", "init_std": 5},
    "training": {"optimizer": {"name": "sgd", "lr": 0.1}, "batch_size": 10, "seed": 3},
    "data": {"generator": "circle", "n": 100, "noise": 0.1, "seed": 0},
}
BAD = [0, -1.0, 1e-9, 1000, "5", True, [5], {"std": 5}]


def _write(tmp_path, doc: dict | str, name: str = "spec.json"):
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_json_spec_draws_with_its_std(tmp_path):
    loaded = load_file(_write(tmp_path, SPEC))
    assert loaded.spec.init == "normal" and loaded.spec.init_std == 5.0
    for p, q in zip(loaded.params, initial_params(loaded.spec, 3), strict=True):
        assert np.array_equal(p, q)
    assert abs(float(loaded.params[0].std()) - 5.0) < 2.0  # 32 weights


def test_json_spec_normal_without_std_gets_the_default(tmp_path):
    doc = copy.deepcopy(SPEC)
    del doc["architecture"]["init_std"]
    assert load_file(_write(tmp_path, doc)).spec.init_std == 1.0


@pytest.mark.parametrize("bad", BAD)
def test_json_spec_bad_std_is_refused(tmp_path, bad):
    doc = copy.deepcopy(SPEC)
    doc["architecture"]["init_std"] = bad
    with pytest.raises(FileFormatError, match="init_std must be") as info:
        load_file(_write(tmp_path, doc))
    assert "spec.json" in str(info.value)


@pytest.mark.parametrize("text", ["NaN", "1e400", "-1e400"])
def test_json_spec_non_finite_std_is_refused(tmp_path, text):
    raw = json.dumps(SPEC).replace('"init_std": 5', f'"init_std": {text}')
    with pytest.raises(FileFormatError, match=r"init_std|NaN"):
        load_file(_write(tmp_path, raw))


def test_json_spec_std_with_another_initialiser_is_refused(tmp_path):
    doc = copy.deepcopy(SPEC)
    doc["architecture"]["init"] = "xavier_normal"
    with pytest.raises(FileFormatError, match="init_std applies to the normal initialiser only"):
        load_file(_write(tmp_path, doc))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    s = make_session(activation="sigmoid", init="normal")
    assert s.spec.init_std == 1.0
    from nnviz.core.session import Session, build_spec

    spec = build_spec(s.data, s.data_config, layers=(8, 8), activation="sigmoid", init="normal",
                      init_std=5.0)
    s = Session(s.data, s.data_config, spec, s.train_config, grid_size=8)
    train(s, 5)
    path = tmp_path_factory.mktemp("std") / "net.nnviz"
    save_session(s, path)
    return path, s


def test_network_file_round_trips_the_std(saved):
    path, s = saved
    loaded = load_file(path)
    assert loaded.spec == s.spec and loaded.spec.init_std == 5.0
    again = loaded.to_session()
    assert again.spec.init_std == 5.0


def test_older_network_file_without_std_loads(tmp_path):
    s = make_session(init="xavier_normal")
    path = tmp_path / "old.nnviz"
    save_session(s, path)
    loaded = load_file(path)
    assert loaded.spec.init == "xavier_normal" and loaded.spec.init_std is None


@pytest.mark.parametrize("bad", BAD)
def test_network_file_bad_std_is_refused(saved, tmp_path, bad):
    path, _ = saved

    def edit(d):
        d["architecture"]["init_std"] = bad

    with pytest.raises(FileFormatError, match="init_std must be") as info:
        load_file(edited(path, tmp_path / "bad.nnviz", network=edit))
    assert "bad.nnviz" in str(info.value)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "1e400"])
def test_network_file_non_finite_std_is_refused(saved, tmp_path, text):
    path, _ = saved
    raw = members(path)["network.json"].decode()
    assert '"init_std": 5.0' in raw
    raw = raw.replace('"init_std": 5.0', f'"init_std": {text}')
    with pytest.raises(FileFormatError, match=r"init_std must be|not a number JSON allows") as info:
        load_file(edited(path, tmp_path / "bad.nnviz", replace={"network.json": raw.encode()}))
    assert "bad.nnviz" in str(info.value)


def test_onnx_keeps_the_std(saved, tmp_path):
    pytest.importorskip("onnx")
    from nnviz.io.onnx_export import export_onnx
    from nnviz.io.onnx_import import import_onnx

    path, _ = saved
    loaded = load_file(path)
    export_onnx(loaded.spec, loaded.params, loaded.pipeline, tmp_path / "m.onnx")
    spec, _, _ = import_onnx(tmp_path / "m.onnx")
    assert spec.init == "normal" and spec.init_std == 5.0
