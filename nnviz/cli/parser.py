"""The ``nnviz`` command's arguments: the sub-commands, their options, and how flag values are
read. ``train``'s run settings come from :mod:`nnviz.app.settings_schema`; a bad argument
raises :class:`CliError` (one line, exit 2) instead of printing the usage.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from nnviz import __version__

SUBCOMMANDS = ("train", "sweep", "info", "predict", "export", "import", "bench", "lesson")


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


def setting_converter(name: str) -> Any:
    """How the flag of the setting ``name`` reads one value (``nnviz sweep --vary`` reads
    its values the same way): a function from text that raises
    ``argparse.ArgumentTypeError``, a tuple of choices, or None for a switch."""
    from nnviz.app.settings_schema import setting

    s = setting(name)
    if s.cli == "switch":
        return None
    if s.cli == "choice":
        return s.choices
    return _CONVERTERS[s.cli]


def _add_setting_options(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """The options that set a run's settings, from the settings schema (but those named in
    ``skip``). Each defaults to None: an omitted option keeps a saved network's value, or
    the default."""
    from nnviz.app.settings_schema import cli_settings

    for s in cli_settings():
        if s.name in skip:
            continue
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


def add_run_options(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """What a run trains on and how long: ``--data``, ``--label``, every setting's option
    (but ``skip``) and ``--steps``/``--epochs``. One definition for ``train`` and ``sweep``."""
    parser.add_argument("--data", help="a built-in data set (spiral, xor, ..., digits), mnist, "
                                       "fashion-mnist, cifar10 (downloaded once into the cache), or a CSV "
                                       "file, an .npz, a CIFAR-10 .bin or a folder of images")
    parser.add_argument("--label", help="CSV: the label column's name (default: the last column)")
    _add_setting_options(parser, skip)
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--steps", type=_positive_int)
    g.add_argument("--epochs", type=_count)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="nnviz", description="Watch a neural network learn.")
    p.add_argument("--version", action="version", version=f"nnviz {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    t = sub.add_parser("train", help="train a network headless")
    t.add_argument("network", nargs="?", help="a saved network to continue training from")
    add_run_options(t)
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

    sw = sub.add_parser("sweep", help="train many runs headless (seeds x settings), a table of results")
    add_run_options(sw, skip=("seed",))
    sw.add_argument("--seeds", required=True,
                    help="the seeds: a range and/or a list, e.g. 1-10 or 1,3,5 or 1-3,7")
    sw.add_argument("--vary", action="append", default=[], metavar="SETTING=V1,V2,...",
                    help="a setting's values to try (repeatable: the runs are every combination "
                         "with every seed); layers' widths join with '-', e.g. layers=8,8-8")
    sw.add_argument("--jobs", type=_count, help="runs at once (default: the usable CPUs)")
    sw.add_argument("--json", action="store_true", help="a JSON list, one object per run")

    from nnviz.lessons.library import add_lesson_parser

    add_lesson_parser(sub)

    b = sub.add_parser("bench", help="time the engine (or, with --gui, the window)")
    b.add_argument("--gui", action="store_true")
    b.add_argument("--json", action="store_true")
    b.add_argument("--quick", action="store_true", help="shorter timings")
    return p
