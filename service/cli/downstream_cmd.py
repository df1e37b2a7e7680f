"""``flopwise fit-downstream``: fit a downstream link (docs/laws.md §20) to runs that
carry a metric and the loss it is predicted through.

    flopwise fit-downstream runs.csv --metric-col hellaswag_acc --via-col hellaswag_bpb \\
        --run-col run --bootstrap 100 --save-law hellaswag.json --json
    flopwise fit-downstream runs.csv --metric-col acc --via-col loss --link exponential \\
        --loss-law-file loss.json --save-law loss-and-acc.json

Without ``--loss-law-file`` step 1 (a loss law for the --via-col column, from each run's
final rows) is fitted too, and the saved law predicts that loss; with it, step 1 is
that law (its loss is --via-col) and the saved law is it plus the link. Bad input
prints one line and exits with status 2; a fit that runs but fails exits with status 1.
The fit engine loads when the command runs, not for ``--help``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from flopwise.fitting.datasets import dataset_names
from flopwise.fitting.links import LINKS

__all__ = ["fit_downstream_command"]

FILE = click.Path(path_type=Path, dir_okay=False)


@click.command("fit-downstream")
@click.argument("file", required=False, type=FILE)
@click.option("--dataset", default=None, help=f"Built-in runs: {', '.join(dataset_names())}.")
@click.option("--metric-col", required=True, help="Column of the metric to predict (Y).")
@click.option("--via-col", required=True, help="Column of the loss it is predicted through (X).")
@click.option("--params-col", default="params", show_default=True)
@click.option("--tokens-col", default="tokens", show_default=True)
@click.option("--run-col", default=None, help="Run id column (runs are resampled whole).")
@click.option(
    "--link",
    type=click.Choice(list(LINKS)),
    default="sigmoid",
    show_default=True,
    help="sigmoid: Bhagia et al. 2024 (every checkpoint); exponential: Gadre et al. 2024.",
)
@click.option(
    "--loss-law-file", type=FILE, default=None, help="Step 1: a law whose loss is --via-col."
)
@click.option("--form", default="chinchilla", show_default=True, help="Step 1's loss-law form.")
@click.option("--bootstrap", type=click.IntRange(min=0), default=0, help="Resamples of whole runs.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option(
    "--workers", type=click.IntRange(min=0), default=0, help="Bootstrap processes (0: all CPUs)."
)
@click.option(
    "--chance", type=float, default=0.25, show_default=True, help="The metric's chance level."
)
@click.option(
    "--level", type=float, default=0.9, show_default=True, help="Coverage of intervals, in (0, 1)."
)
@click.option("--law-id", default=None, help="Id of a fitted step-1 law [<data>-<via-col>].")
@click.option("--save-law", type=FILE, required=True, help="Write the law with its link as JSON.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def fit_downstream_command(**opts: Any) -> int:
    """Fit a link from a loss to a benchmark metric (and step 1, the loss law)."""
    from flopwise.service.cli.downstream_run import run_fit_downstream  # loads the engine

    return run_fit_downstream(opts)
