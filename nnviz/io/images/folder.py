"""Your own images: a folder with one sub-folder of PNG or JPEG files per class.

The class names are the sub-folders' names, in sorted order (class 0 is the first). Every
image is converted to one mode (gray ``"L"`` when all of them are gray, else ``"RGB"``;
transparency is dropped) and resized (stretched) to one size: the most common size
among them, made smaller, keeping its aspect, when it has more than
:data:`DEFAULT_MAX_FEATURES` values; either can be chosen instead.

Limits, all checked before a pixel is decoded: at most :data:`MAX_FILES` files, each at
most :data:`MAX_FILE_BYTES` on disk and :data:`MAX_PIXELS` pixels (a header that claims
more is a decompression bomb, refused), and the memory the set needs. Only the PNG and
JPEG decoders are used, whatever a file's name says.

Nothing is skipped silently. A file with another extension (``.txt``, ``.DS_Store``, a
sub-folder inside a class folder) is not an image: it is passed over and counted in the
result's ``notes``. A file with an image extension that cannot be read is an error naming
it, and nothing is loaded.

Reading needs Pillow, the optional extra ``nnviz[images]``; it is imported only here,
only when a folder is read.
"""

from __future__ import annotations

import math
import os
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nnviz.io.errors import FileFormatError
from nnviz.io.images.common import (
    MAX_CLASSES,
    MAX_FEATURES,
    ImageData,
    build,
    check_budget,
    check_max_examples,
    choose,
)
from nnviz.io.regular_file import open_regular, require_regular_file

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MAX_FILES = 200_000
MAX_FILE_BYTES = 64 * 1024**2
MAX_PIXELS = 4096 * 4096
#: the default size is made smaller to hold at most this many values (64x64 gray, 36x36 RGB)
DEFAULT_MAX_FEATURES = 4096
PILLOW_MISSING = "reading a folder of images needs Pillow: pip install 'nnviz[images]'"
_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}


class NoClassFoldersError(FileFormatError):
    """A folder without the class sub-folders an image folder needs (perhaps not image
    data at all: the caller that also reads IDX and CIFAR-10 folders says so)."""

    def __init__(self, found: int, root: Path):
        self.found = found
        super().__init__(f"has {found} class sub-folder(s); a folder of images needs one "
                         "sub-folder of PNG or JPEG files per class, at least two", root)


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise FileFormatError(PILLOW_MISSING) from None
    return Image


@dataclass(frozen=True)
class _Entry:
    path: Path
    label: int
    size: tuple[int, int]  # width, height as Pillow gives them
    gray: bool


def _class_folders(root: Path) -> tuple[list[Path], int]:
    """The class folders in sorted order, and how many other entries the root holds."""
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        raise FileFormatError(f"cannot be listed ({exc.strerror or exc})", root) from None
    folders, others = [], 0
    for e in entries:
        if e.is_dir(follow_symlinks=True) and not e.name.startswith("."):
            folders.append(Path(e.path))
        else:
            others += 1
    if len(folders) < 2:
        raise NoClassFoldersError(len(folders), root)
    if len(folders) > MAX_CLASSES:
        raise FileFormatError(f"has {len(folders):,} sub-folders; at most {MAX_CLASSES:,} classes are "
                              "allowed", root)
    return folders, others


def _list(root: Path) -> tuple[list[tuple[Path, int]], list[str], int]:
    """(image path, class) for every image file, the class names, and how many entries
    were passed over as not images."""
    folders, passed = _class_folders(root)
    files: list[tuple[Path, int]] = []
    for label, folder in enumerate(folders):
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise FileFormatError(f"cannot be listed ({exc.strerror or exc})", folder) from None
        found = 0
        for e in entries:
            if e.name.lower().endswith(IMAGE_SUFFIXES) and not e.is_dir(follow_symlinks=True):
                files.append((Path(e.path), label))
                found += 1
                if len(files) > MAX_FILES:
                    raise FileFormatError(f"holds more than {MAX_FILES:,} images, the most read", root)
            else:
                passed += 1
        if not found:
            raise FileFormatError(f"the class folder {folder.name!r} holds no PNG or JPEG files "
                                  f"({', '.join(IMAGE_SUFFIXES)})", root)
    return files, [f.name for f in folders], passed


def _error(problem: str, path: Path) -> FileFormatError:
    """An error naming the image and its class folder (``0.png`` alone is ambiguous)."""
    return FileFormatError(f"in the class folder {path.parent.name!r}, {problem}", path)


