"""The status bar: run state, epoch, step, loss, accuracy and training speed.

The numbers sit in one row that fits whatever width the window has: on a narrow window
the least needed labels are left out (the speed first, the state last) rather than
widening the window past a laptop's screen.
"""

from __future__ import annotations

import math
import time
from collections import deque

from PySide6.QtCore import QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget


def _num(x: float | None, digits: int = 4) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:.{digits}g}"


def _pct(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{100 * x:.1f}%"


class RateMeter:
    """Steps per second over the last ``window`` seconds of (time, step) samples."""

    def __init__(self, window: float = 1.0):
        self.window = window
        self._samples: deque[tuple[float, float]] = deque()

    def add(self, step: float, now: float | None = None) -> None:
        now = time.perf_counter() if now is None else now
        self._samples.append((now, step))
        while len(self._samples) > 2 and now - self._samples[0][0] > self.window:
            self._samples.popleft()

    def rate(self, now: float | None = None) -> float:
        now = time.perf_counter() if now is None else now
        if len(self._samples) < 2 or now - self._samples[-1][0] > 0.5:
            return 0.0
        (t0, s0), (t1, s1) = self._samples[0], self._samples[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0

    def clear(self) -> None:
        self._samples.clear()


#: the widest text each label shows: labels get this fixed width, so a changing number
#: never relayouts the window (a relayout repaints every dock)
_WIDEST = {
    "state": "Diverged at step 10,000,000",
    "epoch": "Epoch 1,000,000",
    "step": "Step 100,000,000",
    "loss": "Loss 0.0001234 · test 0.0001234",
    "accuracy": "Accuracy 100.0% · test 100.0%",
    "speed": "100,000 steps/s",
}


#: the labels in the order they are given up when the row is too narrow (last: kept longest)
_DROP_ORDER = ("speed", "epoch", "accuracy", "loss", "step", "state")


class FittingRow(QWidget):
    """Fixed-width labels side by side, right-aligned; those that do not fit are hidden in
    :data:`_DROP_ORDER`. Its minimum is the two most needed labels, so the status bar never
    sets the window's minimum width."""

    def __init__(self, labels: dict[str, QLabel], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels = labels
        for label in labels.values():
            label.setParent(self)

    def _widths(self, names) -> int:
        return sum(self.labels[n].width() for n in names)

    def sizeHint(self) -> QSize:
        h = max(label.height() for label in self.labels.values())
        return QSize(self._widths(self.labels), h)

    def minimumSizeHint(self) -> QSize:
        return QSize(self._widths(_DROP_ORDER[-2:]), self.sizeHint().height())

    def shown(self) -> tuple[str, ...]:
        """The labels that fit now, in display order."""
        room = self.width()
        dropped: set[str] = set()
        for name in _DROP_ORDER:
            if self._widths(n for n in self.labels if n not in dropped) <= room:
                break
            dropped.add(name)
        return tuple(n for n in self.labels if n not in dropped)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place()

    def _place(self) -> None:
        shown = set(self.shown())
        x = self.width() - self._widths(shown)
        for name, label in self.labels.items():
            label.setVisible(name in shown)
            if name in shown:
                label.move(x, (self.height() - label.height()) // 2)
                x += label.width()


def _set(label: QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)


class StatusPanel:
    """Permanent labels in a status bar, updated from the window's latest numbers."""

    def __init__(self, bar: QStatusBar):
        self.bar = bar
        bar.setSizeGripEnabled(False)
        self.state = QLabel("Paused")
        self.epoch = QLabel()
        self.step = QLabel()
        self.loss = QLabel()
        self.accuracy = QLabel()
        self.speed = QLabel()
        self.state.setToolTip("Space: play or pause; Ctrl+Right: one step; Ctrl+R: reset")
        self.loss.setToolTip("Loss on the training set and on the held-out test set")
        self.accuracy.setToolTip("Share of examples classified correctly, training / test")
        self.speed.setToolTip("Minibatches (steps) trained per second")
        labels = {}
        for name, widest in _WIDEST.items():
            w: QLabel = getattr(self, name)
            w.setContentsMargins(6, 0, 6, 0)
            width = w.fontMetrics().horizontalAdvance(widest) + 14
            w.setFixedSize(width, w.sizeHint().height())
            labels[name] = w
        self.row = FittingRow(labels)
        bar.addPermanentWidget(self.row, 1)
        self.show(0, 0, None, None, None, None, 0.0)

    def set_state(self, text: str) -> None:
        _set(self.state, text)

    def show(
        self, epoch: int, step: int, train_loss: float | None, test_loss: float | None,
        train_acc: float | None, test_acc: float | None, steps_per_s: float,
    ) -> None:
        _set(self.epoch, f"Epoch {epoch:,}")
        _set(self.step, f"Step {step:,}")
        loss = f"Loss {_num(train_loss)}"
        if test_loss is not None:
            loss += f" · test {_num(test_loss)}"
        _set(self.loss, loss)
        if train_acc is None and test_acc is None:
            _set(self.accuracy, "")  # regression: no accuracy (the label keeps its place)
        else:
            acc = f"Accuracy {_pct(train_acc)}"
            if test_acc is not None:
                acc += f" · test {_pct(test_acc)}"
            _set(self.accuracy, acc)
        _set(self.speed, f"{steps_per_s:,.0f} steps/s")

    def message(self, text: str, ms: int = 0) -> None:
        self.bar.showMessage(text, ms)
