"""``flopwise overspend``, ``flopwise throughput`` and the time-optimal path of
``flopwise allocate --throughput``: the same answers as the HTTP API, offline, from
the built-in throughput models (or one saved as JSON with ``--throughput-file``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from flopwise.fitting.laws import Law
from flopwise.fitting.shape import ShapeConstraints
from flopwise.fitting.throughput.catalogue import builtin_throughput, builtin_throughputs
from flopwise.fitting.throughput.model import ThroughputModel, from_dict, to_dict
from flopwise.service.cli.app import fail, main
from flopwise.service.errors import FieldError
from flopwise.service.schemas.queries import AllocateRequest
from flopwise.service.schemas.throughput import OverspendRequest
from flopwise.service.time_answers import answer_overspend, answer_time_allocate

__all__ = ["load_model", "time_allocate"]


def load_model(model_id: str, path: Path | None = None) -> ThroughputModel:
    """A built-in model, or one saved as ``fitting.throughput.to_dict`` JSON."""
    try:
        if path is not None:
            return from_dict(json.loads(path.read_text()))
        return builtin_throughput(model_id)
    except (OSError, TypeError, KeyError) as exc:
        raise fail(
            f"--throughput-file: cannot read a throughput model from {path}: {exc}"
        ) from None
    except ValueError as exc:
        raise fail(str(exc)) from None


def _invalid(exc: ValidationError) -> click.UsageError:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err.get("loc", ()))
    return fail(f"{field.replace('_', '-')}: {err.get('msg', 'invalid')}")


def _answer(opts: dict[str, Any], ask: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """The answer ``ask`` builds (from a request model it validates), its errors as the
    command's; under ``--json`` it is printed and ``None`` returned, for the caller to
    stop, else the caller prints it as a table."""
    try:
        out = ask()
    except ValidationError as exc:
        raise _invalid(exc) from None
    except FieldError as exc:
        raise fail(exc.message) from None
    if opts["as_json"]:
        click.echo(json.dumps(out, allow_nan=False))
        return None
    return out


def _plan_row(name: str, plan: dict[str, Any]) -> str:
    shape = plan["shape"]
    dollars = "" if plan["dollars"] is None else f", ${plan['dollars']:,.0f}"
    return (
        f"{name:>13}  {shape['width']} x {shape['depth']} ({plan['params']:.4g} params), "
        f"{plan['tokens']:.4g} tokens, loss {plan['loss']:.4f}, {plan['flops']:.4g} FLOPs, "
        f"{plan['gpu_hours']:.4g} GPU-h, {plan['wall_clock_hours']:.4g} h wall{dollars}, "
        f"{plan['model_flops_per_gpu'] / 1e12:.1f} TFLOP/s per GPU"
    )


def time_allocate(law: Law, constraints: ShapeConstraints, opts: dict[str, Any]) -> None:
    """``flopwise allocate --throughput``: time-optimal and FLOP-optimal plans."""
    model = load_model(opts["throughput"], opts.get("throughput_file"))
    keys = ["flops", "gpu_hours", "dollars", "gpu", "n_gpus", "price_per_gpu_hour"]
    keys += ["inference_tokens", "unique_tokens", "deadline_hours", "batch_tokens", "level"]

    def ask() -> dict[str, Any]:
        req = AllocateRequest(law=law.ref, **{k: opts[k] for k in keys}, throughput=model.ref)
        return answer_time_allocate(law, model, req, constraints)

    out = _answer(opts, ask)
    if out is None:
        return
    click.echo(f"{'law':>13}  {law.ref}; throughput {model.ref} on {out['n_gpus']} x {model.gpu}")
    click.echo(_plan_row("time-optimal", out["time_optimal"]))
    click.echo(_plan_row("FLOP-optimal", out["flop_optimal"]))
    for warning in out["warnings"]:
        click.echo(f"{'warning':>13}  {warning}")


@main.command("throughput")
@click.option("--json", "as_json", is_flag=True, help="Print the models as JSON.")
def throughput_command(as_json: bool) -> None:
    """List the built-in throughput models (step time by shape, GPU and GPU count)."""
    models = list(builtin_throughputs().values())
    if as_json:
        click.echo(json.dumps([to_dict(m) for m in models], indent=2))
        return
    for m in models:
        w, d = m.domain.width, m.domain.depth
        click.echo(
            f"{m.id:<18} {m.gpu:<7} eta {m.matmul_efficiency:.3f}, half width "
            f"{m.half_width:.0f}; fitted widths {w[0]:.0f}-{w[1]:.0f}, depths {d[0]:.0f}-{d[1]:.0f}"
        )


@main.command("overspend")
@click.option("--law", "law_id", default="gemstones-2025", show_default=True)
@click.option("--throughput", "throughput", default="gemstones-mi250x", show_default=True)
@click.option("--throughput-file", type=click.Path(path_type=Path, dir_okay=False), default=None)
@click.option("--width", type=int, required=True)
@click.option("--depth", type=int, required=True)
@click.option("--target-loss", type=float, default=None)
@click.option("--flops", type=float, default=None, help="Target: the best loss at this budget.")
@click.option("--n-gpus", type=int, required=True)
@click.option("--batch-tokens", type=float, default=None)
@click.option("--json", "as_json", is_flag=True)
def overspend_command(**opts: Any) -> None:
    """Extra FLOPs and GPU-hours WIDTH x DEPTH needs to reach a loss (Gemstones Fig. 7)."""
    from flopwise.service.cli.laws_cmd import _load_law

    law = _load_law(opts["law_id"], None)
    model = load_model(opts["throughput"], opts["throughput_file"])
    keys = ("width", "depth", "target_loss", "flops", "n_gpus", "batch_tokens")

    def ask() -> dict[str, Any]:
        req = OverspendRequest(law=law.ref, throughput=model.ref, **{k: opts[k] for k in keys})
        return answer_overspend(law, model, req, ShapeConstraints())

    out = _answer(opts, ask)
    if out is None:
        return
    for name in ("shape", "flop_optimal", "time_optimal"):
        c = out[name]
        click.echo(
            f"{name:>13}  {c['width']} x {c['depth']}: {c['tokens']:.4g} tokens, "
            f"{c['flops']:.4g} FLOPs, {c['gpu_hours']:.4g} GPU-hours"
        )
    click.echo(
        f"{'overspend':>13}  x{out['flops_overspend']:.2f} FLOPs, "
        f"x{out['gpu_hours_overspend']:.2f} GPU-hours to reach loss {out['target_loss']:.4f}"
    )
    for warning in out["warnings"]:
        click.echo(f"{'warning':>13}  {warning}")
