"""Render resources/icons/nnviz.svg to PNGs at the usual sizes (run when the SVG changes).

    QT_QPA_PLATFORM=offscreen python packaging/render_icons.py
"""

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def main() -> None:
    app = QGuiApplication([])  # noqa: F841 - painting needs an application
    icons = Path(__file__).resolve().parent.parent / "resources" / "icons"
    renderer = QSvgRenderer(str(icons / "nnviz.svg"))
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(icons / f"nnviz-{size}.png"))


if __name__ == "__main__":
    main()
