"""The answers as text tables (``--json`` prints the API's JSON instead)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

__all__ = ["allocation", "band_text", "frontier", "overspend", "time_allocation"]


def _rows(rows: list[tuple[str, str]], warnings: list[str], caveats: Sequence[str] = ()) -> None:
    for key, value in rows:
        click.echo(f"{key:>14}  {value}")
    for warning in warnings:
        click.echo(f"{'warning':>14}  {warning}")
    for caveat in caveats:
        click.echo(f"{'caveat':>14}  {caveat}")


def band_text(answer: dict[str, Any]) -> str:
    """`` (90%: lo to hi)`` for an answer with a ``loss_interval``."""
    band = answer["loss_interval"]
    return "" if not band else f"  ({answer['level']:.0%}: {band[0]:.4f} to {band[1]:.4f})"


def _cost(cost: dict[str, Any]) -> str:
    parts = [f"{cost['gpu_hours']:.4g} GPU-hours"]
    if cost["wall_clock_hours"] is not None:
        parts.append(f"{cost['wall_clock_hours']:.4g} h wall clock")
    if cost["dollars"] is not None:
        parts.append(f"${cost['dollars']:,.0f}")
    return ", ".join(parts)


def allocation(result: dict[str, Any]) -> None:
    """An allocation for one budget."""
    shape = result["shape"]
    loss = "n/a" if result["loss"] is None else f"{result['loss']:.4f}"
    band = result.get("loss_interval")
    if band:
        loss += f"  ({result['level']:.0%} for a new run: {band[0]:.4f} to {band[1]:.4f})"
    hp = result["hyperparameters"]
    if result.get("model_scale") is not None:  # the law's N is DeepSeek's M, not params
        n_rows = [
            ("model scale M*", f"{result['model_scale']:.4g} non-embedding FLOPs per token"),
            ("params", f"{result['params']:.4g} (the shape's, total)"),
        ]
    else:
        n_rows = [("params N*", f"{result['params']:.4g} ({result['n_definition']})")]
    rows = [
        ("law", f"{result['law']['id']}@{result['law']['version']}"),
        ("budget", f"{result['flops']:.4g} FLOPs ({result['c_definition']})"),
        *n_rows,
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
        (
            "batch / LR",
            f"{hp['batch_size_tokens']:.3g} tokens, {hp['learning_rate']:.3g} (DeepSeek Eq. 1)",
        ),
    ]
    if result.get("cost"):
        rows.append(("cost", _cost(result["cost"])))
    rows += _moe_rows(result) + downstream_rows(result)
    moe_warnings = (result.get("moe") or {}).get("warnings", [])
    vocab_warnings = (result.get("vocabulary") or {}).get("warnings", [])
    _rows(rows, [*result["warnings"], *moe_warnings, *vocab_warnings], result["caveats"])


def downstream_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """A row per predicted benchmark metric, and the target's when asked for one."""
    rows = []
    for name, m in (result.get("downstream") or {}).items():
        band = m["interval"]
        shown = f"{m['value']:.4f}"
        if band:
            shown += f"  ({m['level']:.0%} for a new run: {band[0]:.4f} to {band[1]:.4f})"
        via = m["via"]
        rows.append((name, f"{shown}  via {via['metric']} {via['value']:.4g} ({m['link']})"))
    target = result.get("target")
    if target:
        chance = target["run_probability"]
        rows.append(
            (
                "target",
                f"{target['metric']} >= {target['value']:g} from {target['flops']:.4g} FLOPs; "
                f"a run at this plan reaches it with probability {chance:.0%}",
            )
        )
    return rows


def _gpus(result: dict[str, Any]) -> str:
    gpus = result.get("min_gpus")
    return "" if gpus is None else f", at least {gpus} GPUs to hold it"


