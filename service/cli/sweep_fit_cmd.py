"""``flopwise fit-critical-batch``: a fit to a sweep of batch sizes, offline, from a CSV
or JSONL file (and the table readers ``flopwise fit-hyperparams`` shares).

    flopwise fit-critical-batch steps.csv --batch-col batch_size_sequences \\
        --steps-col steps_to_target --group-col model --sequence-length-col sequence_length

A missing column or a bad value prints one line naming the flag and exits with status 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from flopwise.fitting.critical_batch import critical_law_to_dict
from flopwise.fitting.datasets import read_table
from flopwise.fitting.errors import ArgumentError
from flopwise.service.cli.app import fail

__all__ = ["fit_critical_batch_command", "numeric_column", "read_rows", "table_columns"]

FILE = click.Path(path_type=Path, dir_okay=False)


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a CSV or JSONL file; a missing, unreadable or empty file fails naming
    ``FILE``."""
    try:
        rows = read_table(path)
    except ValueError as exc:
        raise fail(f"FILE: {exc}") from None
    if not rows:
        raise fail(f"FILE: {path}: no rows")
    return rows


def table_columns(
    path: Path, flags: dict[str, str | None], rows: list[dict[str, Any]] | None = None
) -> dict[str, list[Any]]:
    """The named columns of ``path`` (``flags``: flag -> column, ``None`` = not asked;
    ``rows``: the file's rows when already read); a missing file or column fails naming
    its flag."""
    rows = read_rows(path) if rows is None else rows
    out = {}
    for flag, column in flags.items():
        if column is None:
            continue
        if column not in rows[0]:
            raise fail(f"{flag}: no column {column!r} in {path} (columns: {', '.join(rows[0])})")
        out[flag] = [row[column] for row in rows]
    return out


def numeric_column(flag: str, values: list[Any]) -> np.ndarray:
    """``values`` as floats; a value that is not a positive number fails naming ``flag``."""
    try:
        array = np.array([float(v) for v in values])
    except (TypeError, ValueError):
        raise fail(f"{flag}: every value must be a number") from None
    if not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise fail(f"{flag}: every value must be a positive finite number")
    return array


def _echo_table(result: dict[str, Any]) -> None:
    def band(pair: Any) -> str:
        return "" if pair is None else f" [{pair[0]:.4g}, {pair[1]:.4g}]"

    level = f"{result['level']:.0%}"
    click.echo(
        f"group: S_min, B_noise (batch units) with {level} bands; B_noise and E_min in tokens"
    )
    for g in result["groups"]:
        click.echo(
            f"  {g['group']:<8} S_min {g['s_min']:.4g}{band(g['s_min_interval'])}  B_noise "
            f"{g['b_noise']:.4g}{band(g['b_noise_interval'])}  = {g['b_noise_tokens']:.4g} tokens, "
            f"E_min {g['e_min_tokens']:.4g} tokens, rms {g['rms_log_steps']:.3f}"
        )
    for key, x in (("data_law", "E_min tokens"), ("params_law", "params")):
        law = result[key]
        if law is not None:
            click.echo(
                f"B_noise = {law['k']:.4g} x ({x})^{law['a']:.4f} tokens; a{band(law['a_interval'])}, "
                f"R^2 {law['r2']:.4f} over {law['groups']} groups"
            )
    for text in result["warnings"]:
        click.echo(f"note: {text}")


FLAGS = {"batch": "--batch-col", "steps": "--steps-col", "sequence_length": "--sequence-length"}


@click.command("fit-critical-batch")
@click.argument("file", type=FILE)
@click.option("--batch-col", required=True, help="Column of global batch sizes (any unit).")
@click.option("--steps-col", required=True, help="Column of optimizer steps to the target loss.")
@click.option("--group-col", default=None, help="Column grouping the rows (a model size, say).")
@click.option("--params-col", default=None, help="Column of model sizes (else read off groups).")
@click.option(
    "--sequence-length-col", default=None, help="Column of tokens per batch unit (sequence)."
)
@click.option(
    "--sequence-length",
    type=click.FloatRange(min=1e-300),
    default=1.0,
    show_default=True,
    help="Tokens per batch unit when no column gives it (1: the batch is in tokens).",
)
@click.option(
    "--bootstrap", type=click.IntRange(min=0, max=100_000), default=1000, show_default=True
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--level", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.9)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--save-law", type=FILE, default=None, help="Write B_noise(E_min tokens) as JSON.")
def fit_critical_batch_command(file: Path, as_json: bool, save_law: Path | None, **o: Any) -> None:
    """S_min and B_noise per group (McCandlish et al. 2018: S = S_min (1 + B_noise / B),
    log-space least squares, bootstrap bands) and B_noise as a power law in data size
    (E_min tokens) and model size across groups."""
    from flopwise.fitting.fit.critical_batch import fit_critical_batch  # loads on use

    cols = table_columns(
        file,
        {
            "--batch-col": o["batch_col"],
            "--steps-col": o["steps_col"],
            "--group-col": o["group_col"],
            "--params-col": o["params_col"],
            "--sequence-length-col": o["sequence_length_col"],
        },
    )
    seq_flag = "--sequence-length-col"
    seq = numeric_column(seq_flag, cols[seq_flag]) if seq_flag in cols else o["sequence_length"]
    params = (
        numeric_column("--params-col", cols["--params-col"]) if "--params-col" in cols else None
    )
    try:
        result = fit_critical_batch(
            numeric_column("--batch-col", cols["--batch-col"]),
            numeric_column("--steps-col", cols["--steps-col"]),
            cols.get("--group-col"),
            sequence_length=seq,
            params=params,
            bootstrap=o["bootstrap"],
            seed=o["seed"],
            level=o["level"],
        )
    except ArgumentError as exc:
        raise fail(f"{FLAGS.get(exc.name, '--batch-col')}: {exc.message}") from None
    if save_law is not None and result.data_law is not None:
        law = result.data_law.law(
            f"{file.stem}-critical-batch", f"flopwise fit-critical-batch {file.name}"
        )
        save_law.write_text(json.dumps(critical_law_to_dict(law), indent=1) + "\n")
    out = result.to_dict()
    if as_json:
        click.echo(json.dumps(out, allow_nan=False))
    else:
        _echo_table(out)
