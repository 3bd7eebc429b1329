"""The Lessons window: a shipped lesson runs side by side and gets a measured verdict."""

from __future__ import annotations

import json
import pathlib

import pytest

from nnviz.gui.lessons import window as lesson_window
from nnviz.gui.lessons.figures import METRICS, table_row
from nnviz.gui.lessons.window import LessonWindow
from nnviz.lessons.library import lesson_names, shipped_lesson
from tests.gui.waits import WAIT_MS


@pytest.fixture
def lessons(qtbot):
    w = LessonWindow()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.shutdown()


def test_the_shipped_lessons_are_listed(lessons):
    assert lessons.list.count() == len(lesson_names()) >= 1
    assert lessons.lesson is not None and lessons.title.text() == lessons.lesson.title


def test_a_lesson_runs_side_by_side_and_is_checked(lessons, qtbot):
    lesson = shipped_lesson("xor_needs_hidden_layer").with_steps(600, 100)
    lessons.show_lesson(lesson)
    lessons.run()
    qtbot.waitUntil(lambda: lessons.verdict is not None, timeout=4 * WAIT_MS)
    names = [r.name for r in lesson.runs]
    assert all(len(lessons.history[n]) == len(lesson.checkpoint_steps) for n in names)
    # every run measured at the same steps (lockstep)
    steps = {tuple(rec.step for rec in lessons.history[n]) for n in names}
    assert steps == {lesson.checkpoint_steps}
    assert lessons.multiples.frames >= 1 and set(lessons.multiples.plots) == set(names)
    for i, name in enumerate(names):
        row = table_row(lessons.history[name])
        assert lessons.table.item(i, 0).text() == row[0] != "–"
    text = lessons.verdict_label.text()
    assert ("As the notes say" in text) == lessons.verdict.passed
    assert all(r.text.split(":")[0] in text for r in lessons.verdict.results)
    for metric in METRICS:  # every curve choice draws from the records
        lessons.metric_combo.setCurrentText(metric)


def test_a_broken_lesson_file_is_refused_with_a_message(lessons, tmp_path, monkeypatch):
    said = []
    monkeypatch.setattr(lesson_window.QMessageBox, "warning", lambda *a: said.append(a[2]))
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"format": "nnviz-lesson", "format_version": 1, "title": "x"}))
    before = lessons.list.count()
    assert not lessons.open_file(str(path))
    assert len(said) == 1 and said[0]
    assert lessons.list.count() == before


def test_a_teachers_lesson_file_opens(lessons, tmp_path):
    src = shipped_lesson("xor_needs_hidden_layer").path
    path = tmp_path / "mine.json"
    path.write_bytes(pathlib.Path(src).read_bytes())
    assert lessons.open_file(str(path))
    assert lessons.lesson.title == shipped_lesson("xor_needs_hidden_layer").title


def test_the_main_window_opens_the_lessons(window, qtbot):
    window.act_lessons.trigger()
    assert window.lessons_window is not None and window.lessons_window.isVisible()
    window.act_lessons.trigger()  # one window, raised again
    assert window.lessons_window is window.lessons_window


def test_a_lesson_of_calculations_shows_its_tables_and_verdict(lessons, qtbot):
    lesson = shipped_lesson("softmax_computed_stably")
    lessons.show_lesson(lesson)
    assert lessons.pages.count() == 1 and lessons.pages.widget(0) is lessons.calc_panel
    table = lessons.calc_panel.tables["softmax"]
    assert table.cell(0, "naive_finite") == "–"  # the rows are there before the numbers
    lessons.run()
    qtbot.waitUntil(lambda: lessons.verdict is not None, timeout=WAIT_MS)
    assert lessons.verdict.passed, lessons.verdict.report()
    table = lessons.calc_panel.tables["softmax"]  # Run shows the lesson afresh
    assert table.cell(0, "naive_finite") == "no" and table.cell(3, "naive_finite") == "yes"
    assert table.cell(0, "top_probability") == "0.665"
    assert table.table.item(0, 1).text() == "[nan, nan, nan]"
    assert "As the notes say" in lessons.verdict_label.text()
    assert lessons.verdict_box.height() <= lessons.height() // 4 + 1


def test_a_lesson_with_runs_and_calculations_has_both_pages(lessons, qtbot):
    lesson = shipped_lesson("svm_is_satisfied_softmax_never").with_steps(200, 100)
    lessons.show_lesson(lesson)
    assert lessons.pages.count() == 2
    assert lessons.pages.widget(0) is lessons.lower and lessons.pages.widget(1) is lessons.calc_panel
    lessons.run()
    qtbot.waitUntil(lambda: lessons.verdict is not None, timeout=4 * WAIT_MS)
    table = lessons.calc_panel.tables["notes"]
    assert [table.cell(i, "svm_loss") for i in range(3)] == ["0", "0", "0"]
    assert table.cell(1, "softmax_loss") == "0.551"
    assert table.cell(2, "softmax_gradient") == "2.39e-48"
    # the calculations' checks hold whatever the steps; the runs' are measured on 200
    assert all(r.passed for r in lessons.verdict.results[:5])


def test_the_curves_open_on_what_the_checks_measure(lessons):
    lessons.show_lesson(shipped_lesson("sigmoid_updates_share_one_sign"))
    assert lessons.metric_combo.currentText() == "one-sign weight updates, layer 2"
    lessons.show_lesson(shipped_lesson("vanishing_gradients"))
    assert lessons.metric_combo.currentText() == "gradient, first layer / last"


def test_the_window_fits_the_screen_and_names_the_curves_under_the_plot(lessons):
    from PySide6.QtWidgets import QApplication

    w = LessonWindow()  # its own size, not the fixture's
    avail = QApplication.primaryScreen().availableGeometry()
    assert w.width() <= avail.width() and w.height() <= avail.height()
    w.shutdown()
    w.close()
    lessons.show_lesson(shipped_lesson("more_units_more_complex_regions"))
    legend = lessons.curves_legend.text()
    assert all(name in legend for name in ("units3", "units6", "units20"))
    assert lessons.curves.getPlotItem().legend is None  # nothing drawn over the curves
    assert lessons.run_button.shortcut().toString() == "Ctrl+R"
