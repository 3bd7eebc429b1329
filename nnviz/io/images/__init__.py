"""Image data: MNIST, Fashion-MNIST, CIFAR-10 and your own images, as classification
data sets (one row per image, pixels scaled to 0..1, row-major, channels last).

Every loader returns an :class:`ImageData`: the :class:`~nnviz.core.data.Dataset` and the
image shape (height, width, channels). Loading raises only :class:`FileFormatError`
(its subclasses :class:`DataUnavailableError`, :class:`DownloadError`) and never uses the
network; :func:`fetch_published` downloads a published set into nnviz's data folder.
Never imports Qt; Pillow only inside :func:`load_image_folder`. See docs/image-data.md.
"""

from nnviz.io.images.cache import (
    ENV_VAR,
    PUBLISHED,
    DataUnavailableError,
    DownloadCancelledError,
    DownloadError,
    PublishedSet,
    RemoteFile,
    data_dir,
    fetch_published,
    load_published,
    missing_files,
    offline_message,
    set_folder,
)
from nnviz.io.images.cifar import load_cifar_batches, load_cifar_folder
from nnviz.io.images.common import ImageData, loader_bytes, max_fitting_examples
from nnviz.io.images.folder import load_image_folder
from nnviz.io.images.idx import load_idx_folder, load_idx_pairs, read_idx_file
from nnviz.io.images.load import ACCEPTED, is_image_source, load_image_data, load_images
from nnviz.io.images.npz import load_npz_images

__all__ = [
    "ACCEPTED",
    "ENV_VAR",
    "PUBLISHED",
    "DataUnavailableError",
    "DownloadCancelledError",
    "DownloadError",
    "ImageData",
    "PublishedSet",
    "RemoteFile",
    "data_dir",
    "fetch_published",
    "is_image_source",
    "load_cifar_batches",
    "load_cifar_folder",
    "load_idx_folder",
    "load_idx_pairs",
    "load_image_data",
    "load_image_folder",
    "load_images",
    "load_npz_images",
    "load_published",
    "loader_bytes",
    "max_fitting_examples",
    "missing_files",
    "offline_message",
    "read_idx_file",
    "set_folder",
]
