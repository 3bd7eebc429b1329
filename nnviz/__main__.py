"""`python -m nnviz` runs the same command as `nnviz`."""

import sys

from nnviz.cli import main

if __name__ == "__main__":  # the training process (spawn) imports this module too
    sys.exit(main())
