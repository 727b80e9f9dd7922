"""`python -m handgraph` is the same as the `handgraph` command."""

import sys

from handgraph.cli import main

sys.exit(main())
