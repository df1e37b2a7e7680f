"""``flopwise fit-hyperparams``: learning-rate and batch laws fitted to a sweep, offline,
from a table of runs (one row per run) or a runs file as ``flopwise-train sweep
--lr-grid/--batch-grid`` writes it (``runs.jsonl``: every evaluation of every run).

    flopwise fit-hyperparams sweep.csv --lr-col lr --batch-col batch --json --save-law my.json
    flopwise fit-hyperparams out/runs.jsonl --dataset my-sweep --save-law my.json

A missing column or a bad value prints one line naming the flag and exits with status 2.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.hyperlaws import hyper_to_dict
from flopwise.fitting.laws import NDefinition
from flopwise.service.cli.app import fail
from flopwise.service.cli.sweep_fit_cmd import FILE, numeric_column, read_rows, table_columns

__all__ = ["fit_hyperparams_command", "is_runs_file"]

HYPER_FLAGS = {
    "params": "--params-col",
    "tokens": "--tokens-col",
    "learning_rate": "--lr-col",
    "batch": "--batch-col",
    "loss": "--loss-col",
    "sequence_length": "--sequence-length",
}


def is_runs_file(rows: list[dict[str, Any]], lr_col: str) -> bool:
    """Whether ``rows`` are a runs file's evaluations (a run and a schedule each, no
    ``lr_col`` column) rather than one row per run."""
    first = rows[0]
    return lr_col not in first and "run" in first and "schedule" in first


def _runs_columns(
    rows: list[dict[str, Any]], dataset: str | None
) -> tuple[list[Any], list[str], str, int | None]:
    """The fit's five columns from a runs file's rows (of ``dataset``, else of the first
    row's), the lines about runs left out, the dataset read and its runs' sequence
    length."""
    from flopwise.fitting.fit.sweep_runs import sweep_rows  # loads on use

    name = dataset or str(rows[0].get("dataset", ""))
    mine = [r for r in rows if str(r.get("dataset", "")) == name]
    if not mine:
        raise fail(f"--dataset: no rows of {name!r} in the file")
    try:
        got = sweep_rows(mine)
    except ArgumentError as exc:
        raise fail(f"FILE: {exc.message}") from None
    cols = [got.params, got.tokens, got.learning_rate, got.batch_tokens, got.loss]
    return cols, [f"left out {why}" for why in got.left_out], name, got.sequence_length


def _echo_hyper(result: dict[str, Any]) -> None:
    click.echo("(N, D): best learning rate and batch (tokens), from the sweep")
    for o in result["optima"]:
        edge = " (edge)" if o["lr_on_edge"] or o["batch_on_edge"] else ""
        click.echo(
            f"  N {o['params']:.4g}, D {o['tokens']:.4g}: LR {o['learning_rate']:.4g}, batch "
            f"{o['batch_tokens']:.4g} tokens, best loss {o['best_loss']:.4f} ({o['runs']} runs){edge}"
        )
    k, bands = result["law"]["constants"], result["intervals"]

    def band(name: str) -> str:
        pair = bands.get(name)
        return "" if pair is None else f" [{pair[0]:.3f}, {pair[1]:.3f}]"

    click.echo(
        f"LR = {math.exp(k['lr_log_k']):.4g} N^{k['lr_n']:.3f}{band('lr_n')} "
        f"D^{k['lr_d']:.3f}{band('lr_d')}"
    )
    click.echo(
        f"batch = {math.exp(k['batch_log_k']):.4g} N^{k['batch_n']:.3f}{band('batch_n')} "
        f"D^{k['batch_d']:.3f}{band('batch_d')} tokens"
    )
    for text in result["warnings"]:
        click.echo(f"note: {text}")


@click.command("fit-hyperparams")
@click.argument("file", type=FILE)
@click.option("--lr-col", default="learning_rate", show_default=True, help="Column of peak LRs.")
@click.option("--batch-col", default="batch_size", show_default=True, help="Column of batches.")
@click.option("--params-col", default="params", show_default=True, help="Column of N.")
@click.option("--tokens-col", default="tokens", show_default=True, help="Column of D (tokens).")
@click.option("--loss-col", default="loss", show_default=True, help="Column of final losses.")
@click.option(
    "--dataset",
    default=None,
    help="A runs file's dataset to fit [its first row's] (a grid sweep's file also holds "
    "<dataset>-best).",
)
@click.option(
    "--batch-in-sequences", is_flag=True, help="The batch column counts sequences, not tokens."
)
@click.option(
    "--sequence-length",
    type=click.IntRange(min=1),
    default=None,
    help="Tokens per sequence [a runs file's (its sequence_length tag), else 2048].",
)
@click.option(
    "--n-definition",
    type=click.Choice([str(d) for d in NDefinition]),
    default=None,
    help="What the params column counts [non_embedding; total for a runs file].",
)
@click.option("--law-id", default=None, help="Id of the fitted law [<file stem>-hyperparameters].")
@click.option(
    "--bootstrap", type=click.IntRange(min=0, max=100_000), default=1000, show_default=True
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--level", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.9)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--save-law",
    type=FILE,
    default=None,
    help="Write the fitted law as JSON (for `flopwise hyperparams --law-file`).",
)
def fit_hyperparams_command(file: Path, as_json: bool, save_law: Path | None, **o: Any) -> None:
    """Best learning rate and batch per (N, D) of a sweep (parabolas in log LR and log
    batch around the best run), then LR* and B* as power laws in N and D with bootstrap
    bands, as Step Law and DeepSeek fit theirs. FILE is one row per run (the --*-col
    columns), or a runs file (rows with run and schedule, such as the runs.jsonl of
    `flopwise-train sweep --lr-grid ... --batch-grid ...`): each run's loss at its planned
    end, its schedule's peak LR and its batch_tokens tag."""
    from flopwise.fitting.fit.hyper import fit_hyperparams  # loads on use

    rows = read_rows(file)
    runs_file = is_runs_file(rows, o["lr_col"])
    notes: list[str] = []
    sequence_length = None
    if runs_file:
        if o["batch_in_sequences"]:
            raise fail("--batch-in-sequences: a runs file's batches are in tokens (batch_tokens)")
        cols, notes, dataset, sequence_length = _runs_columns(rows, o["dataset"])
        source = f"flopwise fit-hyperparams {file.name} ({dataset})"
    else:
        if o["dataset"] is not None:
            raise fail("--dataset: only for a runs file (rows with run and schedule)")
        flags = {f: o[f[2:].replace("-", "_")] for f in ("--params-col", "--tokens-col")}
        flags |= {f: o[f[2:].replace("-", "_")] for f in ("--lr-col", "--batch-col", "--loss-col")}
        table = table_columns(file, flags, rows)
        cols = [numeric_column(f, v) for f, v in table.items()]
        source = f"flopwise fit-hyperparams {file.name}"
    default_n = NDefinition.TOTAL if runs_file else NDefinition.NON_EMBEDDING
    try:
        result = fit_hyperparams(
            *cols,
            sequence_length=o["sequence_length"] or sequence_length or 2048,
            batch_in_sequences=o["batch_in_sequences"],
            n_definition=NDefinition(o["n_definition"] or default_n),
            law_id=o["law_id"] or f"{file.stem}-hyperparameters",
            source=source,
            bootstrap=o["bootstrap"],
            seed=o["seed"],
            level=o["level"],
        )
    except ArgumentError as exc:
        flag = "FILE" if runs_file else HYPER_FLAGS.get(exc.name, "--params-col")
        raise fail(f"{flag}: {exc.message}") from None
    if save_law is not None:
        save_law.write_text(json.dumps(hyper_to_dict(result.law), indent=1) + "\n")
    out = result.to_dict()
    out["warnings"] = [*out["warnings"], *notes]
    if as_json:
        click.echo(json.dumps(out, allow_nan=False))
    else:
        _echo_hyper(out)
