"""``python -m nnviz.lessons list | show NAME | run NAME [--steps N] [--quiet] [--figures]``:
the same as ``nnviz lesson ...`` (:func:`nnviz.lessons.library.cmd_lesson`)."""

from __future__ import annotations

import argparse
import sys

from nnviz.lessons.library import add_lesson_parser, cmd_lesson


def main(argv: list[str] | None = None) -> int:
    """Run the lesson command; 0 when the checks held, 1 when not, 2 on a bad name or file."""
    parser = argparse.ArgumentParser(prog="nnviz")
    add_lesson_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["lesson", *(sys.argv[1:] if argv is None else argv)])
    try:
        return cmd_lesson(args)
    except ValueError as exc:  # a bad name or lesson file (FileFormatError is one)
        print(f"nnviz: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
