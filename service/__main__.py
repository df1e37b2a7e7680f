"""``python -m service`` is the ``flopwise`` command."""

import sys

from service.cli import run

sys.exit(run())
