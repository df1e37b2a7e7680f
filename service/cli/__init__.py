"""``flopwise`` command line.

Each command family lives in its own module and registers itself on :data:`main`:
``laws_cmd`` (laws, allocate, predict), ``fit_cmd`` (fit), ``serve_cmd`` (serve,
worker), ``train_cmd`` (train, sweep: run the trainer as a separate process, so
the service never imports torch) and ``overspend_cmd`` (overspend, throughput).

The console script is :func:`run`: user errors print one line and exit 2.
"""

from __future__ import annotations

import importlib

from flopwise.service.cli.app import main, run

for _name in ("laws_cmd", "fit_cmd", "serve_cmd", "train_cmd", "overspend_cmd"):
    try:
        importlib.import_module(f"flopwise.service.cli.{_name}")
    except ModuleNotFoundError as exc:  # a command family not written yet
        if exc.name != f"flopwise.service.cli.{_name}":
            raise

__all__ = ["main", "run"]
