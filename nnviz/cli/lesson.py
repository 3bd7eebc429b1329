"""``nnviz lesson``: the headless part is the lessons package's
(:func:`nnviz.lessons.library.cmd_lesson`: ``--list``, ``NAME --check``, ``--check-all``,
``list``/``show``/``run``); this adds what only the command line above the GUI can do,
``nnviz lesson NAME``: the Lessons window open on that lesson, ready to run.
"""

from __future__ import annotations

import argparse
from typing import Any

from nnviz.lessons.format import Lesson
from nnviz.lessons.library import cmd_lesson as headless_lesson


def lesson_window(lesson: Lesson) -> Any:
    """A Lessons window (not shown) with ``lesson`` chosen: its item in the list when it is
    a shipped lesson as shipped, else added to the list as an opened file is."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QListWidgetItem

    from nnviz.gui.lessons.window import LessonWindow

    window = LessonWindow()
    for row in range(window.list.count()):
        shipped = window.list.item(row).data(Qt.ItemDataRole.UserRole)
        if isinstance(shipped, Lesson) and shipped == lesson:
            window.list.setCurrentRow(row)
            return window
    item = QListWidgetItem(lesson.title)  # a file, or a shipped lesson shortened with --steps
    item.setData(Qt.ItemDataRole.UserRole, lesson)
    item.setToolTip(str(lesson.path or lesson.name))
    window.list.addItem(item)
    window.list.setCurrentItem(item)
    return window


def open_lesson_window(lesson: Lesson) -> int:
    """Show the Lessons window on ``lesson`` until it is closed; 0 on a normal close."""
    from nnviz.gui.qt_setup import collect_garbage_on_gui_thread, install_message_filter, make_app

    app = make_app()
    install_message_filter()
    collect_garbage_on_gui_thread(app)
    window = lesson_window(lesson)
    window.show()
    window.raise_()
    window.activateWindow()
    try:
        return int(app.exec())
    finally:
        window.shutdown()  # the runs end with the window


def cmd_lesson(args: argparse.Namespace) -> int:
    """``nnviz lesson``: 0 when the checks held (or the window closed normally), 1 when
    not, a ValueError (exit status 2) for a bad name, file or combination."""
    return headless_lesson(args, open_window=open_lesson_window)


__all__ = ["cmd_lesson", "lesson_window", "open_lesson_window"]
