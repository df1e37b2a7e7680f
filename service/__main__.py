"""``python -m service`` is the ``flopwise`` command."""

import sys

from flopwise.service.cli import run

sys.exit(run())
