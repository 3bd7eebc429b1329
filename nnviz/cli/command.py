"""Running the ``nnviz`` command: the window when no sub-command is given, else the
sub-command; known errors print one line and exit 2, an interrupt exits 130.
"""

from __future__ import annotations

import sys

from nnviz.cli.bench import cmd_bench
from nnviz.cli.network_files import cmd_export, cmd_import, cmd_info, cmd_predict
from nnviz.cli.parser import SUBCOMMANDS, CliError, build_parser
from nnviz.cli.train import cmd_train

COMMANDS = {
    "train": cmd_train,
    "info": cmd_info,
    "predict": cmd_predict,
    "export": cmd_export,
    "import": cmd_import,
    "bench": cmd_bench,
    "lesson": lambda args: _cmd_lesson(args),
    "sweep": lambda args: _cmd_sweep(args),
}


def _cmd_lesson(args) -> int:
    """``nnviz lesson --list | NAME [--check] | --check-all``: 0 when the checks held, 1 when not."""
    from nnviz.cli.lesson import cmd_lesson

    return cmd_lesson(args)


def _cmd_sweep(args) -> int:
    """``nnviz sweep``: many train runs in a pool of processes (loaded only when asked for)."""
    from nnviz.cli.sweep import cmd_sweep

    return cmd_sweep(args)


def _known_errors() -> tuple[type[BaseException], ...]:
    from nnviz.core.data import DataError
    from nnviz.core.spec import SpecError

    errors: list[type[BaseException]] = [CliError, DataError, SpecError, ValueError, OSError]
    try:
        from nnviz.io.onnx_common import OnnxUnavailableError

        errors.append(OnnxUnavailableError)
    except ImportError:
        pass
    return tuple(errors)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help", "--version")):
        from nnviz.gui.qtapp import main as gui_main

        return gui_main(argv)
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except SystemExit as e:  # --help / --version
        return int(e.code or 0)
    except KeyboardInterrupt:
        print("nnviz: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `nnviz predict ... | head`: the reader had enough
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except _known_errors() as e:
        msg = str(e) or type(e).__name__
        if isinstance(e, OSError) and e.filename and e.strerror:
            msg = f"{e.filename}: {e.strerror}"
        print(f"nnviz: {msg}", file=sys.stderr)
        return 2
