"""The gallery: test examples as pictures with true and predicted classes, mistakes first,
one confusion-matrix cell on request, unlabelled before predictions, cheap frames."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest
from PySide6.QtGui import QImage

from nnviz.core.images import (
    EXAMPLE_COUNT,
    GALLERY_SIZE,
    example_subset,
    predict_examples,
)
from nnviz.core.trainer import Snapshot
from nnviz.gui.views.gallery import GRID, MESSAGE, GalleryView, grid_layout
from nnviz.io.images.common import pixel_names
from tests.views import synthetic as syn

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def make(qtbot, info=None) -> GalleryView:
    v = GalleryView()
    qtbot.addWidget(v)
    v.resize(640, 560)
    v.show()
    qtbot.waitExposed(v)
    if info is not None:
        v.set_run(info)
    return v


def image_run(widths: list[int], n_test: int = 1000, shape: tuple[int, int, int] | None = None,
              classes: tuple[str, ...] | None = None):
    s = syn.spec(widths)
    rng = np.random.default_rng(0)
    c = widths[-1]
    X, y = rng.random((50, widths[0])), np.arange(50) % c
    Xt, yt = rng.random((n_test, widths[0])), np.arange(n_test) % c
    info = syn.run_info(s, X, y, Xt, yt)
    if shape is not None:
        info = dataclasses.replace(info, input_names=pixel_names(shape))
    if classes is not None:
        info = dataclasses.replace(info, class_names=classes)
    return s, info


def with_predictions(s, info, seed: int = 0, wrong: float = 0.3, split: str = "test") -> Snapshot:
    """A snapshot whose predictions get about ``wrong`` of the followed examples wrong."""
    rng = np.random.default_rng(seed)
    X, y = (info.test_X, info.test_y) if split == "test" else (info.train_X, info.train_y)
    idx = example_subset(len(X))
    c = s.output_dim
    pred = np.where(rng.random(len(idx)) < wrong, (y[idx] + 1) % c, y[idx])
    probs = np.full((len(idx), c), 0.1 / max(c - 1, 1))
    probs[np.arange(len(idx)), pred] = rng.uniform(0.3, 0.95, len(idx))
    base = syn.snapshot(s, seed=seed)
    return dataclasses.replace(base, examples=predict_examples(probs, idx, split))


def test_examples_unlabelled_until_predictions_come(qtbot):
    s, info = image_run([784, 100, 10])
    v = make(qtbot, info)
    assert v.stack.currentIndex() == GRID
    cells = v.cells()
    assert len(cells) == GALLERY_SIZE
    assert [c.index for c in cells] == example_subset(1000)[:GALLERY_SIZE].tolist()
    assert all(c.predicted is None and c.true == info.test_y[c.index] for c in cells)
    assert "not labelled yet" in v.header.text()
    v.show_snapshot(syn.snapshot(s))  # a trainer without predictions: still unlabelled
    assert v.frame_count == 1 and all(c.predicted is None for c in v.cells())
    v.grab()
    assert v.grid.drawn > 0


def test_predictions_put_confident_mistakes_first(qtbot):
    s, info = image_run([784, 100, 10])
    v = make(qtbot, info)
    snap = with_predictions(s, info)
    v.show_snapshot(snap)
    cells = v.cells()
    assert len(cells) == GALLERY_SIZE
    ex = snap.examples
    wrong = int(np.count_nonzero(ex.predicted != info.test_y[ex.indices]))
    assert wrong > GALLERY_SIZE  # the whole gallery is mistakes
    assert all(c.wrong for c in cells)
    conf = [c.confidence for c in cells]
    assert conf == sorted(conf, reverse=True)
    assert f"{wrong} of {EXAMPLE_COUNT}" in v.header.text()
    # a nearly trained network: the few mistakes, then the least sure right answers
    v.show_snapshot(with_predictions(s, info, seed=1, wrong=0.01))
    cells = v.cells()
    n_wrong = sum(c.wrong for c in cells)
    assert 0 < n_wrong < GALLERY_SIZE and all(c.wrong for c in cells[:n_wrong])
    right = [c.confidence for c in cells[n_wrong:]]
    assert right == sorted(right)
    img = v.grab().toImage()
    assert not img.isNull() and v.grid.drawn > 0


def test_show_class_pair_filters_to_one_confusion_cell(qtbot):
    s, info = image_run([64, 8, 10])
    v = make(qtbot, info)
    v.show_class_pair(3, 4)  # before predictions: nothing to show yet
    assert v.cells() == [] and "waiting" in v.header.text()
    snap = with_predictions(s, info)
    v.show_snapshot(snap)
    cells = v.cells()
    ex = snap.examples
    expected = int(np.count_nonzero((info.test_y[ex.indices] == 3) & (ex.predicted == 4)))
    assert len(cells) == min(expected, GALLERY_SIZE) > 0
    assert all(c.true == 3 and c.predicted == 4 for c in cells)
    assert "predicted as" in v.header.text()
    v.show_class_pair(3, 3)  # the diagonal: right answers, least sure first
    assert all(c.true == 3 and c.predicted == 3 for c in v.cells())
    v.show_class_pair(0, 9)  # a cell no example falls in
    assert v.cells() == []
    v.grab()
    assert v.grid.drawn == 0
    v.clear_filter()
    assert v.class_pair is None and len(v.cells()) == GALLERY_SIZE
    assert "show all examples" not in v.header.text()
    # the header's link is the way back for a person: it names itself and clears the filter
    v.show_class_pair(3, 4)
    assert "href='all'" in v.header.text() and "show all examples" in v.header.text()
    v.header.linkActivated.emit("all")
    assert v.class_pair is None and len(v.cells()) == GALLERY_SIZE


def test_colour_images_and_long_class_names(qtbot):
    names = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
    s, info = image_run([3072, 100, 10], shape=(32, 32, 3), classes=names)
    v = make(qtbot, info)
    v.show_snapshot(with_predictions(s, info))
    v.grab()
    assert v.grid.drawn > 0
    k = v.cells()[0].index
    img = v._image(k)
    assert img.format() == QImage.Format.Format_RGB888 and (img.width(), img.height()) == (32, 32)
    pixel = img.pixelColor(5, 2)  # x = column 5, y = row 2
    expected = np.round(info.test_X[k].reshape(32, 32, 3)[2, 5] * 255)
    assert np.abs(np.array([pixel.red(), pixel.green(), pixel.blue()]) - expected).max() <= 1


def test_inputs_that_are_not_an_image_get_a_message(qtbot):
    s = syn.spec([2, 8, 2])
    X = np.random.default_rng(0).random((30, 2))
    v = make(qtbot, syn.run_info(s, X, np.arange(30) % 2, X, np.arange(30) % 2))
    assert v.stack.currentIndex() == MESSAGE and "not an image" in v.message.text()
    v.show_snapshot(syn.snapshot(s))
    v.show_class_pair(0, 1)
    assert v.frame_count == 0


def test_stale_or_foreign_predictions_are_ignored(qtbot):
    s, info = image_run([64, 8, 10], n_test=100)
    v = make(qtbot, info)
    bigger = dataclasses.replace(info, test_X=np.zeros((5000, 64)), test_y=np.arange(5000) % 10)
    snap = with_predictions(s, bigger)
    v.show_snapshot(snap)  # indices past this run's 100 test examples
    assert all(c.predicted is None for c in v.cells())
    v.show_snapshot(with_predictions(s, info, split="train"))  # another split
    assert all(c.predicted is None for c in v.cells())
    v.show_snapshot(with_predictions(s, info))
    assert any(c.predicted is not None for c in v.cells())


def test_a_run_without_test_split_shows_training_examples(qtbot):
    s, info = image_run([64, 8, 10])
    info = dataclasses.replace(info, test_X=None, test_y=None)
    v = make(qtbot, info)
    assert [c.index for c in v.cells()] == list(range(GALLERY_SIZE))  # 50 training examples
    v.show_snapshot(with_predictions(s, info, split="train"))
    assert any(c.predicted is not None for c in v.cells())
    assert "training examples" in v.header.text()


def test_diverged_predictions_and_values_outside_0_1(qtbot):
    s, info = image_run([64, 8, 10])
    info = dataclasses.replace(info, test_X=info.test_X * 16)  # digits-like 0..16
    v = make(qtbot, info)
    assert (v._lo, v._hi) == (0.0, pytest.approx(float(info.test_X[example_subset(1000)].max())))
    idx = example_subset(1000)
    ex = predict_examples(np.full((len(idx), 10), np.nan), idx)
    v.show_snapshot(dataclasses.replace(syn.snapshot(s), examples=ex))
    assert all(c.predicted == -1 and c.wrong for c in v.cells())
    v.grab()
    assert v.grid.drawn > 0


def test_thirty_frames_are_cheap_and_the_cache_is_bounded(qtbot):
    s, info = image_run([784, 100, 10], n_test=10_000)
    v = make(qtbot, info)
    snaps = [with_predictions(s, info, seed=k, wrong=0.5 * 0.9 ** k) for k in range(30)]
    v.show_snapshot(snaps[0])
    v.grid.repaint()
    t0 = time.perf_counter()
    for snap in snaps:
        v.show_snapshot(snap)
        v.grid.repaint()
    per_frame = (time.perf_counter() - t0) / len(snaps)
    assert v.frame_count == 31
    assert len(v._cache) <= EXAMPLE_COUNT
    assert per_frame < 0.05, f"{1000 * per_frame:.1f} ms a frame"


def test_widgets_do_not_grow_per_frame(qtbot):
    s, info = image_run([64, 8, 10])
    v = make(qtbot, info)
    before = len(v.findChildren(object))
    for k in range(30):
        v.show_snapshot(with_predictions(s, info, seed=k))
    assert len(v.findChildren(object)) == before


def test_regression_shows_the_pictures_without_classes(qtbot):
    s = syn.spec([64, 8, 1], loss="mse")
    X = np.random.default_rng(0).random((30, 64))
    info = syn.run_info(s, X, X[:, :1], X, X[:, :1])
    v = make(qtbot, info)
    assert v.stack.currentIndex() == GRID and all(c.true is None for c in v.cells())
    assert "no classes" in v.header.text()
    v.show_snapshot(syn.snapshot(s))
    v.grab()
    assert v.grid.drawn == 30


def test_grid_layout_fits_and_shows_fewer_when_small():
    lay = grid_layout(48, 28, 28, 640, 520, 30, label_w=60)
    assert lay.shown == 48 and lay.cols * lay.cell_w <= 640 and lay.scale * 28 >= 40
    rows = -(-lay.shown // lay.cols)
    assert rows * (lay.scale * 28 + 30) <= 520
    small = grid_layout(48, 28, 28, 200, 150, 30, label_w=60)
    assert 0 < small.shown < 48 and small.scale * 28 >= 40
    tiny = grid_layout(48, 28, 28, 30, 30, 30, label_w=60)
    assert tiny.shown == 1
    assert grid_layout(0, 28, 28, 640, 520, 30).shown == 0


def test_theme_and_export(qtbot, tmp_path):
    s, info = image_run([64, 8, 10])
    v = make(qtbot, info)
    v.show_snapshot(with_predictions(s, info))
    v.set_theme(True)
    assert v.frame_count == 2
    v.export_image(str(tmp_path / "gallery.png"))
    v.export_image(str(tmp_path / "gallery.svg"))
    assert (tmp_path / "gallery.png").stat().st_size > 0
    assert b"<svg" in (tmp_path / "gallery.svg").read_bytes()
    with pytest.raises(ValueError):
        v.export_image(str(tmp_path / "gallery.bmp"))
    with pytest.raises(OSError):
        v.export_image(str(tmp_path / "missing" / "gallery.png"))
