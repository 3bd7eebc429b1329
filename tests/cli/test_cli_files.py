"""The command line with network files: save, info, continue, predict, ONNX."""

import csv

import numpy as np
import pytest

from nnviz.cli import main
from nnviz.core.data import generate
from nnviz.io import load_file, write_dataset_csv


def _train(tmp_path, *extra, name="net.nnviz"):
    out = tmp_path / name
    argv = ["train", "--data", "spiral", "--arms", "3", "--layers", "12,12", "--batch-size", "16",
            "--quiet", "--out", str(out), *extra]
    return main(argv), out


def test_save_info_and_exact_continuation(tmp_path, capsys):
    rc, first = _train(tmp_path, "--steps", "70", "--dropout", "0.1", name="a.nnviz")
    assert rc == 0
    rc = main(["train", str(first), "--steps", "50", "--quiet", "--out", str(tmp_path / "b.nnviz")])
    assert rc == 0
    rc, whole = _train(tmp_path, "--steps", "120", "--dropout", "0.1", name="c.nnviz")
    assert rc == 0
    b, c = load_file(tmp_path / "b.nnviz"), load_file(whole)
    assert all(np.array_equal(x, y) for x, y in zip(b.params, c.params, strict=True))
    assert b.trainer_state["step"] == 120
    capsys.readouterr()
    assert main(["info", str(whole)]) == 0
    out = capsys.readouterr().out
    assert "2 -> 12 relu -> 12 relu -> 3 (softmax)" in out and "step 120" in out


def test_fresh_network_with_zero_steps(tmp_path):
    rc, out = _train(tmp_path, "--steps", "0")
    assert rc == 0
    f = load_file(out)
    assert f.trainer_state is None or f.trainer_state["step"] == 0


def test_predict_writes_columns_and_reports_accuracy(tmp_path, capsys):
    rc, net = _train(tmp_path, "--steps", "1500", "--preprocess", "standardize")
    assert rc == 0
    data_csv = tmp_path / "points.csv"
    write_dataset_csv(generate("spiral", n=90, seed=8, arms=3), data_csv)
    out = tmp_path / "pred.csv"
    capsys.readouterr()
    assert main(["predict", str(net), "--data", str(data_csv), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "accuracy" in err
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 90 and {"prediction", "p0", "p1", "p2"} <= set(rows[0])
    assert abs(sum(float(rows[0][k]) for k in ("p0", "p1", "p2")) - 1) < 1e-9


def test_divergence_saves_the_last_finite_state(tmp_path, capsys):
    out = tmp_path / "div.nnviz"
    rc = main(["train", "--data", "plane", "--layers", "16,16", "--activation", "identity",
               "--optimizer", "sgd", "--lr", "50", "--steps", "500", "--quiet", "--out", str(out)])
    assert rc == 1 and "diverged at step" in capsys.readouterr().err
    assert all(np.isfinite(p).all() for p in load_file(out).params)


def test_bad_files_are_one_line_errors(tmp_path, capsys):
    bad = tmp_path / "bad.nnviz"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip")
    assert main(["info", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nnviz: ") and "\n" not in err and "bad.nnviz" in err
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text("a,b,label\n1,2,x\n3,oops,y\n")
    assert main(["train", "--data", str(csv_path), "--steps", "5", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "oops" in err or "row 3" in err


def test_onnx_export_and_import(tmp_path, capsys):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    rc, net = _train(tmp_path, "--steps", "200", "--preprocess", "whiten")
    assert rc == 0
    onnx_path = tmp_path / "net.onnx"
    assert main(["export", str(net), str(onnx_path)]) == 0
    f = load_file(net)
    X = generate("spiral", n=20, seed=5, arms=3).X.astype(np.float64)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    feed = {sess.get_inputs()[0].name: X.astype(f.params[0].dtype)}
    outputs = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feed), strict=True))
    expected = f.network().scores(f.pipeline.transform(X))
    np.testing.assert_allclose(outputs["logits"], expected, rtol=1e-5, atol=1e-5)
    back = tmp_path / "back.nnviz"
    assert main(["import", str(onnx_path), str(back)]) == 0
    assert load_file(back).spec.widths == f.spec.widths


def test_export_without_onnx_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    rc, net = _train(tmp_path, "--steps", "5")
    assert rc == 0
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)  # as if not installed
    assert main(["export", str(net), str(tmp_path / "x.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nnviz: ONNX") and "nnviz[onnx]" in err and "\n" not in err
    assert not (tmp_path / "x.onnx").exists()
