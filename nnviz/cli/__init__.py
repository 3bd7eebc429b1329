"""The `nnviz` command: the window, or headless sub-commands over the core.

    nnviz [FILE]                open the window (on the demo, or on FILE)
    nnviz --self-test           open the window, train, save, reopen; exit 0 if all is well
    nnviz train|info|predict|export|import|bench ...

Errors print one line and exit 2; a diverged training run exits 1. One module per job:
:mod:`.command` (``main``: which sub-command runs, errors), :mod:`.parser` (the
arguments), :mod:`.sessions` (``train``'s session, new or continued), :mod:`.train`,
:mod:`.network_files` (``info``, ``predict``, ``export``, ``import``), :mod:`.bench`.
"""

from nnviz.cli.command import COMMANDS, main
from nnviz.cli.parser import SUBCOMMANDS, CliError, build_parser

__all__ = ["COMMANDS", "SUBCOMMANDS", "CliError", "build_parser", "main"]
