"""Entry script of the frozen nnviz: the same `nnviz` command as the console script."""

import sys

from nnviz.cli import main

if __name__ == "__main__":
    sys.exit(main())
