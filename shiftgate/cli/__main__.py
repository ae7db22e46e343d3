"""``python -m shiftgate.cli``: the same entry point as the ``shiftgate`` command."""

import sys

from shiftgate.cli.main import main

sys.exit(main())
