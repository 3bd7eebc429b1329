"""The lessons shipped with nnviz (``resources/lessons/*.json``), and running one by name
or path headless: a printed report, or one verdict line. The ``lesson`` command's parser
and its headless part live here, shared by ``nnviz lesson`` (:mod:`nnviz.cli.lesson`, which
adds the window) and ``python -m nnviz.lessons``."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

from nnviz.io.errors import FileFormatError
from nnviz.lessons.format import MAX_STEPS, Lesson, load_lesson_file
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
    lines = [lesson.title, "", lesson.claim]
    if lesson.runs:
        lines += ["", f"Runs ({lesson.steps:,} steps each):"]
    for r in lesson.runs:
        changes = ", ".join(f"{k}={v}" for k, v in r.changes) or "the base settings"
        lines.append(f"  {r.name}: {r.label} ({changes})")
    if lesson.calculations:
        lines += ["", "Calculations:"] + [f"  {c.name}: {c.label} ({c.kind})" for c in lesson.calculations]
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


#: the words ``nnviz lesson`` reads as a command, not a lesson's name (no shipped lesson
#: may be called so: a test holds it)
COMMAND_WORDS = ("list", "show", "run")


def check_line(lesson: Lesson, steps: int | None = None) -> tuple[bool, str]:
    """Run ``lesson`` headless (with ``steps``, shortened) and say its verdict in one line:
    ``name: as the notes say (3.2 s)`` or ``name: not this time: <the check> (…)``."""
    from nnviz.lessons.runner import LessonRunError, run_lesson

    t0 = time.perf_counter()
    try:
        if steps is not None:
            lesson = lesson.with_steps(steps)
        result = run_lesson(lesson)
    except (LessonRunError, ValueError) as exc:
        seconds = time.perf_counter() - t0
        return False, f"{lesson.name}: could not run: {_one_line(str(exc))} ({seconds:.1f} s)"
    passed = result.verdict.passed and result.complete
    return passed, f"{lesson.name}: {_one_line(result.verdict.headline)} ({result.seconds:.1f} s)"


def check_all(out: Callable[[str], None] = print, steps: int | None = None) -> bool:
    """Every shipped lesson checked in turn, a line each and a total with the time taken;
    True when every one held."""
    t0 = time.perf_counter()
    names = lesson_names()
    held = 0
    for name in names:
        try:
            lesson = shipped_lesson(name)
        except (FileFormatError, OSError, KeyError) as exc:
            out(f"{name}: cannot be read: {_one_line(str(exc))}")
            continue
        ok, line = check_line(lesson, steps)
        held += ok
        out(line)
    out(f"{held} of {len(names)} lessons as the notes say, in {time.perf_counter() - t0:.1f} s")
    return held == len(names) > 0


def add_lesson_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``lesson`` to the ``nnviz`` command's sub-commands ``sub``: ``--list``, ``NAME``
    (the window, where the caller can open one), ``NAME --check``, ``--check-all``, and the
    older spellings ``list``, ``show NAME``, ``run NAME``; the command is :func:`cmd_lesson`."""
    p = sub.add_parser("lesson", help="a lesson of the notes: open it, or check its outcome headless")
    p.add_argument("words", nargs="*", metavar="NAME",
                   help="a shipped lesson's name or a lesson file (also: list, show NAME, run NAME)")
    p.add_argument("--list", action="store_true", help="the shipped lessons")
    p.add_argument("--check", action="store_true",
                   help="run it headless and print one verdict line (exit 0 when the claim holds)")
    p.add_argument("--check-all", action="store_true",
                   help="check every shipped lesson: a line each and a total (exit 0 when all hold)")
    p.add_argument("--steps", type=int, help="fewer steps: a quick look (the checks may then fail)")
    p.add_argument("--quiet", action="store_true", help="run: no line per checkpoint")
    p.add_argument("--figures", action="store_true", help="run: each run's figures at the end")
    return p


def _mode(args: argparse.Namespace) -> tuple[str, str | None]:
    """What ``nnviz lesson`` was asked: ("list" | "check-all" | "show" | "run" | "check" |
    "open", the lesson named or None); ValueError for a combination that means nothing."""
    words = list(args.words)
    flags = [f for f, on in (("--list", args.list), ("--check-all", args.check_all), ("--check", args.check))
             if on]
    if len(flags) > 1:
        raise ValueError(f"give one of {' and '.join(flags)}")
    if words and words[0] in COMMAND_WORDS:
        verb, rest = words[0], words[1:]
        if flags:
            raise ValueError(f"{flags[0]} does not go with {verb}")
        if verb == "list":
            if rest:
                raise ValueError("list takes no lesson")
            return "list", None
        if len(rest) != 1:
            raise ValueError(f"{verb} takes one lesson: a shipped lesson's name or a lesson file")
        return verb, rest[0]
    if args.list or args.check_all:
        if words:
            raise ValueError(f"{flags[0]} takes no lesson")
        return flags[0].lstrip("-"), None
    if len(words) != 1:
        if words:
            raise ValueError(f"one lesson at a time, not {len(words)}")
        raise ValueError("give one lesson (a shipped lesson's name or a lesson file), or --list or "
                         "--check-all")
    return ("check" if args.check else "open"), words[0]


def cmd_lesson(args: argparse.Namespace, out: Callable[[str], None] = print,
               open_window: Callable[[Lesson], int] | None = None) -> int:
    """``nnviz lesson``: 0 when the lesson's checks held (or for a list, a description or a
    window closed), 1 when they did not; a bad name, file or combination raises ValueError
    (one line from the CLI, exit status 2). ``open_window`` shows a lesson in the Lessons
    window (the GUI layer's; without it, NAME alone is refused)."""
    mode, name = _mode(args)
    if args.steps is not None and not 1 <= args.steps <= MAX_STEPS:
        raise ValueError(f"--steps must be 1..{MAX_STEPS:,}, not {args.steps}")
    if mode == "list":
        for n in lesson_names():
            out(f"{n}: {shipped_lesson(n).title}")
        return 0
    if mode == "check-all":
        return 0 if check_all(out, args.steps) else 1
    try:
        lesson = find_lesson(name)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    if mode == "show":
        out(describe(lesson))
        out("")
        out("Checks:")
        for c in lesson.checks:
            out(f"  - {c.says or c.kind}")
        return 0
    if args.steps is not None:
        lesson = lesson.with_steps(args.steps)
    if mode == "check":
        ok, line = check_line(lesson)
        out(line)
        return 0 if ok else 1
    if mode == "open":
        if open_window is None:
            raise ValueError(f"{name}: the window opens with `nnviz lesson {name}`; here, give --check or "
                             f"run {name}")
        return open_window(lesson)
    ok = run_and_report(lesson, out, quiet=args.quiet, show_figures=args.figures)
    return 0 if ok else 1


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _short(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return "[" + ", ".join(_short(x) for x in v) + "]"
    return str(v)


__all__ = ["COMMAND_WORDS", "add_lesson_parser", "check_all", "check_line", "cmd_lesson", "describe",
           "find_lesson", "lesson_names", "lessons_dir", "run_and_report", "shipped_lesson"]
