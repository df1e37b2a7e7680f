"""``python -m trainer`` is the trainer's command line (see :mod:`trainer.cli`)."""

import sys

from flopwise.trainer.cli import run

sys.exit(run())
