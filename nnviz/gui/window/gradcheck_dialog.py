"""Train > Gradient check: backprop against numerical gradients, in the background.

The check runs on a copy of the session in its own thread (it can take seconds on a big
network), reports progress per parameter array and ends in a table with a verdict per row.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nnviz.core.gradcheck import gradient_check
from nnviz.core.session import Session
from nnviz.gui.worker import track_thread

#: examples the check evaluates the loss on (the loss is recomputed 4 times per entry)
CHECK_EXAMPLES = 64
#: relative errors below these are fine (CS231n's rule of thumb); a difference that
#: straddles a ReLU kink can reach about 1e-2 without a bug
GOOD = 1e-6
ACCEPTABLE = 1e-2


def verdict(max_rel_error: float) -> str:
    if not np.isfinite(max_rel_error):
        return "not finite"
    if max_rel_error < GOOD:
        return "correct"
    if max_rel_error < ACCEPTABLE:
        return "probably correct (a kink such as ReLU's at 0, or rounding)"
    return "WRONG: the gradient does not match"


class _CheckJob(QObject):
    progress = Signal(int, int)
    done = Signal(object)  # list of rows
    failed = Signal(str)

    def __init__(self, session: Session):
        super().__init__(None)
        self.session = session

    @Slot()
    def run(self) -> None:
        try:
            tr = self.session.trainer
            n = min(CHECK_EXAMPLES, len(tr.X))
            cfg = tr.config
            rows = gradient_check(
                self.session.network, tr.X[:n], tr.y[:n], l1=cfg.l1, l2=cfg.l2,
                progress=lambda d, t: self.progress.emit(d, t),
            )
            self.done.emit(rows)
        except Exception as exc:  # shown in the dialog, never a crash
            self.failed.emit(str(exc))
        finally:
            self.thread().quit()


class GradCheckDialog(QDialog):
    """Progress, then one row per parameter array with its largest relative error."""

    finished_check = Signal(object)

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Gradient check")
        self.session = session
        self.rows = None
        lay = QVBoxLayout(self)
        n = min(CHECK_EXAMPLES, session.trainer.n_train)
        intro = QLabel(
            f"Backprop gradients against centred differences of the loss, on {n} training "
            f"examples at step {session.trainer.step_count:,}. Relative errors below {GOOD:g} are "
            f"correct; where a difference straddles a kink (ReLU at 0) errors up to about {ACCEPTABLE:g} "
            f"are expected."
        )
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.bar = QProgressBar()
        self.bar.setRange(0, 2 * session.network.n_layers)
        self.bar.setValue(0)
        lay.addWidget(self.bar)
        self.message = QLabel("Checking…")
        lay.addWidget(self.message)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Layer", "Parameter", "Checked", "Max rel. error", "Verdict"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        lay.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        lay.addWidget(buttons)
        self.resize(640, 380)
        self._thread: QThread | None = None
        self._started = 0.0

    def start(self) -> None:
        self._thread = QThread()
        self._thread.setObjectName("nnviz-gradcheck")
        self._job = _CheckJob(self.session)
        self._job.moveToThread(self._thread)
        self._thread.started.connect(self._job.run)
        self._job.progress.connect(self._on_progress)
        self._job.done.connect(self._on_done)
        self._job.failed.connect(self._on_failed)
        track_thread(self._thread)
        self._started = time.perf_counter()
        self._thread.start()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def stop(self) -> None:
        """Wait for the check (it cannot be interrupted; it works on a copy)."""
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()

    def _on_progress(self, done: int, total: int) -> None:
        self.bar.setMaximum(total)
        self.bar.setValue(done)
        self.message.setText(f"Checked {done} of {total} parameter arrays…")

    def _on_done(self, rows) -> None:
        self.rows = rows
        self.bar.setValue(self.bar.maximum())
        worst = max((r.max_rel_error for r in rows), default=0.0)
        self.message.setText(
            f"Done in {time.perf_counter() - self._started:.1f} s. Largest relative error {worst:.2e}: "
            f"{verdict(worst)}."
        )
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            n_layers = self.session.network.n_layers
            layer = "output" if r.layer == n_layers - 1 else f"hidden {r.layer + 1}"
            cells = [layer, "weights" if r.param == "W" else "biases", f"{r.n_checked}/{r.n_total}",
                     f"{r.max_rel_error:.2e}", verdict(r.max_rel_error)]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j in (2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, j, item)
        self.finished_check.emit(rows)

    def _on_failed(self, message: str) -> None:
        self.message.setText(f"The check failed: {message}")
        self.finished_check.emit(None)

    def closeEvent(self, event) -> None:
        self.stop()
        super().closeEvent(event)
