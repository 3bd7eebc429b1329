"""Entry script of the frozen nnviz: the same `nnviz` command as the console script."""

import multiprocessing
import sys

from nnviz.cli import main

if __name__ == "__main__":
    # the window trains in a child process started with "spawn": in a frozen app that
    # child is this executable again, and freeze_support turns it into the trainer
    multiprocessing.freeze_support()
    sys.exit(main())
