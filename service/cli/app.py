"""The ``flopwise`` command group. Commands live in sibling modules and load only when
invoked: ``flopwise --help`` lists them from :data:`COMMANDS` without importing any, so
it starts without numpy, scipy or the web stack.

Errors a user can cause (a bad option, a bad value, an unknown law) print exactly one
line on stderr, ``flopwise <command>: error: <what is wrong>``, and exit with status 2
(``flopwise.protocol.cli.run_cli``, which the trainer's command line shares).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click
from pydantic import ValidationError

from flopwise.protocol.cli import one_line, run_cli
from flopwise.service.errors import FieldError

__all__ = ["COMMANDS", "answering", "fail", "main", "run"]

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

COMMANDS: dict[str, tuple[str, str, str]] = {
    "laws": ("laws_cmd", "laws_command", "List the built-in scaling laws."),
    "allocate": (
        "answer_cmd",
        "allocate_command",
        "Compute-optimal params, tokens, shape and loss for a budget.",
    ),
    "predict": ("answer_cmd", "predict_command", "Predicted loss of a model trained on tokens."),
    "count": (
        "answer_cmd",
        "count_command",
        "Exact total and active parameters, FLOPs and memory of a (MoE) model.",
    ),
    "frontier": ("answer_cmd", "frontier_command", "The compute-optimal path over budgets."),
    "overspend": (
        "answer_cmd",
        "overspend_command",
        "Extra FLOPs and GPU-hours a shape needs to reach a loss.",
    ),
    "throughput": ("laws_cmd", "throughput_command", "List the built-in throughput models."),
    "hyperparams": (
        "hyper_cmd",
        "hyperparams_command",
        "Learning rate and batch size for N parameters on D tokens.",
    ),
    "fit": ("fit_cmd", "fit_command", "Fit a scaling law to runs in a CSV or JSONL file."),
    "fit-curve": (
        "curve_cmd",
        "fit_curve_command",
        "Fit a loss-curve law (multi-power, tissue) to every checkpoint of runs.",
    ),
    "forecast": (
        "curve_cmd",
        "forecast_command",
        "Where a run will land under its learning-rate schedule.",
    ),
    "fit-downstream": (
        "downstream_cmd",
        "fit_downstream_command",
        "Fit a link from a loss to a benchmark metric (and its loss law).",
    ),
    "fit-critical-batch": (
        "sweep_fit_cmd",
        "fit_critical_batch_command",
        "Fit S_min and B_noise (the critical batch) to steps-to-target data.",
    ),
    "fit-hyperparams": (
        "hyper_fit_cmd",
        "fit_hyperparams_command",
        "Fit learning-rate and batch laws to a sweep of runs.",
    ),
    "runs": ("runs_cmd", "runs_group", "Send runs to a server: `flopwise runs upload FILE`."),
    "serve": ("serve_cmd", "serve_command", "Serve the HTTP API (and an in-process worker)."),
    "worker": ("serve_cmd", "worker_command", "Run job workers against the database."),
    "train": ("train_cmd", "train_command", "Train one calibration model (needs [train])."),
    "sweep": ("train_cmd", "sweep_command", "Plan and run a calibration sweep (needs [train])."),
}
"""Command name -> (module in ``flopwise.service.cli``, attribute, one-line help)."""


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[cmd_name]
        command: click.Command = getattr(
            importlib.import_module(f"flopwise.service.cli.{module}"), attribute
        )
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, _, short) in COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.version_option(package_name="flopwise")
def main() -> None:
    """flopwise: given this compute, what should I train?"""


def fail(message: str) -> click.UsageError:
    """A usage error carrying one line (commands ``raise fail(...)``)."""
    return click.UsageError(one_line(message))


NESTED_FLAGS = ("target",)
"""Request fields whose nested fields are flags of their own, ``--target-metric``."""


def _flag(loc: Sequence[str | int]) -> str:
    names = [str(p) for p in loc if not isinstance(p, int) and p not in ("body", "query")]
    if len(names) > 1 and names[-2] in NESTED_FLAGS:
        names = [f"{names[-2]}_{names[-1]}"]
    return f"--{names[-1].replace('_', '-')}" if names else "input"


@contextmanager
def answering() -> Iterator[None]:
    """Turn what the answer path refuses (a request that does not validate, a
    ``FieldError``) into the command's one-line usage error naming the option."""
    try:
        yield
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise fail(f"{_flag(first['loc'])}: {first['msg']}") from None
    except FieldError as exc:
        flag = _flag(exc.loc)
        name = flag[2:].replace("-", "_")
        message = exc.message
        for prefix in (name, name.replace("_", ".", 1)):  # target_value is target.value
            message = message.removeprefix(f"{prefix}: ")
        raise fail(f"{flag}: {message}" if flag != "input" else message) from None


def run(argv: list[str] | None = None) -> Any:
    """Console entry point (``flopwise``): the shared error runner."""
    return run_cli(main, argv, prog="flopwise")
