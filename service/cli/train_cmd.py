"""``flopwise train`` and ``flopwise sweep``: run the trainer as its own process.

The service side of flopwise never imports torch; these commands hand their
arguments to ``python -m flopwise.trainer`` (installed with the ``[train]`` extra) and exit
with its status. The trainer is told the program's name (``--prog flopwise``), so its
help and errors name ``flopwise sweep``, the command the user typed.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import click

from flopwise.service.cli.app import fail, main

TORCH_HINT = (
    "pip install 'flopwise[train]' (on a machine without a GPU install the CPU-only build "
    "first, since a plain torch requirement pulls a multi-GB CUDA build: "
    "pip install torch --index-url https://download.pytorch.org/whl/cpu)"
)
PASSTHROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


def _exec_trainer(command: str, args: list[str]) -> None:
    if (
        importlib.util.find_spec("flopwise.trainer") is None
        or importlib.util.find_spec("torch") is None
    ):
        raise fail(f"{command}: the trainer needs PyTorch: {TORCH_HINT}")
    prog = click.get_current_context().find_root().info_name or "flopwise"
    argv = [sys.executable, "-m", "flopwise.trainer", "--prog", prog, command, *args]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)


@main.command("train", context_settings=PASSTHROUGH, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def train_command(args: tuple[str, ...]) -> None:
    """Train one model (``python -m flopwise.trainer train --help`` lists the options)."""
    _exec_trainer("train", list(args))


@main.command("sweep", context_settings=PASSTHROUGH, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def sweep_command(args: tuple[str, ...]) -> None:
    """Plan and run a calibration sweep (``python -m flopwise.trainer sweep --help``)."""
    _exec_trainer("sweep", list(args))
