"""Images in a NumPy ``.npz`` archive: ``x`` (the images) and ``y`` (integer labels).

``x`` is (n, height, width), (n, height, width, channels) or a flat (n, features) table;
unsigned bytes are pixels 0..255, floats must already lie in 0..1. Optional members:
``class_names`` (a 1-D array of strings) and ``shape`` (height, width, channels) for a
flat ``x``. The archive is opened with ``allow_pickle=False`` (an object array is refused,
never unpickled), and every member's dtype and shape are read from its header and checked,
with the memory the set needs, before its data is read.
"""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path

import numpy as np

from nnviz.core.data import MAX_EXAMPLES
from nnviz.io.errors import FileFormatError
from nnviz.io.images.common import (
    MAX_CLASSES,
    ImageData,
    build,
    check_budget,
    check_labels,
    check_max_examples,
    choose,
    from_float,
)
from nnviz.io.regular_file import open_regular

_MAX_NAME = 200


def _member_header(zf: zipfile.ZipFile, key: str, path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """A member's shape and dtype from its .npy header, without reading its data."""
    try:
        with zf.open(f"{key}.npy") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise FileFormatError(f"its member {key!r} is not a valid .npy array ({exc})", path) from None
    if dtype.hasobject:
        raise FileFormatError(f"its member {key!r} holds Python objects; nnviz never unpickles data", path)
    return tuple(int(d) for d in shape), dtype


def _load_member(npz, key: str, path: Path) -> np.ndarray:
    try:
        return npz[key]
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise FileFormatError(f"its member {key!r} cannot be read ({exc})", path) from None


def _shape_of(xs: tuple[int, ...], npz, keys: set[str], path: Path) -> tuple[int, int, int]:
    if len(xs) == 3:
        return (xs[1], xs[2], 1)
    if len(xs) == 4:
        if xs[3] not in (1, 3, 4):
            raise FileFormatError(f"x has {xs[3]} channels; 1 (gray), 3 (RGB) or 4 (RGBA) are read", path)
        return (xs[1], xs[2], xs[3])
    d = xs[1]
    if "shape" in keys:
        s = _load_member(npz, "shape", path)
        if s.shape != (3,) or not np.issubdtype(s.dtype, np.integer) or (s < 1).any() \
                or int(np.prod(s.astype(np.int64))) != d:
            raise FileFormatError(f"its shape member must be three whole numbers (height, width, channels) "
                                  f"whose product is x's {d:,} columns", path)
        return (int(s[0]), int(s[1]), int(s[2]))
    side = math.isqrt(d)
    return (side, side, 1) if side * side == d else (1, d, 1)


def _class_names(npz, keys: set[str], path: Path) -> tuple[str, ...] | None:
    if "class_names" not in keys:
        return None
    shape, dtype = _member_header(npz.zip, "class_names", path)
    if dtype.kind != "U" or len(shape) != 1 or not 1 <= shape[0] <= MAX_CLASSES \
            or dtype.itemsize > 4 * _MAX_NAME:
        raise FileFormatError(f"class_names must be a 1-D array of at most {MAX_CLASSES:,} strings "
                              f"of at most {_MAX_NAME} characters", path)
    return tuple(str(s) for s in _load_member(npz, "class_names", path))


def load_npz_images(path: str | os.PathLike, *, max_examples: int | None = None, seed: int = 0,
                    name: str | None = None) -> ImageData:
    """The images ``x`` and labels ``y`` of an ``.npz`` archive (see the module's notes)."""
    check_max_examples(max_examples)
    path = Path(os.fspath(path))
    with open_regular(path) as raw:
        magic = raw.read(6)
        raw.seek(0)
        if magic == b"\x93NUMPY":
            raise FileFormatError("is a single .npy array; an .npz archive with x and y is needed", path)
        if not magic.startswith(b"PK"):
            raise FileFormatError("is not a NumPy .npz archive (an .npz is a ZIP file, this is not)", path)
        try:
            npz = np.load(raw, allow_pickle=False)
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise FileFormatError(f"is not a NumPy .npz archive ({exc})", path) from None
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise FileFormatError("is a single .npy array; an .npz archive with x and y is needed", path)
        with npz:
            return _from_npz(npz, path, max_examples, seed, name or path.stem)


def _from_npz(npz, path: Path, max_examples: int | None, seed: int, name: str) -> ImageData:
    keys = set(npz.files)
    for key in ("x", "y"):
        if key not in keys:
            have = ", ".join(sorted(keys)[:10]) or "nothing"
            raise FileFormatError(f"has no array {key!r} (it holds {have}); images go in x, labels in y",
                                  path)
    xs, xd = _member_header(npz.zip, "x", path)
    ys, yd = _member_header(npz.zip, "y", path)
    if len(xs) not in (2, 3, 4) or xs[0] == 0 or 0 in xs:
        raise FileFormatError(f"x has shape {xs}; (n, height, width), (n, height, width, channels) or "
                              "(n, features) with n >= 1 is needed", path)
    if len(ys) != 1 or ys[0] != xs[0]:
        raise FileFormatError(f"y has shape {ys}; one label for each of x's {xs[0]:,} images is needed", path)
    if not (np.issubdtype(yd, np.integer) or yd == np.bool_):
        raise FileFormatError(f"y holds {yd} values; labels must be whole numbers (class 0, 1, ...)", path)
    if not (xd == np.uint8 or np.issubdtype(xd, np.floating)):
        raise FileFormatError(f"x holds {xd} values; unsigned bytes (0..255) or floats (0..1) are read", path)
    if xs[0] > MAX_EXAMPLES:
        raise FileFormatError(f"x holds {xs[0]:,} images; at most {MAX_EXAMPLES:,} can be used", path)
    d = int(np.prod(xs[1:], dtype=np.int64))
    n = xs[0]
    keep = n if max_examples is None else min(n, int(max_examples))
    check_budget(keep, d, path, raw_bytes=n * d * xd.itemsize)
    shape = _shape_of(xs, npz, keys, path)
    names = _class_names(npz, keys, path)
    y = _load_member(npz, "y", path).astype(np.int64)
    if (y < 0).any():
        bad = int(np.flatnonzero(y < 0)[0])
        raise FileFormatError(f"y[{bad}] is {int(y[bad])}; labels must be >= 0", path)
    check_labels(y, path, len(names) if names is not None else None)
    x = _load_member(npz, "x", path).reshape(n, d)
    idx = choose(y, max_examples, seed)
    if len(idx) < n:
        x = x[idx]
    if x.dtype == np.uint8:
        return build(x, y[idx], shape, name, names, len(idx), total=n)
    finite = np.isfinite(x)
    if not finite.all():
        raise FileFormatError(f"x holds NaN or infinite values (image {_first_bad(finite, idx) + 1:,})", path)
    inside = (x >= 0) & (x <= 1)
    if not inside.all():
        raise FileFormatError(f"x holds floats outside 0..1 (image {_first_bad(inside, idx) + 1:,}); store "
                              "pixels as unsigned bytes 0..255, or scale them to 0..1", path)
    return from_float(x, y[idx], shape, name, names, n)


def _first_bad(ok: np.ndarray, idx: np.ndarray) -> int:
    return int(idx[np.flatnonzero(~ok.all(axis=1))[0]])

