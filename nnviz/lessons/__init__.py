"""Lessons: claims of the lecture notes as experiments run side by side, with the outcome
checked on the runs made.

Qt-free. A lesson file (:mod:`nnviz.lessons.format`) names a base of settings, up to
:data:`~nnviz.lessons.format.MAX_RUNS` runs that differ from it, the steps, what to look
at and a declarative outcome check (:mod:`nnviz.lessons.checks`). The runner
(:mod:`nnviz.lessons.runner`) trains every run in its own process, in lockstep by step
count, and hands out immutable checkpoint records; the checks turn those into a verdict.
"""

from nnviz.lessons.checks import CheckResult, Verdict, evaluate
from nnviz.lessons.format import MAX_RUNS, Check, Lesson, LessonRun, Measure, load_lesson, load_lesson_file
from nnviz.lessons.library import lesson_names, lessons_dir, shipped_lesson
from nnviz.lessons.records import Checkpoint, LayerFigures, RunRecord
from nnviz.lessons.runner import ComparisonRunner, LessonResult, run_lesson

__all__ = [
    "MAX_RUNS",
    "Check",
    "CheckResult",
    "Checkpoint",
    "ComparisonRunner",
    "LayerFigures",
    "Lesson",
    "LessonResult",
    "LessonRun",
    "Measure",
    "RunRecord",
    "Verdict",
    "evaluate",
    "lesson_names",
    "lessons_dir",
    "load_lesson",
    "load_lesson_file",
    "run_lesson",
    "shipped_lesson",
]
