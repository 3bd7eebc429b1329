"""Image data in the window: files the user points at, and published sets from the cache
(asked before any download; no test touches the network)."""

from __future__ import annotations

import numpy as np

from nnviz.io.images.cache import set_folder
from tests.io.images.imgdata_fixtures import write_idx_folder


def _npz(path, n=90, side=8, classes=3):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, side, side), dtype=np.uint8)
    y = (np.arange(n) % classes).astype(np.int64)
    np.savez(path, x=x, y=y)
    return path


def test_an_npz_of_images_trains_with_image_defaults(window, qtbot, tmp_path, dialog_log):
    path = _npz(tmp_path / "faces.npz")
    assert window.files.import_images(str(path)), dialog_log.errors
    info = window.info
    assert info.spec.input_dim == 64 and info.spec.output_dim == 3
    assert tuple(layer.units for layer in info.spec.hidden) == (100,)
    shown = window.controls.settings()
    assert shown.data.preprocess == "center" and shown == window.document.settings
    assert "sensible defaults for images" in window.statusBar().currentMessage()
    assert info.spec.dtype == "float32" and "float32" in window.statusBar().currentMessage()
    assert shown.train.optimizer == "adam" and shown.train.lr == 0.001
    assert "adam at lr 0.001" in window.statusBar().currentMessage()
    assert window.document.modified and window.document.path is None


def test_a_broken_image_file_is_one_message_and_nothing_changes(window, tmp_path, dialog_log):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"PK\x03\x04 truncated")
    gen = window.document.generation
    assert not window.files.import_images(str(path))
    assert len(dialog_log.errors) == 1 and dialog_log.errors[0][0] == "Cannot import the images"
    assert window.document.generation == gen


def test_a_missing_published_set_is_asked_about_and_never_fetched_unasked(window, tmp_path, monkeypatch,
                                                                        dialog_log):
    monkeypatch.setenv("NNVIZ_DATA_DIR", str(tmp_path / "cache"))
    dialog_log.download_answer = False
    gen = window.document.generation
    assert not window.files.import_images("mnist")
    assert len(dialog_log.downloads_asked) == 1 and dialog_log.downloads_asked[0].startswith("MNIST")
    assert not dialog_log.errors and window.document.generation == gen
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*-ubyte*"))


def test_a_published_set_in_the_cache_opens_without_asking(window, tmp_path, monkeypatch, dialog_log):
    monkeypatch.setenv("NNVIZ_DATA_DIR", str(tmp_path / "cache"))
    write_idx_folder(set_folder("mnist"), n_train=120, n_test=30, h=28, w=28)
    assert window.files.import_images("mnist"), dialog_log.errors
    assert not dialog_log.downloads_asked
    assert window.info.spec.input_dim == 784


def test_the_import_menu_offers_every_kind(window):
    texts = [a.text() for a in window.import_menu.actions() if a.text()]
    assert any("CSV" in t for t in texts) and any("folder" in t for t in texts)
    labels = {a.text().split(" (")[0] for a in window.image_set_actions.values()}
    assert labels == {"MNIST", "Fashion-MNIST", "CIFAR-10"}
    assert window.controls.import_button.menu() is window.import_menu


def test_picking_an_image_set_in_the_data_list_imports_it(window, tmp_path, monkeypatch, dialog_log):
    monkeypatch.setenv("NNVIZ_DATA_DIR", str(tmp_path / "cache"))
    write_idx_folder(set_folder("mnist"), n_train=120, n_test=30, h=28, w=28)
    combo = window.controls.dataset
    i = combo.findData("images:mnist")
    assert i > 0 and "MNIST" in combo.itemText(i)
    combo.setCurrentIndex(i)
    assert window.info.spec.input_dim == 784, dialog_log.errors
    assert combo.currentData() == "custom"  # the list shows the imported data


def test_a_declined_image_set_leaves_the_list_on_the_running_data(window, tmp_path, monkeypatch,
                                                                 dialog_log):
    monkeypatch.setenv("NNVIZ_DATA_DIR", str(tmp_path / "cache"))
    combo = window.controls.dataset
    before = combo.currentData()
    combo.setCurrentIndex(combo.findData("images:cifar10"))
    assert len(dialog_log.downloads_asked) == 1
    assert combo.currentData() == before and window.document.settings.data.source == before


