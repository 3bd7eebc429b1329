"""`python -m nnviz.cli` runs the same command as `nnviz`."""

import sys

from nnviz.cli.command import main

if __name__ == "__main__":
    sys.exit(main())
