"""The status bar: run state, epoch, step, loss, accuracy and training speed."""

from __future__ import annotations

import math
import time
from collections import deque

from PySide6.QtWidgets import QLabel, QStatusBar


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
        for name, widest in _WIDEST.items():
            w: QLabel = getattr(self, name)
            w.setContentsMargins(6, 0, 6, 0)
            width = w.fontMetrics().horizontalAdvance(widest) + 14
            w.setFixedSize(width, w.sizeHint().height())
            bar.addPermanentWidget(w)
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
