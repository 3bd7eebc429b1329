"""The ``nnviz`` command's arguments: the sub-commands, their options, and how flag values are
read. ``train``'s run settings come from :mod:`nnviz.app.settings_schema`; a bad argument
raises :class:`CliError` (one line, exit 2) instead of printing the usage.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from nnviz import __version__

SUBCOMMANDS = ("train", "info", "predict", "export", "import", "bench", "lesson")


class CliError(Exception):
    """A problem to report in one line (exit status 2)."""


def _whole(text: str, minimum: int) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if v < minimum:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= {minimum}")
    return v


def _positive_int(text: str) -> int:
    """A count that may be zero (``--steps 0`` saves an untrained network; a seed)."""
    return _whole(text, 0)


def _count(text: str) -> int:
    """A count that must be at least one (a batch, epochs, examples, an interval)."""
    return _whole(text, 1)


def _float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return v


def _layers(text: str) -> list[int]:
    if text.strip() in ("", "none", "0"):
        return []
    try:
        units = [int(u) for u in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--layers takes widths like 8,8, not {text!r}") from None
    if any(u < 1 for u in units):
        raise argparse.ArgumentTypeError("every layer needs at least one unit")
    return units


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise CliError(message)


#: how each kind of setting's flag reads its value (see nnviz.app.settings_schema)
_CONVERTERS = {"count": _count, "whole": _positive_int, "number": _float, "layers": _layers}


def _add_setting_options(parser: argparse.ArgumentParser) -> None:
    """The ``train`` options that set a run's settings, from the settings schema. Each
    defaults to None: an omitted option keeps a saved network's value, or the default."""
    from nnviz.app.settings_schema import cli_settings

    for s in cli_settings():
        kw: dict[str, Any] = {"default": None}
        if s.help is not None:
            kw["help"] = s.help
        if s.cli == "switch":
            kw["action"] = "store_true"
        elif s.cli == "choice":
            kw["choices"] = s.choices
        else:
            kw["type"] = _CONVERTERS[s.cli]
        parser.add_argument(s.flag, **kw)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="nnviz", description="Watch a neural network learn.")
    p.add_argument("--version", action="version", version=f"nnviz {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    t = sub.add_parser("train", help="train a network headless")
    t.add_argument("network", nargs="?", help="a saved network to continue training from")
    t.add_argument("--data", help="a built-in data set (spiral, xor, ..., digits), mnist, fashion-mnist, "
                                  "cifar10 (downloaded once into the cache), or a CSV file, an .npz, "
                                  "a CIFAR-10 .bin or a folder of images")
    t.add_argument("--label", help="CSV: the label column's name (default: the last column)")
    _add_setting_options(t)
    g = t.add_mutually_exclusive_group()
    g.add_argument("--steps", type=_positive_int)
    g.add_argument("--epochs", type=_count)
    t.add_argument("--out", help="save the network here (.nnviz)")
    t.add_argument("--log", help="write one CSV row per step here")
    t.add_argument("--eval-every", type=_count, default=100,
                   help="steps between test evaluations in the log (default 100)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    i = sub.add_parser("info", help="describe a saved network")
    i.add_argument("file")

    pr = sub.add_parser("predict", help="predict a CSV with a saved network")
    pr.add_argument("file")
    pr.add_argument("--data", required=True, help="CSV in the training layout")
    pr.add_argument("--label", help="the label column's name, if not the last column")
    pr.add_argument("--out", help="write predictions here (default: standard output)")

    e = sub.add_parser("export", help="export a saved network to ONNX")
    e.add_argument("file")
    e.add_argument("out")

    im = sub.add_parser("import", help="import an ONNX MLP as a network file")
    im.add_argument("model")
    im.add_argument("out")

    from nnviz.lessons.library import add_lesson_parser

    add_lesson_parser(sub)

    b = sub.add_parser("bench", help="time the engine (or, with --gui, the window)")
    b.add_argument("--gui", action="store_true")
    b.add_argument("--json", action="store_true")
    b.add_argument("--quick", action="store_true", help="shorter timings")
    return p