def test_image_data_brings_the_weights_and_examples_panels_forward(window, qtbot, tmp_path, dialog_log):
    from tests.gui.test_window import trained

    assert window.files.import_images(str(_npz(tmp_path / "faces.npz"))), dialog_log.errors
    assert window.pump.view_shown("weights") and not window.pump.view_shown("histograms")
    trained(window, qtbot, 30)
    qtbot.waitUntil(lambda: window.weights.frame_count > 0, timeout=60_000)
    assert window.weights.tile_count() == 100  # one tile per hidden unit
    snap = window.pump.latest_snapshot
    assert snap.examples is not None and len(snap.examples.indices) == len(window.info.test_y)
    # a confusion-matrix cell shows its examples in the gallery, brought forward
    window._on_confusion_cell(1, 2)
    assert window.gallery.class_pair == (1, 2)
    qtbot.waitUntil(lambda: window.pump.view_shown("gallery"), timeout=10_000)
    window.step_once()
    qtbot.waitUntil(lambda: window.gallery.frame_count > 0, timeout=60_000)
    # back on 2-D data the histograms and the loss plot come forward again
    window.files.new_file()
    assert not window.document.modified


def test_opening_image_data_by_name_imports_it(window, tmp_path, dialog_log):
    """``nnviz faces.npz`` or ``nnviz mnist-folder/`` (and a file dropped on the window)
    trains on the images, as File > Import does; it is never read as a network file."""
    assert window.files.open_any(str(_npz(tmp_path / "faces.npz")), ask=False), dialog_log.errors
    assert window.info.spec.input_dim == 64 and window.info.spec.output_dim == 3
    folder = tmp_path / "idx"
    folder.mkdir()
    write_idx_folder(folder)
    assert window.files.open_any(str(folder), ask=False), dialog_log.errors
    assert window.info.spec.input_dim == 16 and not dialog_log.errors  # its 4x4 images
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 truncated")
    assert not window.files.open_any(str(broken), ask=False)
    assert dialog_log.errors[-1][0] == "Cannot import the images"
    # folders that hold no images: one message each, the run left as it was
    generation = window.document.generation
    empty = tmp_path / "empty"
    empty.mkdir()
    notes = tmp_path / "notes"
    (notes / "a").mkdir(parents=True)
    (notes / "a" / "read me.txt").write_text("not an image")
    (notes / "b").mkdir()
    for folder in (empty, notes):
        before = len(dialog_log.errors)
        assert not window.files.open_any(str(folder), ask=False)
        assert len(dialog_log.errors) == before + 1, dialog_log.errors
        assert dialog_log.errors[-1][0] == "Cannot import the images"
        assert folder.name in dialog_log.errors[-1][1]
    assert "holds no image data: no MNIST-style IDX files" in dialog_log.errors[-2][1]  # the empty one
    assert "notes: the class folder 'a' holds no PNG or JPEG" in dialog_log.errors[-1][1]
    assert window.document.generation == generation and window.info.spec.input_dim == 16


def test_gradient_descent_keeps_its_learning_rate_on_images():
    """Only the adaptive optimisers step at 0.001 on images; SGD's rate is the user's."""
    from dataclasses import replace

    from nnviz.app.run_settings import RunSettings
    from nnviz.core.data import Dataset
    from nnviz.gui.window.image_import import image_settings
    from nnviz.io.images.common import ImageData

    data = Dataset(np.zeros((6, 4)), np.arange(6) % 2, name="tiny", class_names=("a", "b"))
    images = ImageData(data, (2, 2, 1), 6)
    base = RunSettings()
    sgd = replace(base, train=replace(base.train, optimizer="sgd", lr=0.3))
    settings, notice = image_settings(sgd, images)
    assert settings.train.lr == 0.3 and "at lr" not in notice
    settings, notice = image_settings(base, images)
    assert settings.train.lr == 0.001 and "adam at lr 0.001" in notice


def test_the_histogram_layer_list_shows_a_new_networks_whole_names(window, qtbot, tmp_path, dialog_log):
    """The list was sized on first show to the demo's "hidden 1 (8 relu)"; behind another
    tab when images brought 100 units, it showed "hidden 1 (100 rel"."""
    assert window.files.import_images(str(_npz(tmp_path / "faces.npz")), ask=False), dialog_log.errors
    window.docks["histograms"].raise_()
    combo = window.histograms.layer_combo
    qtbot.waitUntil(lambda: combo.isVisible() and "100" in combo.currentText(), timeout=30_000)
    qtbot.wait(100)
    assert combo.width() > combo.fontMetrics().horizontalAdvance(combo.currentText()) + 20