def _open_image(Image: Any, path: Path):
    """The image opened lazily (header only), refused if it is no PNG/JPEG or too big."""
    st = require_regular_file(path)
    if st.st_size > MAX_FILE_BYTES:
        raise _error(f"is {st.st_size:,} bytes; images of at most {MAX_FILE_BYTES:,} are read", path)
    f = open_regular(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(f, formats=["PNG", "JPEG"])
    except (Image.UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            OSError, ValueError, SyntaxError) as exc:
        f.close()
        raise _error(f"cannot be read as a PNG or JPEG image ({exc})", path) from None
    w, h = im.size
    if w < 1 or h < 1 or w * h > MAX_PIXELS:
        im.close()
        f.close()
        raise _error(f"is {w:,}x{h:,} pixels; images of at most {MAX_PIXELS:,} pixels are read", path)
    return im, f


def _scan(Image: Any, files: list[tuple[Path, int]]) -> list[_Entry]:
    out = []
    for path, label in files:
        im, f = _open_image(Image, path)
        try:
            out.append(_Entry(path, label, im.size, im.mode in _GRAY_MODES))
        finally:
            im.close()
            f.close()
    return out


def _default_size(entries: list[_Entry], channels: int) -> tuple[int, int]:
    """(height, width): the most common size, made smaller (aspect kept) to hold at most
    :data:`DEFAULT_MAX_FEATURES` values."""
    (w, h), _ = Counter(e.size for e in entries).most_common(1)[0]
    values = w * h * channels
    if values > DEFAULT_MAX_FEATURES:
        scale = math.sqrt(DEFAULT_MAX_FEATURES / values)
        w, h = max(1, int(w * scale)), max(1, int(h * scale))
    return h, w


def _decode(Image: Any, entry: _Entry, mode: str, size: tuple[int, int]) -> np.ndarray:
    h, w = size
    im, f = _open_image(Image, entry.path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im.load()
            if im.mode in ("I", "I;16", "I;16B", "I;16L", "F") and mode == "L":
                arr = np.asarray(im, dtype=np.float64)
                top = 65535.0 if im.mode.startswith("I;16") or arr.max() > 255 else 255.0
                im = Image.fromarray(np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8), "L")
            if im.format == "JPEG":
                im.draft(mode, (w, h))  # decode at a reduced scale when that is still >= (w, h)
            converted = im.convert(mode)
            if converted.size != (w, h):
                converted = converted.resize((w, h), Image.Resampling.BILINEAR)
            arr = np.asarray(converted, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise _error(f"cannot be decoded ({exc}); fix or remove it", entry.path) from None
    finally:
        im.close()
        f.close()
    return arr.reshape(-1)


def load_image_folder(root: str | os.PathLike, *, max_examples: int | None = None, seed: int = 0,
                      size: tuple[int, int] | None = None, mode: str | None = None,
                      name: str | None = None) -> ImageData:
    """The images under ``root``, one sub-folder per class (see the module's notes).

    ``size`` is (height, width); ``mode`` is ``"L"`` (gray) or ``"RGB"``.
    """
    check_max_examples(max_examples)
    root = Path(os.fspath(root))
    if mode not in (None, "L", "RGB"):
        raise ValueError(f"mode must be 'L' or 'RGB', not {mode!r}")
    if size is not None and (len(size) != 2 or min(size) < 1):
        raise ValueError(f"size must be (height, width) of at least one pixel, not {size!r}")
    Image = _pillow()
    files, class_names, passed = _list(root)
    labels = np.array([label for _, label in files], dtype=np.int64)
    idx = choose(labels, max_examples, seed)
    chosen = [files[i] for i in idx]
    entries = _scan(Image, chosen)
    if mode is None:
        mode = "L" if all(e.gray for e in entries) else "RGB"
    channels = 1 if mode == "L" else 3
    h, w = size if size is not None else _default_size(entries, channels)
    d = h * w * channels
    if d > MAX_FEATURES:
        raise FileFormatError(f"{h}x{w} images of {channels} channel(s) have {d:,} values; a network takes "
                              f"at most {MAX_FEATURES:,} inputs (choose a smaller size)", root)
    check_budget(len(entries), d, root, raw_bytes=len(entries) * d)
    pixels = np.empty((len(entries), d), dtype=np.uint8)
    for k, entry in enumerate(entries):
        pixels[k] = _decode(Image, entry, mode, (h, w))
    notes = []
    if passed:
        notes.append(f"{passed:,} entr{'y' if passed == 1 else 'ies'} in {root.name} that are not "
                     f"{'/'.join(s.lstrip('.').upper() for s in IMAGE_SUFFIXES)} images (or class folders) "
                     "were passed over")
    return build(pixels, labels[idx], (h, w, channels), name or root.name or "images", class_names,
                 len(entries), notes, total=len(files))
