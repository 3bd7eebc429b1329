"""The frame the image panels share (the gallery, the Unit page): a wrapping header line
over a page that is either the panel's canvas or a centred message ("train a network on
image data to see ...")."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget


def captioned_page(owner: QWidget, name: str, canvas: QWidget) -> tuple[QLabel, QStackedWidget, QLabel]:
    """Lay ``owner`` out as a header over ``canvas`` or a message; returns (header, stack,
    message). ``name`` prefixes the object names ("gallery" -> "galleryHeader")."""
    layout = QVBoxLayout(owner)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    header = QLabel()
    header.setObjectName(f"{name}Header")
    header.setWordWrap(True)
    header.setContentsMargins(6, 4, 6, 0)
    header.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    layout.addWidget(header)
    stack = QStackedWidget()
    stack.addWidget(canvas)
    message = QLabel()
    message.setObjectName(f"{name}Message")
    message.setWordWrap(True)
    message.setAlignment(Qt.AlignmentFlag.AlignCenter)
    message.setContentsMargins(16, 16, 16, 16)
    stack.addWidget(message)
    layout.addWidget(stack, 1)
    return header, stack, message
