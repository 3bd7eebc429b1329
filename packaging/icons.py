"""Windows .ico and macOS .icns icons from resources/icons/nnviz-SIZE.png, in pure Python.

Both formats may hold PNG images as they are (ICO since Windows Vista, ICNS since macOS
10.7), so no image library and no Mac are needed. The spec writes the one its platform
needs; by hand:

    python packaging/icons.py build/icons      # writes nnviz.ico and nnviz.icns there
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"

#: ICO: every size Windows asks for up to 256 (256 is written as 0 in the directory)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)

#: ICNS element types holding PNG data: type -> the PNG's pixel size
ICNS_TYPES = (
    (b"icp4", 16), (b"icp5", 32), (b"icp6", 64), (b"ic07", 128), (b"ic08", 256), (b"ic09", 512),
    (b"ic11", 32), (b"ic12", 64), (b"ic13", 256), (b"ic14", 512),  # the @2x retina variants
)


def _png(size: int) -> bytes:
    data = (ICONS / f"nnviz-{size}.png").read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"nnviz-{size}.png is not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    if (width, height) != (size, size):
        raise ValueError(f"nnviz-{size}.png is {width}x{height}, not {size}x{size}")
    return data


def ico_bytes() -> bytes:
    """An ICO file with one PNG entry per size in :data:`ICO_SIZES`."""
    images = [_png(s) for s in ICO_SIZES]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    directory = b""
    for size, data in zip(ICO_SIZES, images, strict=True):
        dim = 0 if size >= 256 else size
        directory += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return header + directory + b"".join(images)


def icns_bytes() -> bytes:
    """An ICNS file with PNG elements for every type in :data:`ICNS_TYPES`."""
    body = b"".join(kind + struct.pack(">I", 8 + len(data)) + data
                    for kind, data in ((k, _png(s)) for k, s in ICNS_TYPES))
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def write(folder: Path) -> tuple[Path, Path]:
    """Write nnviz.ico and nnviz.icns into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    ico, icns = folder / "nnviz.ico", folder / "nnviz.icns"
    ico.write_bytes(ico_bytes())
    icns.write_bytes(icns_bytes())
    return ico, icns


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python packaging/icons.py FOLDER")
    for path in write(Path(sys.argv[1])):
        print(path)
