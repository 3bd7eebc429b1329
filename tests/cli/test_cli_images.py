"""nnviz train on image data: files the user names and published sets from the cache."""

from __future__ import annotations

import numpy as np

from nnviz.cli import main
from nnviz.io.images.cache import set_folder
from tests.io.images.imgdata_fixtures import write_idx_folder


def test_train_on_an_npz_of_images(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (120, 8, 8), dtype=np.uint8)
    y = (np.arange(120) % 4).astype(np.int64)
    np.savez(tmp_path / "tiny.npz", x=x, y=y)
    out = tmp_path / "net.nnviz"
    assert main(["train", "--data", str(tmp_path / "tiny.npz"), "--layers", "16", "--steps", "30",
                 "--out", str(out), "--quiet"]) == 0
    assert out.is_file()
    err = capsys.readouterr().err
    # the defaults it brought are said; --layers was given, so the layers are not
    assert "mean image subtracted" in err and "in float32, the images' precision" in err
    assert "-100-" not in err and "--preprocess, --dtype, --lr change them" in err
    assert "adam at lr 0.001" in err
    assert main(["info", str(out)]) == 0
    assert "64" in capsys.readouterr().out
    assert main(["train", "--data", str(tmp_path / "tiny.npz"), "--layers", "16", "--steps", "3",
                 "--dtype", "float64", "--out", str(out), "--quiet"]) == 0
    assert "float32" not in capsys.readouterr().err  # asked for: no note


def test_train_on_mnist_from_the_cache_subsampled(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NNVIZ_DATA_DIR", str(tmp_path / "cache"))
    write_idx_folder(set_folder("mnist"), n_train=150, n_test=50, h=28, w=28)
    assert main(["train", "--data", "mnist", "--examples", "120", "--layers", "8", "--steps", "20",
                 "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "120" in err  # the sample drawn is said


def test_an_unknown_name_lists_the_image_sets_too(capsys):
    assert main(["train", "--data", "mnistt", "--steps", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "mnist" in err and "cifar10" in err and "spiral" in err


def test_a_broken_image_file_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 nope")
    assert main(["train", "--data", str(bad), "--steps", "1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.npz" in err[0]


def test_image_data_brings_the_image_defaults_on_the_command_line(tmp_path, capsys):
    """``nnviz train --data images.npz`` trains what the window would: the mean image
    subtracted, 784-100-10-like, float32, and the saved network says so."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (80, 6, 6), dtype=np.uint8)
    y = (np.arange(80) % 4).astype(np.int64)
    np.savez(tmp_path / "faces.npz", x=x, y=y)
    out = tmp_path / "net.nnviz"
    assert main(["train", "--data", str(tmp_path / "faces.npz"), "--steps", "5", "--out", str(out),
                 "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "image data: mean image subtracted, 36-100-4, in float32" in err and "adam at lr 0.001" in err
    assert main(["info", str(out)]) == 0
    info = capsys.readouterr().out
    assert "36 -> 100 relu -> 4" in info
    assert "preprocessing center" in info
    assert "float32" in info
    assert "adam (lr=0.001" in info
    # gradient descent keeps its own learning rate; one given is never overridden
    assert main(["train", "--data", str(tmp_path / "faces.npz"), "--steps", "2", "--out", str(out),
                 "--optimizer", "sgd", "--quiet"]) == 0
    assert "at lr" not in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path / "faces.npz"), "--steps", "2", "--out", str(out),
                 "--lr", "0.02", "--quiet"]) == 0
    assert "at lr" not in capsys.readouterr().err
    assert main(["info", str(out)]) == 0
    assert "adam (lr=0.02" in capsys.readouterr().out
