"""A folder of class sub-folders of PNG/JPEG images (Pillow): one size and mode, limits
checked before decoding, nothing skipped silently."""

from __future__ import annotations

import struct
import sys
import zlib

import numpy as np
import pytest

from nnviz.io.errors import FileFormatError
from nnviz.io.images import load_image_data, load_image_folder

Image = pytest.importorskip("PIL.Image")


def _png(path, arr):
    Image.fromarray(arr).save(path, format="PNG")


def _tree(root, n=3, size=(4, 4), rgb=False, classes=("cat", "dog")):
    rng = np.random.default_rng(0)
    made = {}
    for c in classes:
        (root / c).mkdir(parents=True)
        for k in range(n):
            shape = (*size, 3) if rgb else size
            arr = rng.integers(0, 256, shape, dtype=np.uint8)
            _png(root / c / f"{k}.png", arr)
            made[(c, k)] = arr
    return made


def test_gray_folder(tmp_path):
    made = _tree(tmp_path / "pets")
    got = load_image_data(tmp_path / "pets")
    assert got.shape == (4, 4, 1)
    assert got.dataset.class_names == ("cat", "dog")
    assert got.dataset.y.tolist() == [0, 0, 0, 1, 1, 1]
    np.testing.assert_allclose(got.image(3)[..., 0], made[("dog", 0)] / 255.0)
    assert got.notes == () and got.n_train == 6


def test_rgb_and_mixed_sizes_become_one(tmp_path):
    _tree(tmp_path / "p", rgb=True)
    _png(tmp_path / "p" / "dog" / "big.png", np.zeros((8, 8, 3), np.uint8))
    Image.fromarray(np.full((4, 4), 128, np.uint8)).save(tmp_path / "p" / "cat" / "g.jpg", format="JPEG")
    got = load_image_folder(tmp_path / "p")
    assert got.shape == (4, 4, 3) and len(got.dataset) == 8
    got = load_image_folder(tmp_path / "p", size=(2, 3), mode="L")
    assert got.shape == (2, 3, 1) and got.dataset.X.shape == (8, 6)


def test_large_default_size_is_made_smaller(tmp_path):
    _tree(tmp_path / "p", n=1, size=(200, 100))
    got = load_image_folder(tmp_path / "p")
    h, w, c = got.shape
    assert c == 1 and h * w <= 4096 and abs(h / w - 2) < 0.1


def test_non_images_are_counted_not_silent(tmp_path):
    _tree(tmp_path / "p")
    (tmp_path / "p" / "cat" / "notes.txt").write_text("hi")
    (tmp_path / "p" / "cat" / ".DS_Store").write_bytes(b"\0")
    (tmp_path / "p" / "README.md").write_text("about")
    got = load_image_folder(tmp_path / "p")
    assert len(got.dataset) == 6
    assert got.notes and got.notes[0].startswith("3 entries")


def test_a_broken_image_is_an_error_naming_it(tmp_path):
    _tree(tmp_path / "p")
    (tmp_path / "p" / "dog" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(FileFormatError, match=r"bad\.png"):
        load_image_folder(tmp_path / "p")


def test_a_truncated_image_is_an_error_naming_it(tmp_path):
    _tree(tmp_path / "p", size=(32, 32))
    good = (tmp_path / "p" / "dog" / "0.png").read_bytes()
    (tmp_path / "p" / "dog" / "0.png").write_bytes(good[: len(good) // 2])
    with pytest.raises(FileFormatError, match=r"0\.png"):
        load_image_folder(tmp_path / "p")


def test_other_formats_are_refused_whatever_the_name(tmp_path):
    _tree(tmp_path / "p")
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "p" / "cat" / "x.png", format="GIF")
    with pytest.raises(FileFormatError, match=r"x\.png: in the class folder 'cat', cannot be read as a PNG"):
        load_image_folder(tmp_path / "p")


def _png_header_only(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


@pytest.mark.parametrize("side", [5000, 60000])
def test_decompression_bombs_refused_before_decoding(tmp_path, side):
    _tree(tmp_path / "p")
    (tmp_path / "p" / "cat" / "bomb.png").write_bytes(_png_header_only(side, side))
    with pytest.raises(FileFormatError, match=r"bomb\.png"):
        load_image_folder(tmp_path / "p")


def test_needs_two_classes_with_images(tmp_path):
    _tree(tmp_path / "p", classes=("only",))
    with pytest.raises(FileFormatError, match="at least two"):
        load_image_folder(tmp_path / "p")
    _tree(tmp_path / "q")
    (tmp_path / "q" / "empty").mkdir()
    with pytest.raises(FileFormatError, match="q: the class folder 'empty' holds no PNG or JPEG"):
        load_image_folder(tmp_path / "q")


def test_subsample_stratified_and_seeded(tmp_path):
    _tree(tmp_path / "p", n=10)
    a = load_image_folder(tmp_path / "p", max_examples=6, seed=1)
    b = load_image_folder(tmp_path / "p", max_examples=6, seed=1)
    assert a.dataset.y.tolist() == [0, 0, 0, 1, 1, 1]
    np.testing.assert_array_equal(a.dataset.X, b.dataset.X)


def test_too_many_values_for_a_network(tmp_path):
    _tree(tmp_path / "p", n=1)
    with pytest.raises(FileFormatError, match="at most 65,536 inputs"):
        load_image_folder(tmp_path / "p", size=(300, 300), mode="RGB")


def test_file_count_limit(tmp_path, monkeypatch):
    import nnviz.io.images.folder as folder

    monkeypatch.setattr(folder, "MAX_FILES", 4)
    _tree(tmp_path / "p")
    with pytest.raises(FileFormatError, match="more than 4 images"):
        load_image_folder(tmp_path / "p")


def test_without_pillow_the_message_says_how_to_get_it(tmp_path, monkeypatch):
    _tree(tmp_path / "p")
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(FileFormatError, match=r"pip install 'nnviz\[images\]'"):
        load_image_folder(tmp_path / "p")


def test_an_idx_or_npz_needs_no_pillow(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    np.savez(tmp_path / "d.npz", x=np.zeros((2, 2, 2), np.uint8), y=np.array([0, 1]))
    assert load_image_data(tmp_path / "d.npz").shape == (2, 2, 1)


def test_a_folder_of_no_kind_names_every_kind(tmp_path):
    """Opened as image data, a folder that is none of the three kinds says what each needs."""
    from nnviz.io.images import load_images

    (tmp_path / "photos" / "one").mkdir(parents=True)
    with pytest.raises(FileFormatError, match="photos: holds no image data: no MNIST-style IDX") as info:
        load_images(tmp_path / "photos")
    assert "CIFAR-10 binary batches" in str(info.value) and "1 sub-folder(s)" in str(info.value)