def _moe_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The memory, vocabulary and MoE plan an allocation may carry."""
    rows = []
    if result.get("memory_bytes") is not None:
        rows.append(("memory", f"{result['memory_bytes'] / 1e9:.4g} GB{_gpus(result)}"))
    vocab = result.get("vocabulary")
    if vocab:
        rows.append(
            (
                "vocabulary",
                f"{vocab['parametric']:,} (Tao et al. 2024 approaches 1/2/3: "
                f"{vocab['isoflops']:,} / {vocab['derivative']:,} / {vocab['parametric']:,})",
            )
        )
    moe = result.get("moe")
    if moe:
        shape = moe["shape"]
        rows += [
            ("MoE law", f"{moe['law']['id']}@{moe['law']['version']}"),
            (
                "MoE params",
                f"{moe['total_params']:.4g} total, {moe['active_params']:.4g} active",
            ),
            ("MoE tokens", f"{moe['tokens']:.4g}  (loss {moe['loss']:.4f})"),
            (
                "MoE shape",
                f"width {shape['width']} x depth {shape['depth']}, {shape['experts']} experts "
                f"(top-{shape['top_k']}, {shape['shared_experts']} shared) of ffn "
                f"{shape['expert_ffn_size']}, {shape['dense_layers']} dense layers",
            ),
            ("MoE memory", f"{moe['memory_bytes'] / 1e9:.4g} GB{_gpus(moe)}"),
        ]
    return rows


def counts(result: dict[str, Any]) -> None:
    """Exact counts of one model."""
    rows = [
        ("total params", f"{result['total_params']:,}"),
        ("active params", f"{result['active_params']:,}"),
        ("FLOPs / token", f"{result['flops_per_token']:.4g} (6 x active)"),
        ("memory", f"{result['memory_bytes'] / 1e9:.4g} GB ({result['precision']}){_gpus(result)}"),
    ]
    if result.get("granularity") is not None:
        rows.append(("granularity", f"{result['granularity']:g}"))
        rows.append(("sparsity", f"{result['sparsity']:g}"))
    _rows(rows, [])


def _plan_row(plan: dict[str, Any]) -> str:
    shape = plan["shape"]
    dollars = "" if plan["dollars"] is None else f", ${plan['dollars']:,.0f}"
    return (
        f"{shape['width']} x {shape['depth']} ({plan['params']:.4g} params), "
        f"{plan['tokens']:.4g} tokens, loss {plan['loss']:.4f}, {plan['flops']:.4g} FLOPs, "
        f"{plan['gpu_hours']:.4g} GPU-h, {plan['wall_clock_hours']:.4g} h wall{dollars}, "
        f"{plan['model_flops_per_gpu'] / 1e12:.1f} TFLOP/s per GPU"
    )


def time_allocation(result: dict[str, Any], gpu: str) -> None:
    """Time-optimal and FLOP-optimal plans for the same GPU-hours."""
    law, model = result["law"], result["throughput"]
    rows = [
        (
            "law",
            f"{law['id']}@{law['version']}; throughput {model['id']}@{model['version']} "
            f"on {result['n_gpus']} x {gpu}",
        ),
        ("time-optimal", _plan_row(result["time_optimal"])),
        ("FLOP-optimal", _plan_row(result["flop_optimal"])),
        *_critical_rows(result.get("critical_batch")),
    ]
    _rows(rows, result["warnings"], result["caveats"])


def _critical_rows(c: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The critical batch: what the plan's batch costs, and what more GPUs buy."""
    if c is None:
        return []
    plan, top = c["plan"], c["at_largest_useful"]
    rows = [
        (
            "critical batch",
            f"B_noise {c['b_noise_tokens']:.3g} tokens ({c['b_noise_source']}); the plan's "
            f"{plan['batch_tokens']:.3g}-token batch needs {c['extra_tokens']:.3g} extra tokens: "
            f"{plan['wall_clock_hours']:.4g} h, {plan['gpu_hours']:.4g} GPU-hours",
        ),
        (
            "useful GPUs",
            f"at most {c['largest_useful_gpus']} ({top['wall_clock_hours']:.4g} h, "
            f"{top['gpu_hours']:.4g} GPU-hours; saves {c['wall_clock_saving_hours']:.4g} h)",
        ),
    ]
    deadline = c.get("deadline")
    if deadline is not None:
        rows.append(("deadline", deadline["reason"]))
    return rows


def frontier(result: dict[str, Any]) -> None:
    """The optimal path, one budget a line."""
    click.echo(f"{'law':>14}  {result['law']['id']}@{result['law']['version']}")
    for p in result["points"]:
        loss = "n/a" if p["loss"] is None else f"{p['loss']:.4f}"
        n = f"N* {p['params']:.4g}"
        if p.get("model_scale") is not None:
            n = f"M* {p['model_scale']:.4g} FLOPs/token ({p['params']:.4g} params)"
        click.echo(
            f"{p['flops']:>14.4g}  {n}, D* {p['tokens']:.4g}, loss {loss}, "
            f"shape {p['width']} x {p['depth']}"
        )
    _rows([], [], result["caveats"])


def overspend(result: dict[str, Any]) -> None:
    """A shape's costs against both optima."""
    rows = []
    for name in ("shape", "flop_optimal", "time_optimal"):
        c = result[name]
        rows.append(
            (
                name,
                f"{c['width']} x {c['depth']}: {c['tokens']:.4g} tokens, "
                f"{c['flops']:.4g} FLOPs, {c['gpu_hours']:.4g} GPU-hours",
            )
        )
    rows.append(
        (
            "overspend",
            f"x{result['flops_overspend']:.2f} FLOPs, x{result['gpu_hours_overspend']:.2f} "
            f"GPU-hours to reach loss {result['target_loss']:.4f}",
        )
    )
    _rows(rows, result["warnings"], result.get("caveats", []))
