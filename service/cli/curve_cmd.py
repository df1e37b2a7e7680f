"""``flopwise fit-curve`` and ``flopwise forecast``: loss curves under learning-rate
schedules (docs/laws.md §21).

    flopwise fit-curve curves.csv --run-col run --params-col params --tokens-col tokens \\
        --lr-col lr --loss-col loss --form multi-power --save-law law.json --json
    flopwise forecast live.csv --law-file law.json --params 3e9 --schedule cosine \\
        --peak-lr 3.8e-4 --warmup-tokens 3.2e9 --final-lr-fraction 0.1 --total-tokens 6.3e10

``fit-curve`` is ``flopwise fit`` with a loss-curve form: every checkpoint of every run is
an observation, read with the LR it logged (``--lr-col``) or its run's ``schedule``
(a JSONL row's object). ``forecast`` answers where a run will land from the checkpoints
in FILE (one run, or ``--run NAME`` of ``--run-col``), as
``POST /v1/runs/{dataset}/{run}/forecast`` does; ``--json`` prints the API's answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from flopwise.fitting.datasets import read_table
from flopwise.fitting.forms import form_names, law_form
from flopwise.service.cli.answer_cmd import AS_JSON, LAW_FILE, emit
from flopwise.service.cli.app import answering, fail
from flopwise.service.cli.fit_cmd import MIN_TOKENS_PER_PARAM, fit_command
from flopwise.service.cli.options import model_options, request_from
from flopwise.service.cli.resolve import load_law
from flopwise.service.cli.tables import band_text
from flopwise.service.schemas.curves import ForecastRequest

__all__ = ["fit_curve_command", "forecast_command"]

CURVE_FORMS = [name for name in form_names() if law_form(name).reads_schedule]
FILE = click.Path(path_type=Path, dir_okay=False)


@click.command("fit-curve")
@click.argument("file", required=False, type=FILE)
@click.option("--dataset", default=None, help="Built-in curves: olmo-ladder, gemstones-cooldown.")
@click.option("--form", type=click.Choice(CURVE_FORMS), default="multi-power", show_default=True)
@click.option("--run-col", default="run", show_default=True, help="Run id column.")
@click.option("--params-col", default="params", show_default=True)
@click.option("--tokens-col", default="tokens", show_default=True)
@click.option("--lr-col", default=None, help="The learning rate at each checkpoint.")
@click.option("--loss-col", default="loss", show_default=True)
@MIN_TOKENS_PER_PARAM
@click.option("--bootstrap", type=click.IntRange(min=0), default=0, help="Resamples of whole runs.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--delta", type=float, default=1e-3, show_default=True, help="Huber delta.")
@click.option("--law-id", default=None, help="Id of the fitted law [<file stem>-<form>].")
@click.option("--level", type=float, default=0.9, show_default=True)
@click.option("--save-law", type=FILE, default=None, help="Write the fitted law as JSON.")
@click.option("--no-extrapolation", is_flag=True, help="Skip the hold-out refit.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def fit_curve_command(ctx: click.Context, **opts: Any) -> int:
    """Fit a loss-curve law (multi-power or tissue) to every checkpoint of every run."""
    return int(ctx.invoke(fit_command, method="approach3", **opts) or 0)


def _checkpoints(path: Path, run: str | None, columns: dict[str, str]) -> list[tuple[float, float]]:
    rows = read_table(path)
    if run is not None:
        rows = [r for r in rows if str(r.get(columns["run"])) == run]
        if not rows:
            raise fail(f"--run: no rows of run {run!r} in {path}")
    elif len({str(r.get(columns["run"])) for r in rows}) > 1:
        raise fail(f"--run: {path} holds several runs; name one")
    out = []
    for i, row in enumerate(rows):
        try:
            out.append((float(row[columns["tokens"]]), float(row[columns["loss"]])))
        except (KeyError, TypeError, ValueError):
            raise fail(f"--tokens-col: row {i} of {path} has no numeric tokens and loss") from None
    return out


@click.command("forecast")
@click.argument("file", required=False, type=FILE)
@model_options(ForecastRequest, skip=("observations",))
@LAW_FILE
@click.option("--run", "run_name", default=None, help="The run of FILE to forecast.")
@click.option("--run-col", default="run", show_default=True, help="Run id column.")
@click.option("--tokens-col", default="tokens", show_default=True, help="Column of tokens.")
@click.option("--loss-col", default="loss", show_default=True, help="Column of losses.")
@AS_JSON
def forecast_command(
    file: Path | None,
    law_file: Path | None,
    run_name: str | None,
    run_col: str,
    tokens_col: str,
    loss_col: str,
    as_json: bool,
    **opts: Any,
) -> None:
    """Where a run will land under its schedule, and whether its checkpoints (FILE, if
    given) track the law; --curve adds the whole predicted curve."""
    from flopwise.service.curve_queries import forecast_answer  # fitting loads on use

    columns = {"run": run_col, "tokens": tokens_col, "loss": loss_col}
    checkpoints = [] if file is None else _checkpoints(file, run_name, columns)
    with answering():
        req = request_from(ForecastRequest, opts)
        if req.law is None and law_file is None:
            raise fail("--law: give a loss-curve law (--law or --law-file)")
        law = load_law(req.law or "", law_file)
        answer = forecast_answer(
            law, req, params=None, schedule=None, checkpoints=checkpoints,
            run=None if run_name is None else ("file", run_name),
        )  # fmt: skip
    if emit("forecast", answer, as_json):
        return
    tracking = {None: "no checkpoints given", True: "tracking the law", False: "NOT tracking"}
    click.echo(
        f"{law.id}: loss {answer['loss']:.4f}{band_text(answer)} at "
        f"{answer['total_tokens']:.4g} tokens; {tracking[answer['tracking']]}"
    )
    if answer["adjusted_loss"] is not None:
        click.echo(f"  with the run's offset carried forward: {answer['adjusted_loss']:.4f}")
    for caveat in answer["caveats"]:
        click.echo(f"  caveat: {caveat}")
