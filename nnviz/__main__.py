"""`python -m nnviz` runs the same command as `nnviz`."""

import sys

from nnviz.cli import main

sys.exit(main())
