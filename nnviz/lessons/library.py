"""The lessons shipped with nnviz (``resources/lessons/*.json``), and running one by name
or path with a printed report: what ``nnviz lesson`` does."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from nnviz.lessons.format import Lesson, load_lesson_file
from nnviz.resources import resource_dir


def lessons_dir() -> Path:
    """Where the shipped lesson files are."""
    return resource_dir() / "lessons"


def lesson_names() -> tuple[str, ...]:
    """The shipped lessons' names (their file names without ``.json``), sorted."""
    folder = lessons_dir()
    if not folder.is_dir():
        return ()
    return tuple(sorted(p.stem for p in folder.glob("*.json") if p.is_file()))


def shipped_lesson(name: str) -> Lesson:
    """The shipped lesson ``name`` (KeyError naming the known ones if there is none)."""
    if name not in lesson_names():
        raise KeyError(f"no lesson {name!r}; the shipped ones: {', '.join(lesson_names())}")
    return load_lesson_file(lessons_dir() / f"{name}.json")


def find_lesson(name_or_path: str) -> Lesson:
    """A shipped lesson by name, or a lesson file by path (checked like every file)."""
    if name_or_path in lesson_names():
        return shipped_lesson(name_or_path)
    if os.sep in name_or_path or name_or_path.endswith(".json") or Path(name_or_path).exists():
        return load_lesson_file(name_or_path)
    raise KeyError(f"no lesson {name_or_path!r}; the shipped ones: {', '.join(lesson_names())}")


def describe(lesson: Lesson) -> str:
    """The lesson before it runs: title, claim, the runs and what to look at."""
    lines = [lesson.title, "", lesson.claim, "", f"Runs ({lesson.steps:,} steps each):"]
    for r in lesson.runs:
        changes = ", ".join(f"{k}={v}" for k, v in r.changes) or "the base settings"
        lines.append(f"  {r.name}: {r.label} ({changes})")
    if lesson.look_at:
        lines += ["", "Look at:"] + [f"  - {t}" for t in lesson.look_at]
    return "\n".join(lines)


def run_and_report(lesson: Lesson, out: Callable[[str], None] = print, quiet: bool = False,
                   show_figures: bool = False) -> bool:
    """Run ``lesson``, printing a line per checkpoint (unless ``quiet``) and the verdict
    (and each run's figures at the end with ``show_figures``); True when every check held."""
    from nnviz.lessons.runner import figures, run_lesson

    out(describe(lesson))
    out("")

    def progress(cp) -> None:
        if quiet:
            return
        parts = []
        for rec in cp.records:
            acc = rec.test_accuracy if rec.test_accuracy is not None else rec.train_accuracy
            shown = f"{rec.train_loss:.3f}" + ("" if acc is None else f"/{acc:.2f}")
            parts.append(f"{rec.run} {shown}")
        out(f"step {cp.step:>6,}: " + "  ".join(parts))

    result = run_lesson(lesson, progress)
    out("")
    if show_figures:
        for row in figures(result):
            shown = ", ".join(f"{k}={_short(v)}" for k, v in row.items() if k != "run" and v is not None)
            out(f"{row['run']}: {shown}")
        out("")
    out(result.verdict.report())
    out(f"({result.seconds:.1f} s)")
    return result.verdict.passed


def add_lesson_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``lesson`` (``list``, ``show NAME``, ``run NAME``) to the ``nnviz`` command's
    sub-commands ``sub``; the command is :func:`cmd_lesson`."""
    p = sub.add_parser("lesson", help="run a lesson of the notes headless, with its outcome checked")
    what = p.add_subparsers(dest="lesson_command", required=True)
    what.add_parser("list", help="the shipped lessons")
    show = what.add_parser("show", help="a lesson's claim, runs and checks, without running it")
    show.add_argument("lesson", help="a shipped lesson's name or a lesson file")
    run = what.add_parser("run", help="make the lesson's runs side by side and check the outcome")
    run.add_argument("lesson", help="a shipped lesson's name or a lesson file")
    run.add_argument("--steps", type=int, help="fewer steps: a quick look (the checks may then fail)")
    run.add_argument("--quiet", action="store_true", help="no line per checkpoint")
    run.add_argument("--figures", action="store_true", help="each run's figures at the end")
    return p


def cmd_lesson(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """``nnviz lesson``: 0 when the lesson's checks held (or for list/show), 1 when they did
    not; a bad name or file raises ValueError (one line from the CLI, exit status 2)."""
    if args.lesson_command == "list":
        for name in lesson_names():
            out(f"{name}: {shipped_lesson(name).title}")
        return 0
    try:
        lesson = find_lesson(args.lesson)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    if args.lesson_command == "show":
        out(describe(lesson))
        out("")
        out("Checks:")
        for c in lesson.checks:
            out(f"  - {c.says or c.kind}")
        return 0
    if getattr(args, "steps", None) is not None:
        lesson = lesson.with_steps(args.steps)
    ok = run_and_report(lesson, out, quiet=args.quiet, show_figures=args.figures)
    return 0 if ok else 1


def _short(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return "[" + ", ".join(_short(x) for x in v) + "]"
    return str(v)


__all__ = ["add_lesson_parser", "cmd_lesson", "describe", "find_lesson", "lesson_names", "lessons_dir",
           "run_and_report", "shipped_lesson"]
