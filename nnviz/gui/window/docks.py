"""Where the window's panels go and how big they start.

The controls sit on the left in a scroll area, the network drawing in the middle with the
loss plot under it, the output and histograms on the right. Sizes are fractions of the
window, so a 1280x720 laptop and a 2560x1440 monitor both start with every panel usable.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QWidget

from nnviz.gui.views.base import BOTTOM, CENTRAL, LEFT, REGISTRY, RIGHT

#: where a registry view's dock goes
_AREAS = {
    LEFT: Qt.DockWidgetArea.LeftDockWidgetArea,
    RIGHT: Qt.DockWidgetArea.RightDockWidgetArea,
    BOTTOM: Qt.DockWidgetArea.BottomDockWidgetArea,
}


def _dock(win, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
    dock = QDockWidget(title, win)
    dock.setObjectName(name)
    dock.setWidget(widget)
    dock.setFeatures(
        QDockWidget.DockWidgetFeature.DockWidgetMovable
        | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        | QDockWidget.DockWidgetFeature.DockWidgetClosable
    )
    win.addDockWidget(area, dock)
    return dock


def make_docks(win) -> None:
    """The controls (scrolling) on the left, the registry's views in their areas."""
    win.setDockNestingEnabled(True)
    win.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
    win.setCorner(Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
    win.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
    win.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
    left = Qt.DockWidgetArea.LeftDockWidgetArea
    win.controls_dock = _dock(win, "controlsDock", "Controls", win.controls, left)
    win.docks = {}
    for entry in REGISTRY:
        view = win.views[entry.name]
        if entry.area == CENTRAL:
            win.setCentralWidget(view)
            continue
        dock = _dock(win, entry.dock_name, entry.title, view, _AREAS[entry.area])
        dock.visibilityChanged.connect(win._on_dock_visibility)
        win.docks[entry.name] = dock
        setattr(win, f"{entry.name}_dock", dock)
    # the image views share a place with a panel: the weights as images beside the
    # histograms (in front for image data), the example gallery and the unit page beside the
    # Output panel's confusion matrix (a click on a cell or a neuron brings them forward, the
    # tiles stay in sight); the loss plot is never hidden
    for behind, shared in (("weights", "histograms"), ("gallery", "decision"), ("unit", "decision")):
        if behind in win.docks and shared in win.docks:
            win.tabifyDockWidget(win.docks[shared], win.docks[behind])
            win.docks[shared].raise_()


def show_image_views(win, images: bool) -> None:
    """Image data: the weight tiles in front of the histograms; other data: the histograms
    (the Output panel stays in front of the gallery either way)."""
    for name in ("weights" if images else "histograms", "decision"):
        if name in win.docks:
            win.docks[name].raise_()


def fit_to_screen(win) -> None:
    """A first start fills most of the screen (the views need room)."""
    screen = QApplication.primaryScreen()
    if screen is None:
        win.resize(1500, 950)
        return
    avail = screen.availableGeometry()
    win.resize(max(int(avail.width() * 0.96), 1000), max(int(avail.height() * 0.94), 700))


#: below this window height the Output and Histograms panels share the right column as tabs:
#: stacked, each got about 300 px and the histograms' plots shrank to slivers
TAB_BELOW_HEIGHT = 820


def size_docks(win) -> None:
    """Controls at their natural width, the right column about two fifths of the window
    (the plots need it more than the network drawing), the loss plot a third high; on a
    short screen (a 1280x720 laptop) the right column's two panels are tabs."""
    w, h = win.width(), win.height()
    H, V = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
    # the controls at their natural width but at most a quarter of the window (they scroll,
    # and never get narrower than their minimum): the network drawing in the middle keeps room
    controls = win.controls
    bar = controls.verticalScrollBar().sizeHint().width()
    natural = controls.widget().sizeHint().width() + bar
    win.resizeDocks([win.controls_dock], [max(controls.minimumWidth(), min(natural, int(w * 0.24)))], H)
    win.resizeDocks([win.decision_dock], [int(w * 0.42)], H)
    if h < TAB_BELOW_HEIGHT:
        for name in ("histograms", "weights", "gallery", "unit"):  # the whole right column, one tab group
            if name in win.docks:
                win.tabifyDockWidget(win.decision_dock, win.docks[name])
    else:
        win.resizeDocks([win.decision_dock, win.histograms_dock], [h // 2, h // 2], V)
    # the loss plot a third of the height; on a short screen two fifths (its bar, legend and
    # curves need about 200 px to read)
    win.resizeDocks([win.loss_dock], [int(h * (0.40 if h < TAB_BELOW_HEIGHT else 0.32))], V)
    show_image_views(win, getattr(win, "_image_run", False))  # the tabs in front, once laid out
    if h < TAB_BELOW_HEIGHT:
        win.decision_dock.raise_()  # a short screen opens on the Output panel
