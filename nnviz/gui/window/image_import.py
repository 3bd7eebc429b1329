"""Image data for the window: a published set (downloaded once, with a progress bar and
Cancel) or images the user points at (a folder, an .npz, CIFAR-10 binary batches).

Loading and downloading are the file layer's (:mod:`nnviz.io.images`); this module asks the
questions and keeps the window drawing meanwhile. The sensible defaults for images
(the mean image subtracted, one hidden layer of 100 units, softmax, float32, Adam at 0.001)
come with the data and are said in the status bar.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from nnviz.app.image_defaults import (
    IMAGE_DTYPE,
    IMAGE_LAYERS,
    IMAGE_LOSS,
    IMAGE_PREPROCESS,
    image_defaults_sentence,
    image_lr,
)
from nnviz.app.run_settings import CUSTOM, DataSettings, RunSettings
from nnviz.gui.window.background import run_responsive, run_with_progress
from nnviz.io.images import PUBLISHED, ImageData, load_images
from nnviz.io.images.cache import data_dir, missing_files, set_folder


def image_settings(shown: RunSettings, images: ImageData) -> tuple[RunSettings, str]:
    """The settings to train ``images`` with, and the sentence that says what was chosen."""
    data = images.dataset
    d = shown.data
    ds = DataSettings(source=CUSTOM, n=len(data), test_fraction=d.test_fraction,
                      preprocess=IMAGE_PREPROCESS, features=(), custom_name=data.name)
    act = shown.network.activations[0] if shown.network.activations else "relu"
    net = replace(shown.network, layers=IMAGE_LAYERS, activations=(act,) * len(IMAGE_LAYERS),
                  loss=IMAGE_LOSS, dtype=IMAGE_DTYPE)
    lr = image_lr(shown.train.optimizer)
    train = shown.train if lr is None else replace(shown.train, lr=lr)
    h, w, c = images.shape
    sentence = image_defaults_sentence(data.n_features, data.n_classes, shown.train.optimizer)
    notice = (f"{data.name}: {len(data):,} images of {h}x{w}{'' if c == 1 else f'x{c}'}, "
              f"{sentence} (sensible defaults for images)")
    return replace(shown, data=ds, network=net, train=train), notice


def fetch_if_missing(window, dialogs, name: str) -> bool:
    """A published set's files are in the cache (asked, then downloaded, if they were not);
    False when the user said no or cancelled. Raises the file layer's errors."""
    missing = missing_files(name)
    if not missing:
        return True
    entry = PUBLISHED[name]
    size = sum(f.size or 0 for f in entry.files) / 1e6
    folder = set_folder(name)
    if not dialogs.ask_download(window, entry.label, f"{entry.label} is not on this computer yet. "
                                f"Download it ({size:,.0f} MB) into {folder}?"):
        return False

    def fetch(progress, cancelled):
        from nnviz.io.images.cache import fetch_published

        fetch_published(name, progress=progress, cancel=cancelled)

    run_with_progress(window, f"Downloading {entry.label}…", fetch)
    return True


def load_for_window(window, source: str) -> ImageData:
    """``source`` (a published name whose files are present, or a path) read on a thread."""
    label = PUBLISHED[source].label if source in PUBLISHED else Path(source).name
    return run_responsive(window, f"Reading {label}…", lambda: load_images(source))


__all__ = ["PUBLISHED", "data_dir", "fetch_if_missing", "image_settings", "load_for_window"]
