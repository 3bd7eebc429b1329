"""The Lessons window: pick a lesson, read its claim, press Run, watch the runs side by side,
and read the verdict measured on them.

Checkpoints arrive from :class:`~nnviz.gui.lessons.worker.LessonWorker`; the window keeps
the newest and draws it at most :data:`DRAW_MS` apart, so however fast the runs go the
drawing costs the same.
"""

from __future__ import annotations

import html
import math

import numpy as np
import PySide6  # noqa: F401  (PySide6 before pyqtgraph)

# isort: split
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nnviz.app.run_settings import SettingsError, make_dataset
from nnviz.gui.lessons.calculations import CalculationsPanel
from nnviz.gui.lessons.figures import LOG_METRICS, METRICS, TABLE_HEADER, first_curve, table_row
from nnviz.gui.lessons.multiples import DecisionMultiples
from nnviz.gui.lessons.worker import LessonWorker
from nnviz.gui.views import palette
from nnviz.io.errors import FileFormatError
from nnviz.lessons.checks import Verdict
from nnviz.lessons.format import Lesson, load_lesson_file
from nnviz.lessons.library import lesson_names, shipped_lesson
from nnviz.lessons.records import Checkpoint, RunRecord

#: checkpoints are drawn at most this often (ms)
DRAW_MS = 150
#: one colour per run (up to the 8 a comparison may have)
RUN_COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
               (140, 86, 75), (227, 119, 194), (23, 190, 207))
_GOOD, _BAD = "#1b7f3a", "#a05a00"


def _swatch(colour: tuple[int, int, int]) -> str:
    return f"<span style='color: rgb{colour}'>&#9632;</span>"


