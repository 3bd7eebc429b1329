"""IDX files (MNIST, Fashion-MNIST): shapes, scaling, subsampling, and every broken file
refused with its name."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from imgdata_fixtures import idx_bytes, images, labels, write_idx_folder

from nnviz.io.errors import FileFormatError
from nnviz.io.images import load_idx_folder, load_idx_pairs, load_image_data, read_idx_file
from nnviz.io.images.idx import FASHION_CLASSES


@pytest.mark.parametrize("gz", [False, True])
def test_folder_loads_train_then_test_scaled(tmp_path, gz):
    x, y = write_idx_folder(tmp_path / "mnist", gz=gz)
    got = load_idx_folder(tmp_path / "mnist")
    assert got.shape == (4, 4, 1)
    assert got.n_train == 6 and got.n_test == 3
    d = got.dataset
    assert d.task == "classification" and d.X.shape == (9, 16)
    np.testing.assert_allclose(d.X, x.reshape(9, 16) / 255.0)
    np.testing.assert_array_equal(d.y, y)
    assert d.class_names == ("0", "1", "2")
    assert d.feature_names[:2] == ("pixel 0,0", "pixel 0,1")
    np.testing.assert_allclose(got.image(4)[..., 0], x[4] / 255.0)
    assert d.X.min() >= 0.0 and d.X.max() <= 1.0


def test_load_image_data_dispatches_to_idx(tmp_path):
    write_idx_folder(tmp_path / "m")
    assert load_image_data(tmp_path / "m").shape == (4, 4, 1)


def test_only_train_pair(tmp_path):
    write_idx_folder(tmp_path / "m", n_test=0)
    got = load_idx_folder(tmp_path / "m")
    assert len(got.dataset) == 6 and got.n_train == 6


def test_pairs_and_class_names(tmp_path):
    x, y = images(5), labels(5)
    (tmp_path / "a").write_bytes(idx_bytes(x))
    (tmp_path / "b").write_bytes(gzip.compress(idx_bytes(y)))
    got = load_idx_pairs([(tmp_path / "a", tmp_path / "b")], class_names=FASHION_CLASSES)
    assert got.dataset.class_names == FASHION_CLASSES
    assert got.n_train == 5


def test_subsample_is_seeded_stratified_and_keeps_the_split(tmp_path):
    write_idx_folder(tmp_path / "m", n_train=60, n_test=30)
    a = load_idx_folder(tmp_path / "m", max_examples=30, seed=3)
    b = load_idx_folder(tmp_path / "m", max_examples=30, seed=3)
    c = load_idx_folder(tmp_path / "m", max_examples=30, seed=4)
    assert len(a.dataset) == 30
    np.testing.assert_array_equal(a.dataset.X, b.dataset.X)
    assert not np.array_equal(a.dataset.X, c.dataset.X)
    assert np.bincount(a.dataset.y).tolist() == [10, 10, 10]
    assert 0 < a.n_train < 30


def test_single_idx_file_is_refused_with_advice(tmp_path):
    write_idx_folder(tmp_path / "m")
    with pytest.raises(FileFormatError, match="give the folder"):
        load_image_data(tmp_path / "m" / "train-images-idx3-ubyte")


def test_missing_half_of_a_pair(tmp_path):
    write_idx_folder(tmp_path / "m")
    (tmp_path / "m" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileFormatError, match="t10k-labels-idx1-ubyte"):
        load_idx_folder(tmp_path / "m")


def test_empty_folder_names_expected_files(tmp_path):
    (tmp_path / "m").mkdir()
    with pytest.raises(FileFormatError, match="train-images-idx3-ubyte"):
        load_idx_folder(tmp_path / "m")


def _broken(tmp_path, data: bytes, name="train-images-idx3-ubyte"):
    folder = tmp_path / "m"
    write_idx_folder(folder, n_test=0)
    (folder / name).write_bytes(data)
    return folder


@pytest.mark.parametrize(("data", "message"), [
    (b"", "ends in the header"),
    (b"\x00\x00\x08", "ends in the header"),
    (b"PK\x03\x04" + b"\0" * 40, "not an IDX file"),
    (b"\x00\x00\x0d\x03" + struct.pack(">3I", 6, 4, 4) + b"\0" * 384, "32-bit float"),
    (b"\x00\x00\x07\x03" + struct.pack(">3I", 6, 4, 4), "unknown value type"),
    (b"\x00\x00\x08\x02" + struct.pack(">2I", 6, 16) + b"\0" * 96, "2 dimensions"),
    (b"\x00\x00\x08\x03" + struct.pack(">3I", 6, 0, 4), "empty dimension"),
    (b"\x00\x00\x08\x03" + struct.pack(">3I", 0xFFFFFFFF, 4, 4), "examples"),
    (b"\x00\x00\x08\x03" + struct.pack(">3I", 6, 60000, 60000), "values an example"),
    (b"\x00\x00\x08\x03" + struct.pack(">3I", 6, 4, 4) + b"\0" * 50, "truncated"),
    (b"\x00\x00\x08\x03" + struct.pack(">3I", 6, 4, 4) + b"\0" * 97, "more data than its header"),
])
def test_corrupt_image_files(tmp_path, data, message):
    folder = _broken(tmp_path, data)
    with pytest.raises(FileFormatError, match=message) as info:
        load_idx_folder(folder)
    assert "train-images-idx3-ubyte" in str(info.value)


def test_truncated_gzip(tmp_path):
    data = gzip.compress(idx_bytes(images(6)))
    folder = tmp_path / "m"
    write_idx_folder(folder, n_test=0, gz=True)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match=r"train-images-idx3-ubyte\.gz"):
        load_idx_folder(folder)


def test_corrupt_gzip_crc(tmp_path):
    data = bytearray(gzip.compress(idx_bytes(images(6))))
    data[-8] ^= 0xFF  # the CRC
    folder = tmp_path / "m"
    write_idx_folder(folder, n_test=0, gz=True)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="damaged"):
        load_idx_folder(folder)


def test_gzip_header_asking_for_more_than_gzip_can_hold(tmp_path):
    header = b"\x00\x00\x08\x03" + struct.pack(">3I", 5_000_000, 100, 100)
    folder = tmp_path / "m"
    write_idx_folder(folder, n_test=0, gz=True)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(header))
    with pytest.raises(FileFormatError, match="more than a gzip file"):
        load_idx_folder(folder)


def test_label_count_mismatch(tmp_path):
    folder = _broken(tmp_path, idx_bytes(labels(5)), "train-labels-idx1-ubyte")
    with pytest.raises(FileFormatError, match="5 labels but train-images-idx3-ubyte has 6 images"):
        load_idx_folder(folder)


def test_labels_beyond_the_class_names(tmp_path):
    y = labels(6)
    y[2] = 200
    folder = _broken(tmp_path, idx_bytes(y), "train-labels-idx1-ubyte")
    with pytest.raises(FileFormatError, match="example 3 has the label 200; the set has 10 classes"):
        load_idx_pairs([(folder / "train-images-idx3-ubyte", folder / "train-labels-idx1-ubyte")],
                       class_names=tuple("abcdefghij"))


def test_shapes_of_train_and_test_must_agree(tmp_path):
    folder = tmp_path / "m"
    write_idx_folder(folder)
    (folder / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(images(3, 5, 5)))
    with pytest.raises(FileFormatError, match="5x5x1"):
        load_idx_folder(folder)


def test_memory_budget_refusal_suggests_examples(tmp_path, monkeypatch):
    import nnviz.io.images.common as common

    monkeypatch.setattr(common, "BUDGET_BYTES", 200_000)
    write_idx_folder(tmp_path / "m", n_train=60, n_test=30)
    with pytest.raises(FileFormatError, match=r"--examples \d+"):
        load_idx_folder(tmp_path / "m")
    assert len(load_idx_folder(tmp_path / "m", max_examples=20).dataset) == 20


def test_read_idx_file_and_bad_max_examples(tmp_path):
    (tmp_path / "f").write_bytes(idx_bytes(labels(4)))
    assert read_idx_file(tmp_path / "f").tolist() == [0, 1, 2, 0]
    write_idx_folder(tmp_path / "m")
    with pytest.raises(ValueError, match="max_examples"):
        load_idx_folder(tmp_path / "m", max_examples=0)


def test_a_fifo_is_refused_not_opened(tmp_path):
    import os

    folder = tmp_path / "m"
    write_idx_folder(folder, n_test=0)
    (folder / "train-labels-idx1-ubyte").unlink()
    os.mkfifo(folder / "train-labels-idx1-ubyte")
    with pytest.raises(FileFormatError, match="named pipe"):
        load_idx_folder(folder)
