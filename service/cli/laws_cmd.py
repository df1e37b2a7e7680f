"""``flopwise laws``, ``flopwise allocate`` and ``flopwise predict``: the core, offline.

These answer from the built-in catalogue (or a law saved as JSON with ``--law-file``)
without a server, so the numbers are available before anything is deployed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel

from flopwise.fitting.allocation import allocate
from flopwise.fitting.catalogue import BUILTIN_LAWS, DEFAULT_LAW, builtin
from flopwise.fitting.hardware import budget_to_flops, cost_of
from flopwise.fitting.laws import Law, from_dict
from flopwise.fitting.prediction import predict
from flopwise.fitting.shape import ShapeConstraints
from flopwise.fitting.stats import DEFAULT_LEVEL, check_level
from flopwise.service.cli.app import fail, main
from flopwise.service.cli.predict_batch import COLUMN_OPTIONS, predict_rows
from flopwise.service.schemas.queries import AllocatePublic, PredictPublic
from flopwise.service.time_answers import constant_mfu_warning


def _load_law(law_id: str, law_file: Path | None) -> Law:
    if law_file is not None:
        try:
            return from_dict(json.loads(law_file.read_text()))
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise fail(f"--law-file: cannot read a law from {law_file}: {exc}") from None
    name, sep, version = law_id.partition("@")
    try:
        law = builtin(name)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if sep and not (version.isascii() and version.isdigit() and int(version) == law.version):
        raise fail(
            f"--law: {name} has only version {law.version} offline, got {version!r} "
            "(fitted versions live on the server)"
        )
    return law


def _public_json(model: type[BaseModel], answer: dict[str, Any]) -> str:
    """The answer as the API's response model writes it (same fields, same JSON)."""
    return model.model_validate(answer).model_dump_json()


def _print_table(result: dict[str, Any]) -> None:
    shape = result["shape"]
    loss = "n/a" if result["loss"] is None else f"{result['loss']:.4f}"
    band = result.get("loss_interval")
    if band:
        loss += f"  ({result['level']:.0%} for a new run: {band[0]:.4f} to {band[1]:.4f})"
    rows = [
        ("law", f"{result['law']['id']}@{result['law']['version']}"),
        ("budget", f"{result['flops']:.4g} FLOPs ({result['c_definition']})"),
        ("params N*", f"{result['params']:.4g} ({result['n_definition']})"),
        ("tokens D*", f"{result['tokens']:.4g}  ({result['tokens_per_param']:.1f} per param)"),
        ("loss", loss),
        (
            "shape",
            f"width {shape['width']} x depth {shape['depth']}, {shape['n_heads']} heads / "
            f"{shape['n_kv_heads']} kv (head {shape['head_dim']}), ffn {shape['ffn_size']}",
        ),
        (
            "shape counts",
            f"{shape['params']:,} params, {shape['flops_per_token']:.4g} FLOPs/token "
            f"({shape['flops_per_token'] / shape['flops_per_token_6n']:.3f} x 6N)",
        ),
    ]
    hp = result["hyperparameters"]
    rows.append(
        (
            "batch / LR",
            f"{hp['batch_size_tokens']:.3g} tokens, {hp['learning_rate']:.3g} (DeepSeek Eq. 1)",
        )
    )
    cost = result.get("cost")
    if cost:
        parts = [f"{cost['gpu_hours']:.4g} GPU-hours"]
        if cost["wall_clock_hours"] is not None:
            parts.append(f"{cost['wall_clock_hours']:.4g} h wall clock")
        if cost["dollars"] is not None:
            parts.append(f"${cost['dollars']:,.0f}")
        rows.append(("cost", ", ".join(parts)))
    for key, value in rows:
        click.echo(f"{key:>13}  {value}")
    for warning in result["warnings"]:
        click.echo(f"{'warning':>13}  {warning}")


@main.command("laws")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
def laws_command(as_json: bool) -> None:
    """List the built-in scaling laws."""
    if as_json:
        payload = [
            {
                "id": law.id,
                "version": law.version,
                "title": law.title,
                "form": str(law.form),
                "n_definition": str(law.n_definition),
                "c_definition": str(law.c_definition),
                "constants": law.constants,
                "source": law.source,
                "citation": law.citation,
            }
            for law in BUILTIN_LAWS.values()
        ]
        click.echo(json.dumps(payload, indent=2))
        return
    for law in BUILTIN_LAWS.values():
        default = " (default)" if law.id == DEFAULT_LAW else ""
        click.echo(f"{law.id:<26} {law.form!s:<17} N={law.n_definition!s:<14} {law.title}{default}")


def _number(name: str) -> Any:
    return click.option(name, type=float, default=None)


def _level(value: float) -> float:
    try:
        return check_level(value)
    except ValueError as exc:
        raise fail(f"--level: {exc}") from None


_LEVEL = click.option(
    "--level",
    type=float,
    default=DEFAULT_LEVEL,
    show_default=True,
    help="Coverage of the intervals, in (0, 1).",
)


def _shape_constraints(opts: dict[str, Any]) -> ShapeConstraints:
    """The ``ShapeConstraints`` fields the command has options for, from those options."""
    try:
        return ShapeConstraints(
            **{f.name: opts[f.name] for f in fields(ShapeConstraints) if f.name in opts}
        )
    except ValueError as exc:
        raise fail(str(exc)) from None