class LessonWindow(QMainWindow):
    """The lessons shipped in ``resources/lessons`` and any lesson file a teacher writes."""

    lessonFinished = Signal(object)  # the LessonResult

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("nnvizLessonWindow")
        self.setWindowTitle("Lessons — nnviz")
        self.lesson: Lesson | None = None
        self.worker: LessonWorker | None = None
        self.history: dict[str, list[RunRecord]] = {}
        self.verdict: Verdict | None = None
        self._latest: Checkpoint | None = None
        self._dirty = False
        self._dark = False
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(DRAW_MS)
        self._timer.timeout.connect(self._draw)
        self._timer.start()
        self.set_theme(False)
        self._fill_list()
        self._fit_to_screen()

    def _fit_to_screen(self) -> None:
        """Most of the screen, never more: a 1280x720 laptop shows the verdict, a large
        screen gives the small multiples room (at most 1800x1100)."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None:
            self.resize(1200, 760)
            return
        avail = screen.availableGeometry()
        w = min(int(avail.width() * 0.92), 1800)
        self.resize(w, min(int(avail.height() * 0.92), 1100))
        side = max(240, min(int(w * 0.2), 360))  # the lessons' titles whole where there is room
        self._split.setSizes([side, w - side])

    # --- building --------------------------------------------------------------------------
    def _build(self) -> None:
        self.list = QListWidget()
        self.list.setMinimumWidth(220)
        self.list.currentItemChanged.connect(self._on_pick)
        open_button = QPushButton("Open lesson file…")
        open_button.setToolTip("A lesson a teacher wrote (JSON, see docs/lessons.md)")
        open_button.clicked.connect(self.open_file)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(6, 6, 6, 6)
        lv.addWidget(QLabel("<b>Lessons</b>"))
        lv.addWidget(self.list, 1)
        lv.addWidget(open_button)

        self.title = QLabel()
        self.title.setStyleSheet("font-size: 15pt; font-weight: bold;")
        self.title.setWordWrap(True)
        self.claim = QLabel()
        self.claim.setWordWrap(True)
        self.runs_text = QLabel()
        self.runs_text.setWordWrap(True)
        self.runs_text.setTextFormat(Qt.TextFormat.RichText)
        self.look_at = QLabel()
        self.look_at.setWordWrap(True)
        self.look_at.setTextFormat(Qt.TextFormat.RichText)
        self.run_button = QPushButton("Run")
        self.run_button.setShortcut(QKeySequence("Ctrl+R"))
        self.run_button.setToolTip("Train every run of the lesson side by side, then check the claim "
                                   "(Ctrl+R)")
        self.run_button.clicked.connect(self.toggle_run)
        self.progress = QProgressBar()
        self.progress.setFormat("step %v of %m")
        self.state = QLabel()
        top_row = QHBoxLayout()
        top_row.addWidget(self.run_button)
        top_row.addWidget(self.progress, 1)
        top_row.addWidget(self.state)

        self.multiples = DecisionMultiples()
        self.metric_combo = QComboBox()
        self.metric_combo.addItems(list(METRICS))
        self.metric_combo.currentTextChanged.connect(lambda _t: self._redraw_curves())
        self.curves = pg.PlotWidget()
        self.curves.setMenuEnabled(False)
        self.curves.setLabel("bottom", "training step")
        self.curves.showGrid(x=True, y=True, alpha=0.25)
        self.curves.getAxis("left").enableAutoSIPrefix(False)
        self._curve_items: dict[str, pg.PlotDataItem] = {}
        curves_box = QWidget()
        cv = QVBoxLayout(curves_box)
        cv.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Curves:"))
        row.addWidget(self.metric_combo)
        row.addStretch(1)
        cv.addLayout(row)
        cv.addWidget(self.curves, 1)
        self.curves_legend = palette.legend_line("lessonCurvesLegend")
        cv.addWidget(self.curves_legend)
        self.table = QTableWidget(0, len(TABLE_HEADER))
        self.table.setHorizontalHeaderLabels(list(TABLE_HEADER))
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.verdict_label = QLabel()
        self.verdict_label.setWordWrap(True)
        self.verdict_label.setTextFormat(Qt.TextFormat.RichText)
        self.verdict_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.calc_panel = CalculationsPanel()
        self.plots = plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.multiples)
        plots.addWidget(curves_box)
        plots.setSizes([600, 400])
        self.lower = lower = QSplitter(Qt.Orientation.Vertical)
        lower.addWidget(plots)
        lower.addWidget(self.table)
        lower.setSizes([460, 160])
        lower.setStretchFactor(0, 3)
        lower.setStretchFactor(1, 1)
        # the header and two runs' rows, whatever the maps take
        self.table.setMinimumHeight(3 * self.table.verticalHeader().defaultSectionSize() + 20)
        # the runs and the calculations are pages: a lesson with both shows them as tabs
        # (stacked, neither had room at 1280x720), a lesson with one shows it alone
        self.pages = QTabWidget()
        self.pages.setTabBarAutoHide(True)
        self.pages.setDocumentMode(True)
        self.verdict_box = QScrollArea()
        self.verdict_box.setWidget(self.verdict_label)
        self.verdict_box.setWidgetResizable(True)
        self.verdict_box.setFrameShape(QFrame.Shape.NoFrame)
        self.verdict_box.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(6, 6, 6, 6)
        for w in (self.title, self.claim, self.runs_text, self.look_at):
            rv.addWidget(w)
        rv.addLayout(top_row)
        rv.addWidget(self.pages, 1)
        rv.addWidget(self.verdict_box)
        self._split = split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([240, 960])
        self.setCentralWidget(split)

    def _fill_list(self) -> None:
        self.list.clear()
        for name in lesson_names():
            try:
                lesson = shipped_lesson(name)
            except (FileFormatError, OSError, KeyError) as exc:  # a broken install: say which
                item = QListWidgetItem(f"{name} (cannot be read)")
                item.setToolTip(str(exc))
                item.setFlags(Qt.ItemFlag.NoItemFlags)
                self.list.addItem(item)
                continue
            item = QListWidgetItem(lesson.title)
            item.setData(Qt.ItemDataRole.UserRole, lesson)
            item.setToolTip(lesson.claim)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    # --- picking a lesson ------------------------------------------------------------------
    def _on_pick(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is None:
            return
        lesson = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(lesson, Lesson):
            self.show_lesson(lesson)

    def open_file(self, path: str | None = None) -> bool:
        """A lesson file from anywhere, checked like every file; a message if it is not one."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Open lesson", "",
                                                  "nnviz lessons (*.json);;All files (*)")
            if not path:
                return False
        try:
            lesson = load_lesson_file(path)
        except (FileFormatError, OSError) as exc:
            QMessageBox.warning(self, "Cannot open the lesson", str(exc))
            return False
        item = QListWidgetItem(lesson.title)
        item.setData(Qt.ItemDataRole.UserRole, lesson)
        item.setToolTip(str(path))
        self.list.addItem(item)
        self.list.setCurrentItem(item)
        return True

    def show_lesson(self, lesson: Lesson) -> None:
        """Show ``lesson`` ready to run (stops the one running)."""
        self.stop()
        self.lesson = lesson
        self.history = {r.name: [] for r in lesson.runs}
        self.verdict = None
        self._latest = None
        self.title.setText(lesson.title)
        self.claim.setText(lesson.claim)
        runs = "<br>".join(f"{_swatch(RUN_COLOURS[i % len(RUN_COLOURS)])} <b>{html.escape(r.name)}</b>: "
                           f"{html.escape(r.label)}" for i, r in enumerate(lesson.runs))
        parts = [f"Runs ({lesson.steps:,} steps each):<br>{runs}"] if lesson.runs else []
        if lesson.calculations:
            calcs = ", ".join(f"<b>{html.escape(c.label)}</b>" for c in lesson.calculations)
            parts.append(f"Calculations (worked out by nnviz's own functions): {calcs}")
        self.runs_text.setText("<br>".join(parts))
        self._lay_out_for(lesson)
        looks = "".join(f"<li>{html.escape(t)}</li>" for t in lesson.look_at)
        self.look_at.setText(f"Look at:<ul style='margin: 0'>{looks}</ul>" if looks else "")
        self.progress.setRange(0, max(lesson.steps, 1))
        self.progress.setValue(0)
        self.state.setText("")
        what = "on the runs when they end" if lesson.runs else "on the calculations"
        self.verdict_label.setText(f"Press <b>Run</b>: the verdict is measured {what}.")
        self._set_verdict_style(None)
        X = y = None
        n_classes = 2
        try:
            if lesson.runs:
                data = make_dataset(lesson.runs[0].settings.data, None)
                if data.n_features == 2 and data.task == "classification":
                    X, y, n_classes = data.X, data.y, data.n_classes
        except (SettingsError, ValueError, MemoryError):
            pass  # the map panel says there is no plane; the run itself reports a real problem
        self.multiples.set_runs([(r.name, r.label) for r in lesson.runs], X, y, n_classes)
        self.multiples.set_theme(self._dark)
        run_metrics = [m.metric for c in lesson.checks for m in (c.left, c.right, *c.measures)
                       if m is not None and m.calculation is None]
        self.metric_combo.setCurrentText(first_curve(run_metrics))
        self._setup_curves()
        self.table.setRowCount(len(lesson.runs))
        self.table.setVerticalHeaderLabels([r.name for r in lesson.runs])
        for i in range(len(lesson.runs)):
            for j in range(len(TABLE_HEADER)):
                self.table.setItem(i, j, QTableWidgetItem("–"))
        self.run_button.setText("Run")

    # --- running -----------------------------------------------------------------------------
    def toggle_run(self) -> None:
        if self.worker is not None and self.worker.running:
            self.stop()
        else:
            self.run()

    def run(self) -> None:
        """Train the lesson's runs (again, from their first weights)."""
        if self.lesson is None:
            return
        self.show_lesson(self.lesson)
        self.worker = LessonWorker(self.lesson, self)
        self.worker.checkpointReady.connect(self._on_checkpoint)
        self.worker.calculationReady.connect(self._on_calculation)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.start()
        self.run_button.setText("Stop")
        n = len(self.lesson.runs)
        self.state.setText(f"starting {n} runs…" if n else "calculating…")

    def stop(self) -> None:
        """End the running lesson after its current checkpoint (the verdict is on what was made)."""
        if self.worker is not None and self.worker.running:
            self.worker.stop()
            self.state.setText("stopping…")

    def _on_checkpoint(self, cp: Checkpoint) -> None:
        if self.lesson is None or self.sender() is not self.worker:
            return
        for rec in cp.records:  # figures kept for the curves; only the newest maps are drawn
            self.history.setdefault(rec.run, []).append(rec.without_snapshot())
        self._latest = cp
        self._dirty = True

    def _on_calculation(self, result) -> None:
        if self.lesson is None or self.sender() is not self.worker:
            return
        self.calc_panel.show_result(result)

    def _lay_out_for(self, lesson: Lesson) -> None:
        """Calculations on top when there are any; the runs' maps, curves and table only
        when there are runs (a lesson of calculations alone gives its tables the room)."""
        self.calc_panel.set_lesson(lesson)
        has_runs, has_calcs = bool(lesson.runs), bool(lesson.calculations)
        while self.pages.count():
            self.pages.removeTab(0)
        if has_runs:
            n = len(lesson.runs)
            self.pages.addTab(self.lower, f"{n} run{'s' * (n != 1)} side by side")
        for calc in lesson.calculations[:1] if has_calcs else ():
            more = len(lesson.calculations) - 1
            self.pages.addTab(self.calc_panel, f"Calculation: {calc.label}" + (f" (+{more})" if more else ""))
        self.progress.setVisible(has_runs)
        self._fit_verdict()

    def _fit_verdict(self) -> None:
        """The verdict takes the height of its lines, at most a quarter of the window (then
        it scrolls): a lesson of ten checks left the runs a sliver at 1280x720."""
        self.verdict_label.adjustSize()
        want = self.verdict_label.heightForWidth(max(200, self.verdict_box.viewport().width())) + 4
        self.verdict_box.setFixedHeight(max(40, min(want, self.height() // 4)))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_verdict()

    def _on_finished(self, result) -> None:
        if self.sender() is not self.worker:
            return
        for table in result.calculations:  # (already shown as they came; the same objects)
            self.calc_panel.show_result(table)
        self._draw()
        self.verdict = result.verdict
        self.run_button.setText("Run again")
        done = "" if result.complete else " (stopped early: measured on the steps made)"
        self.state.setText(f"{result.seconds:.1f} s{done}")
        self.show_verdict(result.verdict)
        self.lessonFinished.emit(result)

    def _on_failed(self, message: str) -> None:
        if self.sender() is not self.worker:
            return
        self.run_button.setText("Run")
        self.state.setText("")
        self.verdict_label.setText(f"<b>The lesson could not run:</b> {html.escape(message)}")
        self._fit_verdict()
        self._set_verdict_style(False)

    def show_verdict(self, verdict: Verdict) -> None:
        lines = [f"<b>{html.escape(verdict.headline[:1].upper() + verdict.headline[1:])}</b>"]
        lines += [f"{'✔' if r.passed else '✘'} {html.escape(r.text)}" for r in verdict.results]
        if verdict.try_next:
            lines.append("What to try next: " + " · ".join(html.escape(t) for t in verdict.try_next))
        self.verdict_label.setText("<br>".join(lines))
        self._fit_verdict()
        self._set_verdict_style(verdict.passed)

    def _set_verdict_style(self, passed: bool | None) -> None:
        colour = {True: _GOOD, False: _BAD, None: "palette(mid)"}[passed]
        self.verdict_label.setStyleSheet(f"QLabel {{ border: 2px solid {colour}; border-radius: 4px; "
                                         f"padding: 6px; }}")

    # --- drawing ------------------------------------------------------------------------------
    def _draw(self) -> None:
        if not self._dirty or self._latest is None:
            return
        self._dirty = False
        cp = self._latest
        self.progress.setValue(min(cp.step, self.progress.maximum()))
        self.state.setText(f"step {cp.step:,}")
        self.multiples.show_checkpoint(cp)
        self._redraw_curves()
        for i, r in enumerate(self.lesson.runs if self.lesson else ()):
            hist = self.history.get(r.name)
            if not hist:
                continue
            for j, text in enumerate(table_row(hist)):
                self.table.item(i, j).setText(text)

    def _setup_curves(self) -> None:
        self.curves.clear()
        self._curve_items = {}
        for i, r in enumerate(self.lesson.runs if self.lesson else ()):
            colour = RUN_COLOURS[i % len(RUN_COLOURS)]
            self._curve_items[r.name] = self.curves.plot([], [], pen=pg.mkPen(colour, width=2), name=r.name)
        self._show_legend()

    def _show_legend(self) -> None:
        """The runs' colours under the plot, never over the curves (which end at the top
        right: an accuracy near 1)."""
        runs = self.lesson.runs if self.lesson else ()
        entries = [(r.name, RUN_COLOURS[i % len(RUN_COLOURS)], False) for i, r in enumerate(runs)]
        self.curves_legend.setText(palette.legend_html(entries, palette.theme(self._dark).css("foreground")))

    def _redraw_curves(self) -> None:
        which = self.metric_combo.currentText()
        value = METRICS[which]
        log = which in LOG_METRICS
        self.curves.setLogMode(y=log)
        self.curves.setLabel("left", which + (" (log scale)" if log else ""))
        for name, item in self._curve_items.items():
            hist = self.history.get(name, [])
            pts = [(rec.step, value(rec)) for rec in hist]
            pts = [(s, v) for s, v in pts if v is not None and math.isfinite(v) and (v > 0 or not log)]
            if pts:
                xs, ys = np.array(pts, float).T
                item.setData(xs, ys)
            else:
                item.setData([], [])

    def set_theme(self, dark: bool) -> None:
        self._dark = bool(dark)
        th = palette.theme(self._dark)
        self.multiples.set_theme(self._dark)
        self.curves.setBackground(th.background)
        palette.style_plot(self.curves.getPlotItem(), th)
        self._show_legend()

    # --- closing -------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the runs and wait for them (the children end with the pipe)."""
        self._timer.stop()
        if self.worker is not None and self.worker.running:
            self.worker.stop()
            self.worker.wait(30.0)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.stop()
        super().closeEvent(event)


__all__ = ["RUN_COLOURS", "LessonWindow"]
