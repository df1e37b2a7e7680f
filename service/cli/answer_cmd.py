"""``flopwise allocate``, ``predict``, ``frontier`` and ``overspend``: the API's answers,
offline, from a built-in law (or one saved with ``--law-file``).

Each command builds the API's request model from its flags (options generated from the
model: ``service.cli.options``), resolves the law here instead of in a server's
registry, and calls the same function the API calls (``service.queries``); ``--json``
prints what the API would send, byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from flopwise.service import moe_queries, queries
from flopwise.service.cli import tables
from flopwise.service.cli.app import answering, fail
from flopwise.service.cli.options import model_options, request_from
from flopwise.service.cli.predict_batch import COLUMN_OPTIONS, predict_rows
from flopwise.service.cli.resolve import load_law, load_model
from flopwise.service.schemas.moe import CountRequest
from flopwise.service.schemas.queries import AllocateRequest, FrontierRequest, PredictRequest
from flopwise.service.schemas.throughput import OverspendRequest

__all__ = [
    "allocate_command",
    "count_command",
    "emit",
    "frontier_command",
    "overspend_command",
    "predict_command",
]

FILE = click.Path(path_type=Path, dir_okay=False)
LAW_FILE = click.option(
    "--law-file", type=FILE, default=None, help="A law saved as JSON (`flopwise fit --save-law`)."
)
THROUGHPUT_FILE = click.option(
    "--throughput-file", type=FILE, default=None, help="A throughput model saved as JSON."
)
AS_JSON = click.option("--json", "as_json", is_flag=True, help="Print the API's JSON answer.")


def emit(endpoint: str, answer: dict[str, Any], as_json: bool) -> bool:
    """Print ``answer`` as JSON when asked (and say so), else leave it to the caller."""
    if as_json:
        click.echo(queries.to_json(endpoint, answer).decode())
    return as_json


@click.command("allocate")
@model_options(AllocateRequest, skip=("target",))
@click.option(
    "--target-metric",
    default=None,
    help="A benchmark metric to reach (laws with downstream links), with --target-value.",
)
@click.option("--target-value", type=float, default=None, help="The score to reach.")
@LAW_FILE
@THROUGHPUT_FILE
@AS_JSON
def allocate_command(
    law_file: Path | None, throughput_file: Path | None, as_json: bool, **opts: Any
) -> None:
    """Compute-optimal params, tokens, shape and loss for a budget.

    Give exactly one of --flops, --gpu-hours (with --gpu) or --dollars (with --gpu and
    --price-per-gpu-hour). With --throughput (see `flopwise throughput`) a GPU-hour
    budget gets time-optimal and FLOP-optimal plans for the same hours. With
    --target-metric and --target-value and no budget: the smallest budget whose
    predicted metric reaches the value.
    """
    metric, value = opts.pop("target_metric"), opts.pop("target_value")
    if (metric is None) != (value is None):
        raise fail("--target-value: give it with --target-metric (and the other way round)")
    target = {} if metric is None else {"target": {"metric": metric, "value": value}}
    with answering():
        req = request_from(AllocateRequest, opts, **target)
        law = load_law(req.law, law_file)
        model = None
        if req.throughput is not None or throughput_file is not None:
            model = load_model(req.throughput or "", throughput_file)
            req = req.model_copy(update={"throughput": model.ref})
        answer = queries.allocate(law, req, model, load_law)
    if emit("allocate", answer, as_json):
        return
    if model is not None:
        tables.time_allocation(answer, model.gpu)
    else:
        tables.allocation(answer)


@click.command("predict")
@model_options(PredictRequest)
@LAW_FILE
@click.option(
    "--runs",
    "runs_file",
    type=FILE,
    default=None,
    help="Predict every row of a CSV or JSONL file (columns named by the --*-col options).",
)
@click.option("--params-col", default="params", show_default=True, help="Column of parameters.")
@click.option("--tokens-col", default="tokens", show_default=True, help="Column of tokens.")
@click.option("--width-col", default="width", show_default=True, help="Column of widths.")
@click.option("--depth-col", default="depth", show_default=True, help="Column of depths.")
@click.option(
    "--unique-tokens-col",
    default="unique_tokens",
    show_default=True,
    help="Column of unique tokens.",
)
@click.option(
    "--loss-col", default="loss", show_default=True, help="Column of measured losses, if any."
)
@AS_JSON
def predict_command(
    law_file: Path | None, runs_file: Path | None, as_json: bool, **opts: Any
) -> None:
    """Predicted loss for (params, tokens) or (width, depth, tokens), or for every row of
    --runs FILE. ``loss_interval`` is where a new run's measured loss will fall."""
    columns = {field: opts.pop(f"{field}_col") for field in COLUMN_OPTIONS}
    if runs_file is not None:
        given = sorted(k for k in ("tokens", "params", "width", "depth") if opts[k] is not None)
        if given:
            raise fail(f"--{given[0]}: comes from the --runs file's columns, not a flag")
        with answering():
            base = request_from(PredictRequest, opts, tokens=1.0)
            law = load_law(base.law, law_file)
        answers = predict_rows(law, runs_file, columns, base)
        if as_json:  # the API's fields, plus each row's measured loss where given
            click.echo(json.dumps(answers, allow_nan=False))
            return
        for i, out in enumerate(answers):
            measured = (
                "" if "measured_loss" not in out else f"  measured {out['measured_loss']:.4f}"
            )
            click.echo(f"row {i}: loss {out['loss']:.4f}{tables.band_text(out)}{measured}")
        return
    with answering():
        req = request_from(PredictRequest, opts)
        law = load_law(req.law, law_file)
        answer = queries.predict(law, req)
    if not emit("predict", answer, as_json):
        click.echo(f"{law.id}: loss {answer['loss']:.4f}{tables.band_text(answer)}")
        for name, text in tables.downstream_rows(answer):
            click.echo(f"{name}: {text}")