@main.command("allocate")
@_number("--flops")
@_number("--gpu-hours")
@_number("--dollars")
@click.option("--gpu", default=None, help="GPU name for GPU-hour or dollar budgets (e.g. h100).")
@click.option("--mfu", type=float, default=0.4, show_default=True, help="Model FLOPs utilisation.")
@click.option("--n-gpus", type=int, default=None, help="GPUs in parallel, for wall-clock time.")
@_number("--price-per-gpu-hour")
@click.option(
    "--law", "law_id", default=DEFAULT_LAW, show_default=True, help="Law id (see `flopwise laws`)."
)
@click.option(
    "--law-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="A law saved as JSON instead of a built-in.",
)
@_number("--inference-tokens")
@_number("--unique-tokens")
@click.option("--min-width", type=int, default=1)
@click.option("--max-width", type=int, default=65536)
@click.option("--min-depth", type=int, default=1)
@click.option("--max-depth", type=int, default=512)
@click.option("--aspect-ratio", type=float, default=128.0, show_default=True)
@click.option("--head-dim", type=int, default=None)
@click.option("--kv-group", type=int, default=None, help="Query heads per key/value head.")
@_LEVEL
@click.option("--throughput", default=None, help="Throughput model: time-optimal plans.")
@click.option("--throughput-file", type=click.Path(path_type=Path, dir_okay=False), default=None)
@_number("--deadline-hours")
@_number("--batch-tokens")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def allocate_command(**opts: Any) -> None:
    """Compute-optimal params, tokens, shape and loss for a budget.

    Give exactly one of --flops, --gpu-hours (with --gpu) or --dollars (with --gpu and
    --price-per-gpu-hour). With --throughput (see `flopwise throughput`) a GPU-hour
    budget gets time-optimal and FLOP-optimal plans for the same hours.
    """
    law = _load_law(opts["law_id"], opts["law_file"])
    level = _level(opts["level"])
    if opts["throughput"] or opts["throughput_file"]:
        from flopwise.service.cli.overspend_cmd import time_allocate

        return time_allocate(law, _shape_constraints(opts), opts)
    try:
        flops = budget_to_flops(
            flops=opts["flops"],
            gpu_hours=opts["gpu_hours"],
            dollars=opts["dollars"],
            gpu_name=opts["gpu"],
            mfu=opts["mfu"],
            price_per_gpu_hour=opts["price_per_gpu_hour"],
        )
        constraints = _shape_constraints(opts)
        result = allocate(
            law,
            flops,
            constraints=constraints,
            unique_tokens=opts["unique_tokens"],
            inference_tokens=opts["inference_tokens"],
            level=level,
        )
        cost = None
        if opts["gpu"] is not None:
            cost = asdict(
                cost_of(
                    flops,
                    opts["gpu"],
                    mfu=opts["mfu"],
                    n_gpus=opts["n_gpus"],
                    price_per_gpu_hour=opts["price_per_gpu_hour"],
                )
            )
    except ValueError as exc:
        raise fail(str(exc)) from None
    out = result.to_dict()
    out["cost"] = cost
    if cost is not None and opts["flops"] is None:
        out["warnings"].append(constant_mfu_warning(opts["mfu"], opts["gpu"]))
    if opts["as_json"]:
        click.echo(_public_json(AllocatePublic, out))
    else:
        _print_table(out)


@main.command("predict")
@click.option("--law", "law_id", default=DEFAULT_LAW, show_default=True)
@click.option("--law-file", type=click.Path(path_type=Path, dir_okay=False), default=None)
@_number("--params")
@_number("--tokens")
@click.option("--width", type=int, default=None)
@click.option("--depth", type=int, default=None)
@_number("--unique-tokens")
@_LEVEL
@click.option(
    "--runs",
    "runs_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Predict every row of a CSV or JSONL file (columns named by the --*-col options).",
)
@click.option("--params-col", default="params", show_default=True)
@click.option("--tokens-col", default="tokens", show_default=True)
@click.option("--width-col", default="width", show_default=True)
@click.option("--depth-col", default="depth", show_default=True)
@click.option("--unique-tokens-col", default="unique_tokens", show_default=True)
@click.option("--loss-col", default="loss", show_default=True, help="Measured loss, if any.")
@click.option("--json", "as_json", is_flag=True)
def predict_command(**opts: Any) -> None:
    """Predicted loss for (params, tokens) or (width, depth, tokens), or for every row
    of --runs FILE. ``loss_interval`` is where a new run's measured loss will fall."""
    law = _load_law(opts["law_id"], opts["law_file"])
    level = _level(opts["level"])
    if opts["runs_file"] is not None:
        _predict_file(law, opts, level)
        return
    try:
        result = predict(
            law,
            params=opts["params"],
            tokens=opts["tokens"],
            width=opts["width"],
            depth=opts["depth"],
            unique_tokens=opts["unique_tokens"],
            level=level,
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    out = result.to_dict()
    if opts["as_json"]:
        click.echo(_public_json(PredictPublic, out))
        return
    click.echo(f"{law.id}: loss {out['loss']:.4f}{_band_text(out)}")


def _band_text(answer: dict[str, Any]) -> str:
    band = answer["loss_interval"]
    return "" if not band else f"  ({answer['level']:.0%}: {band[0]:.4f} to {band[1]:.4f})"


def _predict_file(law: Law, opts: dict[str, Any], level: float) -> None:
    columns = {field: opts[f"{field}_col"] for field in COLUMN_OPTIONS}
    answers = predict_rows(law, opts["runs_file"], columns, level)
    if opts["as_json"]:
        click.echo(json.dumps(answers, allow_nan=False))
        return
    for i, out in enumerate(answers):
        measured = "" if "measured_loss" not in out else f"  measured {out['measured_loss']:.4f}"
        click.echo(f"row {i}: loss {out['loss']:.4f}{_band_text(out)}{measured}")
