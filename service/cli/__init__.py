"""``flopwise`` command line.

:mod:`~service.cli.app` holds the command group and the table of commands, each loaded
from its own module when invoked: ``laws_cmd`` (laws, throughput), ``answer_cmd``
(allocate, predict, frontier, overspend: the API's answer path, offline), ``fit_cmd``
(fit), ``serve_cmd`` (serve, worker) and ``train_cmd`` (train, sweep: the trainer as a
separate process, so the service never imports torch). Options of the answer commands
are generated from the API's request models (``options``), so a flag, its check and
its help text are the request field's.

The console script is :func:`run`: user errors print one line and exit 2.
"""

from flopwise.service.cli.app import main, run

__all__ = ["main", "run"]
