"""``flopwise fit``: fit a scaling law to runs in a file or a built-in dataset.

    flopwise fit runs.csv --form chinchilla --bootstrap 200 --json
    flopwise fit --dataset gemstones-hot-100b --form width-depth --delta 1e-4
    flopwise fit --dataset porian-2024 --method approach2 --plot isoflop.png

Errors in the input (a missing column, a bad value, an unknown dataset) print one
line and exit with status 2; a fit that runs but fails exits with status 1. The fit
engine (and scipy) loads when the command runs, not for ``--help``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from flopwise.fitting.datasets import dataset_names
from flopwise.fitting.forms import form_names, law_form

__all__ = ["MIN_TOKENS_PER_PARAM", "fit_command"]

MIN_TOKENS_PER_PARAM = click.option(
    "--min-tokens-per-param",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Leave out checkpoints before this many tokens per parameter (early training).",
)
_FORMS = [name for name in form_names() if law_form(name).methods]
_METHODS = sorted({m for name in _FORMS for m in law_form(name).methods})
"""Approaches 1-3 (Hoffmann et al. 2022 §3): every method some form lists."""


@click.command("fit")
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--dataset", default=None, help=f"Built-in runs: {', '.join(dataset_names())}.")
@click.option(
    "--form",
    type=click.Choice(_FORMS),
    default=None,
    help="Law form (default chinchilla; power-law for approach1/2).",
)
@click.option("--method", type=click.Choice(_METHODS), default="approach3", show_default=True)
@click.option(
    "--delta", type=float, default=1e-3, show_default=True, help="Huber delta on log loss."
)
@click.option("--bootstrap", type=click.IntRange(min=0), default=0, help="Resamples of whole runs.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option(
    "--workers", type=click.IntRange(min=0), default=0, help="Bootstrap processes (0: all CPUs)."
)
@click.option(
    "--law-id",
    default=None,
    help="Id of the fitted law [<file stem or dataset>-<form>, or -<method> for approach1/2].",
)
@click.option(
    "--level", type=float, default=0.9, show_default=True, help="Coverage of intervals, in (0, 1)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--plot",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write a PNG of the loss frontier and N*(C).",
)
@click.option(
    "--save-law",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the fitted law as JSON (for `flopwise allocate --law-file`).",
)
@click.option("--params-col", default="params", show_default=True)
@click.option(
    "--tokens-col", default="tokens", show_default=True, help="Empty: derive from --flops-col."
)
@click.option("--loss-col", default="loss", show_default=True)
@click.option("--run-col", default=None, help="Run id column (bootstrap resamples whole runs).")
@click.option("--width-col", default=None)
@click.option("--depth-col", default=None)
@click.option("--flops-col", default=None)
@click.option(
    "--lr-col", default=None, help="Loss-curve forms: the learning rate at each checkpoint."
)
@MIN_TOKENS_PER_PARAM
@click.option("--unique-tokens-col", default=None, help="Data-constrained form: unique tokens.")
@click.option(
    "--n-definition", default=None, help="What params count: total, non_embedding, with_head."
)
@click.option("--c-definition", default=None, help="How C is counted: 6ND, MD, gemstones.")
@click.option("--search", type=click.Choice(["auto", "full", "staged"]), default=None)
@click.option("--profile", type=click.Choice(["akima", "parabola", "robust"]), default=None)
@click.option("--envelope", type=click.Choice(["hull", "binned"]), default=None)
@click.option("--grouping", type=click.Choice(["exact", "binned"]), default=None)
@click.option(
    "--tie", multiple=True, metavar="NAME=OTHER", help="Tie a constant to another (beta=alpha)."
)
@click.option("--fix", multiple=True, metavar="NAME=VALUE", help="Hold a constant (E=1.8).")
@click.option(
    "--objective",
    type=click.Choice(["huber", "mse", "asymmetric"]),
    default=None,
    help="Approach 3 objective on log loss (default huber).",
)
@click.option("--no-extrapolation", is_flag=True, help="Skip the hold-out refit.")
@click.option("--progress/--no-progress", default=False, help="Bootstrap progress bar.")
def fit_command(**opts: Any) -> int:
    """Fit a scaling law (Approach 1, 2 or 3) to training runs."""
    from flopwise.service.cli.fit_run import run_fit  # the engine loads only to fit

    return run_fit(opts)
