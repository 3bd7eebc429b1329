"""``python -m nnviz.lessons NAME|PATH [--steps N] [--quiet] [--list]``: run a lesson
headless (the same as ``nnviz lesson run``)."""

from __future__ import annotations

import argparse
import sys

from nnviz.io.errors import FileFormatError
from nnviz.lessons.library import find_lesson, lesson_names, run_and_report


def main(argv: list[str] | None = None) -> int:
    """Run one lesson and print its verdict; 0 when it held, 1 when not, 2 on a bad file."""
    p = argparse.ArgumentParser(prog="nnviz lesson", description="Run a lesson headless.")
    p.add_argument("lesson", nargs="?", help="a shipped lesson's name or a lesson file")
    p.add_argument("--steps", type=int, help="fewer steps (a quick look; checks may fail)")
    p.add_argument("--quiet", action="store_true", help="no line per checkpoint")
    p.add_argument("--figures", action="store_true", help="each run's figures at the end")
    p.add_argument("--list", action="store_true", help="list the shipped lessons")
    args = p.parse_args(argv)
    if args.list or not args.lesson:
        print("\n".join(lesson_names()))
        return 0
    try:
        lesson = find_lesson(args.lesson)
        if args.steps is not None:
            lesson = lesson.with_steps(args.steps)
    except (KeyError, FileFormatError, ValueError) as exc:
        print(f"nnviz: {exc.args[0] if isinstance(exc, KeyError) else exc}", file=sys.stderr)
        return 2
    return 0 if run_and_report(lesson, quiet=args.quiet, show_figures=args.figures) else 1


if __name__ == "__main__":
    sys.exit(main())
