"""One entry for any image source a user names: a file or a folder, told apart by what
it holds, never by guessing from files the user did not name."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from nnviz.io.errors import FileFormatError
from nnviz.io.images.cache import (
    CIFAR_FOLDER,
    PUBLISHED,
    Cancel,
    Progress,
    PublishedSet,
    fetch_published,
    load_published,
    missing_files,
)
from nnviz.io.images.cifar import PICKLED_NAMES, is_cifar_folder, load_cifar_batches, load_cifar_folder
from nnviz.io.images.common import ImageData
from nnviz.io.images.folder import NoClassFoldersError, load_image_folder
from nnviz.io.images.idx import is_idx_folder, load_idx_folder
from nnviz.io.images.npz import load_npz_images
from nnviz.io.regular_file import require_regular_file

#: what :func:`load_image_data` accepts, for a message or a file dialog
ACCEPTED = (".npz archive with x and y; a CIFAR-10 binary batch (.bin); a folder of MNIST-style IDX files, "
            "of CIFAR-10 binary batches, or of one sub-folder of PNG/JPEG images per class")


def is_image_source(path: str | os.PathLike) -> bool:
    """Whether ``path`` names something :func:`load_image_data` reads (a folder, an
    ``.npz`` or a ``.bin``), so a caller can send everything else to the CSV reader."""
    p = Path(os.fspath(path))
    return p.is_dir() or p.suffix.lower() in (".npz", ".bin")


def load_image_data(path: str | os.PathLike, *, max_examples: int | None = None, seed: int = 0,
                    size: tuple[int, int] | None = None, mode: str | None = None) -> ImageData:
    """The images at ``path``: an ``.npz`` archive, a CIFAR-10 ``.bin`` batch, or a folder
    of IDX files, of CIFAR-10 batches, or of one sub-folder per class (``size`` and
    ``mode`` apply to that last kind only). At most ``max_examples`` are kept, a seeded
    stratified draw. FileFormatError, naming the file, for anything that cannot be used."""
    p = Path(os.fspath(path))
    if p.is_dir():
        if (p / CIFAR_FOLDER).is_dir() and not is_cifar_folder(p):  # the folder that holds the extracted one
            p = p / CIFAR_FOLDER
        if is_idx_folder(p):
            return load_idx_folder(p, max_examples=max_examples, seed=seed)
        if is_cifar_folder(p):
            return load_cifar_folder(p, max_examples=max_examples, seed=seed, name=p.name or "cifar10")
        try:
            return load_image_folder(p, max_examples=max_examples, seed=seed, size=size, mode=mode)
        except NoClassFoldersError as exc:  # no kind of image folder at all: say every kind
            raise FileFormatError(
                "holds no image data: no MNIST-style IDX files (train-images-idx3-ubyte, ...), no "
                f"CIFAR-10 binary batches (data_batch_1.bin, ...), and {exc.found} sub-folder(s) where "
                "one sub-folder of PNG or JPEG images per class is needed, at least two", p) from None
    require_regular_file(p)
    suffix = p.suffix.lower()
    if suffix == ".npz":
        return load_npz_images(p, max_examples=max_examples, seed=seed)
    if suffix == ".bin" or p.name in PICKLED_NAMES or p.name.lower().startswith("cifar-"):
        return load_cifar_batches([p], max_examples=max_examples, seed=seed, name=p.stem)
    if "idx" in p.name.lower():
        raise FileFormatError("is one IDX file; its images and labels are two files: give the folder that "
                              "holds both (train-images-idx3-ubyte, train-labels-idx1-ubyte, ...)", p)
    raise FileFormatError(f"is not an image source nnviz reads ({ACCEPTED})", p)


def load_images(source: str | os.PathLike, *, max_examples: int | None = None, seed: int = 0,
                download: bool = False, progress: Progress | None = None, cancel: Cancel | None = None,
                root: str | os.PathLike | None = None, timeout: float = 30.0,
                table: Mapping[str, PublishedSet] = PUBLISHED) -> ImageData:
    """What ``--data`` names: a published set (``mnist``, ``fashion-mnist``, ``cifar10``)
    or a path (see :func:`load_image_data`), so the command line and the window resolve it
    the same way.

    For a published set ``max_examples=None`` means its ``default_n`` (which fits the
    memory budget; the result's notes say a sample was drawn), and its missing files are
    downloaded first only when ``download`` is true (``progress``, ``cancel`` and
    ``timeout`` as for :func:`~nnviz.io.images.cache.fetch_published`); without it, or
    without a connection, :class:`~nnviz.io.images.cache.DataUnavailableError` says which
    files to put where.
    """
    name = os.fspath(source)
    if isinstance(name, str) and name in table and not Path(name).exists():
        n = max_examples if max_examples is not None else table[name].default_n
        if download and missing_files(name, root, table):
            fetch_published(name, root=root, progress=progress, cancel=cancel, timeout=timeout, table=table)
        return load_published(name, root=root, max_examples=n, seed=seed, table=table)
    return load_image_data(name, max_examples=max_examples, seed=seed)
