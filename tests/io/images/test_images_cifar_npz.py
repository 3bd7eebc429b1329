"""CIFAR-10 binary batches and .npz archives: layout, scaling, and refusals (pickles
above all: never unpickled)."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
from imgdata_fixtures import cifar_records

from nnviz.io.errors import FileFormatError
from nnviz.io.images import load_cifar_batches, load_cifar_folder, load_image_data, load_npz_images
from nnviz.io.images.cifar import CLASSES


def test_two_record_batch_is_channels_last(tmp_path):
    data, x, y = cifar_records(2)
    (tmp_path / "data_batch_1.bin").write_bytes(data)
    got = load_image_data(tmp_path / "data_batch_1.bin")
    assert got.shape == (32, 32, 3)
    assert got.dataset.X.shape == (2, 3072)
    np.testing.assert_allclose(got.image(1), x[1] / 255.0)
    np.testing.assert_array_equal(got.dataset.y, y)
    assert got.dataset.class_names == CLASSES
    assert got.dataset.feature_names[:3] == ("pixel 0,0 R", "pixel 0,0 G", "pixel 0,0 B")


def test_folder_with_meta_and_test_batch(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    d1, _, _ = cifar_records(4, seed=1, classes=3)
    d2, x2, _ = cifar_records(2, seed=2, classes=3)
    (folder / "data_batch_1.bin").write_bytes(d1)
    (folder / "test_batch.bin").write_bytes(d2)
    (folder / "batches.meta.txt").write_text("cat\ndog\nfrog\n\n")
    (folder / "readme.html").write_text("<p>never read</p>")
    got = load_image_data(folder)
    assert got.n_train == 4 and got.n_test == 2
    assert got.dataset.class_names == ("cat", "dog", "frog")
    np.testing.assert_allclose(got.image(5), x2[1] / 255.0)


def test_subsample(tmp_path):
    data, _, _ = cifar_records(40)
    (tmp_path / "b.bin").write_bytes(data)
    got = load_cifar_batches([tmp_path / "b.bin"], max_examples=20, seed=1)
    assert len(got.dataset) == 20 and np.bincount(got.dataset.y).tolist() == [2] * 10


@pytest.mark.parametrize(("cut", "message"), [(1, "whole number of 3,073-byte records"),
                                             (3073 * 2, "empty")])
def test_truncated_and_empty_batches(tmp_path, cut, message):
    data, _, _ = cifar_records(2)
    (tmp_path / "b.bin").write_bytes(data[:-cut])
    with pytest.raises(FileFormatError, match=message) as info:
        load_image_data(tmp_path / "b.bin")
    assert "b.bin" in str(info.value)


def test_cifar100_records_are_explained(tmp_path):
    (tmp_path / "train.bin").write_bytes(bytes(3074 * 3))
    with pytest.raises(FileFormatError, match="CIFAR-100"):
        load_image_data(tmp_path / "train.bin")


def test_label_out_of_range(tmp_path):
    data = bytearray(cifar_records(2)[0])
    data[3073] = 11
    (tmp_path / "b.bin").write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="record 2 has the label 11"):
        load_image_data(tmp_path / "b.bin")


class _Boom:
    def __reduce__(self):
        return (pytest.fail, ("a pickle was loaded",))


@pytest.mark.parametrize("name", ["data_batch_1", "data_batch_1.bin", "cifar-10-python.tar.gz"])
def test_pickles_are_refused_never_loaded(tmp_path, name):
    (tmp_path / name).write_bytes(pickle.dumps({"data": _Boom()}, protocol=2))
    with pytest.raises(FileFormatError, match="never unpickles"):
        load_image_data(tmp_path / name)


def test_python_version_folder_is_refused(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "data_batch_1").write_bytes(pickle.dumps({"data": _Boom()}, protocol=2))
    with pytest.raises(FileFormatError, match="binary version"):
        load_cifar_folder(folder)


def test_the_archive_itself_asks_to_be_extracted(tmp_path):
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(b"\x1f\x8b" + bytes(30))
    with pytest.raises(FileFormatError, match="extract it"):
        load_image_data(tmp_path / "cifar-10-binary.tar.gz")


def test_bad_meta_file(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "data_batch_1.bin").write_bytes(cifar_records(2)[0])
    (folder / "batches.meta.txt").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(FileFormatError, match=r"batches\.meta\.txt: is not text"):
        load_cifar_folder(folder)


# --- npz ----------------------------------------------------------------------------------
def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("shape", [(6, 4, 5), (6, 4, 5, 3), (6, 16)])
def test_npz_shapes(tmp_path, shape):
    x = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    y = np.arange(6) % 2
    got = load_image_data(_npz(tmp_path / "d.npz", x=x, y=y))
    expected = {3: (4, 5, 1), 4: (4, 5, 3), 2: (4, 4, 1)}[len(shape)]
    assert got.shape == expected
    np.testing.assert_allclose(got.dataset.X, x.reshape(6, -1) / 255.0)
    assert got.dataset.class_names == ("0", "1")


def test_npz_float_names_and_shape(tmp_path):
    x = np.random.default_rng(0).uniform(0, 1, (4, 6))
    path = _npz(tmp_path / "d.npz", x=x, y=np.array([0, 1, 2, 0]), class_names=np.array(["a", "b", "c"]),
                shape=np.array([2, 3, 1]))
    got = load_npz_images(path)
    assert got.shape == (2, 3, 1) and got.dataset.class_names == ("a", "b", "c")
    np.testing.assert_allclose(got.dataset.X, x)


def test_npz_flat_not_square_is_one_row(tmp_path):
    got = load_npz_images(_npz(tmp_path / "d.npz", x=np.zeros((3, 7), np.uint8), y=np.zeros(3, int)))
    assert got.shape == (1, 7, 1)


@pytest.mark.parametrize(("arrays", "message"), [
    ({"x": np.zeros((3, 4, 4), np.uint8)}, "no array 'y'"),
    ({"x": np.zeros((3, 4, 4), np.uint8), "y": np.zeros(2, int)}, "one label for each"),
    ({"x": np.zeros((3, 4, 4), np.uint8), "y": np.zeros(3)}, "whole numbers"),
    ({"x": np.zeros((3, 4, 4), np.int32), "y": np.zeros(3, int)}, "unsigned bytes"),
    ({"x": np.zeros((0, 4, 4), np.uint8), "y": np.zeros(0, int)}, "n >= 1"),
    ({"x": np.zeros((3,), np.uint8), "y": np.zeros(3, int)}, "shape"),
    ({"x": np.full((3, 4), np.nan), "y": np.zeros(3, int)}, "NaN"),
    ({"x": np.full((3, 4), 2.0), "y": np.zeros(3, int)}, "outside 0..1"),
    ({"x": np.zeros((3, 4), np.uint8), "y": np.array([0, -1, 0])}, "labels must be >= 0"),
    ({"x": np.zeros((3, 4), np.uint8), "y": np.array([0, 5000, 0])}, "label 5000"),
    ({"x": np.zeros((3, 4, 4, 2), np.uint8), "y": np.zeros(3, int)}, "2 channels"),
    ({"x": np.zeros((3, 4), np.uint8), "y": np.zeros(3, int), "shape": np.array([2, 3, 1])}, "product"),
    ({"x": np.zeros((3, 4), np.uint8), "y": np.array([0, 2, 1]), "class_names": np.array(["a", "b"])},
     "the set has 2 classes"),
])
def test_npz_refusals(tmp_path, arrays, message):
    with pytest.raises(FileFormatError, match=message) as info:
        load_npz_images(_npz(tmp_path / "d.npz", **arrays))
    assert "d.npz" in str(info.value)


def test_npz_object_arrays_are_never_unpickled(tmp_path):
    x = np.empty(3, dtype=object)
    x[:] = [_Boom(), 1, 2]
    np.savez(tmp_path / "d.npz", x=x, y=np.zeros(3, int))
    with pytest.raises(FileFormatError, match="never unpickles"):
        load_npz_images(tmp_path / "d.npz")


@pytest.mark.parametrize("data", [b"not a zip at all", b"PK\x03\x04garbage"])
def test_npz_corrupt(tmp_path, data):
    (tmp_path / "d.npz").write_bytes(data)
    with pytest.raises(FileFormatError, match=r"d\.npz"):
        load_npz_images(tmp_path / "d.npz")


def test_npz_truncated_member(tmp_path):
    buf = io.BytesIO()
    np.savez(buf, x=np.zeros((50, 8, 8), np.uint8), y=np.zeros(50, int))
    data = buf.getvalue()
    (tmp_path / "d.npz").write_bytes(data[: len(data) - 200])
    with pytest.raises(FileFormatError, match=r"d\.npz"):
        load_npz_images(tmp_path / "d.npz")


def test_npz_budget(tmp_path, monkeypatch):
    import nnviz.io.images.common as common

    monkeypatch.setattr(common, "BUDGET_BYTES", 500_000)
    path = _npz(tmp_path / "d.npz", x=np.zeros((200, 8, 8), np.uint8), y=np.arange(200) % 4)
    with pytest.raises(FileFormatError, match=r"--examples"):
        load_npz_images(path)
    got = load_npz_images(path, max_examples=40, seed=2)
    assert np.bincount(got.dataset.y).tolist() == [10] * 4


def test_npz_damaged_compressed_member(tmp_path):
    buf = io.BytesIO()
    np.savez_compressed(buf, x=np.random.default_rng(0).integers(0, 256, (50, 8, 8), dtype=np.uint8),
                        y=np.zeros(50, int))
    data = bytearray(buf.getvalue())
    data[200:220] = bytes(20)
    (tmp_path / "d.npz").write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match=r"d\.npz: its member"):
        load_npz_images(tmp_path / "d.npz")


def test_npy_is_not_npz(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros(3))
    (tmp_path / "a.npy").rename(tmp_path / "a.npz")
    with pytest.raises(FileFormatError, match=r"single \.npy array"):
        load_npz_images(tmp_path / "a.npz")