@click.command("frontier")
@model_options(FrontierRequest)
@LAW_FILE
@AS_JSON
def frontier_command(law_file: Path | None, as_json: bool, **opts: Any) -> None:
    """N*, D*, loss and shape over budgets: repeat --flops, or give --flops-min,
    --flops-max and --points (log-spaced)."""
    with answering():
        req = request_from(FrontierRequest, opts)
        law = load_law(req.law, law_file)
        answer = queries.frontier(law, req)
    if not emit("frontier", answer, as_json):
        tables.frontier(answer)


@click.command("overspend")
@model_options(OverspendRequest)
@LAW_FILE
@THROUGHPUT_FILE
@AS_JSON
def overspend_command(
    law_file: Path | None, throughput_file: Path | None, as_json: bool, **opts: Any
) -> None:
    """Extra FLOPs and GPU-hours WIDTH x DEPTH needs to reach a loss, against the
    FLOP-optimal and time-optimal shapes (McLeish et al. 2025, Gemstones Fig. 7)."""
    with answering():
        if throughput_file is not None and opts.get("throughput") is None:
            opts["throughput"] = "file"
        req = request_from(OverspendRequest, opts)
        law = load_law(req.law, law_file)
        model = load_model(req.throughput, throughput_file)
        answer = queries.overspend(law, model, req.model_copy(update={"throughput": model.ref}))
    if not emit("overspend", answer, as_json):
        tables.overspend(answer)


@click.command("count")
@model_options(CountRequest)
@AS_JSON
def count_command(as_json: bool, **opts: Any) -> None:
    """Exact total and active parameters, FLOPs per token and training memory of one model:
    dense, or a mixture of experts with --experts and --top-k (plus --shared-experts,
    --expert-ffn, --dense-layers); --gpu adds the fewest GPUs that hold it."""
    with answering():
        answer = moe_queries.count(request_from(CountRequest, opts))
    if not emit("count", answer, as_json):
        tables.counts(answer)
