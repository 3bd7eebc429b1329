"""The banner that says which settings are shown but not yet running.

After training has started, data and network edits wait for Reset: the network that
trains (and that Space plays) is still the old one. The banner says so in words, lists
what waits, and offers Apply (a new network with the settings shown) or Revert (the
controls go back to the running settings).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

#: light and dark: background, border, text
_COLOURS = {False: ("#fff4ce", "#e0b000", "#3a2f00"), True: ("#4a3d00", "#c9a000", "#fff3c0")}


class PendingBanner(QFrame):
    """What waits for Apply; the window shows it (in a toolbar row of its own: a widget in a
    toolbar is shown and hidden with the toolbar, never by itself) only while something does."""

    applyRequested = Signal()
    revertRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pendingBanner")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.apply_button = QPushButton("Apply (new network)")
        self.apply_button.setToolTip("Start again with the settings shown: a new network (Ctrl+R)")
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Show the running network's settings again")
        self.apply_button.clicked.connect(self.applyRequested)
        self.revert_button.clicked.connect(self.revertRequested)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 3, 8, 3)
        row.addWidget(self.text, 1)
        row.addWidget(self.apply_button)
        row.addWidget(self.revert_button)
        self.changes: tuple[str, ...] = ()
        self.set_theme(False)

    def show_changes(self, changes: tuple[str, ...]) -> None:
        """List ``changes`` (phrases such as "layers 8, 8 → 16")."""
        self.changes = tuple(changes)
        listed = "; ".join(self.changes)
        self.text.setText(f"<b>Not applied yet:</b> {listed}. The network training now still has "
                          f"the old settings; Apply starts a new one.")
        self.text.setToolTip("\n".join(self.changes))

    def set_theme(self, dark: bool) -> None:
        bg, border, fg = _COLOURS[bool(dark)]
        self.setStyleSheet(f"QFrame#pendingBanner {{ background: {bg}; border: 1px solid {border}; "
                           f"border-radius: 3px; }} QFrame#pendingBanner QLabel {{ color: {fg}; }}")
