"""Compute-optimal mixture-of-experts plans: for a budget, a mixture-of-experts law and a
routing (experts, top-k, shared experts, granularity, dense layers), the best concrete MoE
shape, its total and active parameters, tokens, loss, and the memory and fewest GPUs
that hold it.

A budget C buys ``D = C / (6 N_active)`` tokens of a shape (Krajewski et al. 2024 §6.1,
N_active as the law counts N: non-embedding for theirs); the law scores the shape at its
total N, D and its design number (granularity or sparsity). The shapes searched are those
at the target aspect ratio width/depth (Krajewski et al. fix d_model = 64 n_blocks, §6.1;
flopwise's shape policy targets 128, docs/laws.md §0), each counted exactly
(:mod:`fitting.moe`); the best one is the plan. Memory counts the *total* parameters at
a stated precision (:mod:`fitting.memory`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from flopwise.fitting.checks import positive
from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms import law_form
from flopwise.fitting.forms.mixture import MoEForm
from flopwise.fitting.laws import Law, NDefinition
from flopwise.fitting.memory import min_gpus, model_memory
from flopwise.fitting.moe import Routing, moe_param_counts
from flopwise.fitting.shape import ShapeConstraints

__all__ = ["MoEPlan", "MoEShape", "is_moe_law", "plan_moe"]


@dataclass(frozen=True)
class MoEShape:
    """One concrete MoE decoder."""

    width: int
    depth: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    ffn_size: int
    """MLP size of the dense layers (and the reference d_ff of granularity)."""
    expert_ffn_size: int
    experts: int
    top_k: int
    shared_experts: int
    dense_layers: int
    granularity: float
    sparsity: float


@dataclass(frozen=True)
class MoEPlan:
    """The compute-optimal MoE model for one budget, and what holds it."""

    law_id: str
    law_version: int
    flops: float
    total_params: float
    """Every parameter: what memory holds."""
    active_params: float
    """Parameters one token passes through: what FLOPs pay for."""
    params_law: float
    """N as the law counts it."""
    tokens: float
    loss: float
    tokens_per_active_param: float
    flops_per_token: float
    """6 x N_active as the law counts it."""
    shape: MoEShape
    precision: str
    memory_bytes: float
    """Weights, gradients and optimiser states of the total parameters."""
    gpu: str | None
    min_gpus: int | None
    """Fewest ``gpu`` whose memory holds ``memory_bytes`` (a lower bound)."""
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["law"] = {"id": out.pop("law_id"), "version": out.pop("law_version")}
        out["warnings"] = list(self.warnings)
        return out


def is_moe_law(law: Law) -> bool:
    """Whether ``law``'s form scores mixture-of-experts designs."""
    return isinstance(law_form(law), MoEForm)


def _candidates(family: ArchFamily, constraints: ShapeConstraints) -> tuple[np.ndarray, ...]:
    """Widths and depths near the target aspect ratio: per depth, the feasible widths
    either side of ``aspect_ratio x depth``."""
    widths = constraints.widths(family)
    depth = np.arange(constraints.min_depth, constraints.max_depth + 1)
    i = np.clip(np.searchsorted(widths, constraints.aspect_ratio * depth), 1, len(widths) - 1)
    both = np.concatenate([widths[i - 1], widths[i]]) if len(widths) > 1 else widths[i - 1]
    depths = np.concatenate([depth, depth]) if len(widths) > 1 else depth
    return both.astype(np.int64), depths.astype(np.int64)


def _design(form: MoEForm, routing: Routing, ffn: np.ndarray, expert: np.ndarray) -> np.ndarray:
    if form.moe_input == "granularity":
        return ffn / expert
    return np.full(ffn.shape, routing.sparsity)


def plan_moe(
    law: Law,
    flops: float,
    routing: Routing,
    *,
    granularity: float = 1.0,
    constraints: ShapeConstraints | None = None,
    precision: str = "mixed-adam",
    gpu: str | None = None,
) -> MoEPlan:
    """The best MoE shape at ``flops`` under an MoE ``law``: experts ``granularity``
    times narrower than the dense MLP, routed as ``routing`` says. Raises
    :class:`ArgumentError` naming the argument (a dense law is ``law``)."""
    c = positive("flops", flops)
    form = law_form(law)
    if not isinstance(form, MoEForm):
        raise ArgumentError("law", f"{law.id} ({law.form}) is not a mixture-of-experts law")
    if not 1.0 <= positive("granularity", granularity) <= 1024:
        raise ArgumentError("granularity", f"must be in [1, 1024], got {granularity}")
    constraints = constraints or ShapeConstraints()
    family = constraints.family(law.family)
    width, depth = _candidates(family, constraints)
    keep = depth > routing.dense_layers
    if not keep.any():
        raise ArgumentError("dense_layers", "leaves no MoE block within max_depth")
    width, depth = width[keep], depth[keep]
    layout = family.shape_kwargs(width)
    ffn = np.asarray(layout["ffn_size"], dtype=np.int64)
    expert = np.maximum(1, np.round(ffn / granularity)).astype(np.int64)
    total, active, total_ne, active_ne = moe_param_counts(
        width,
        depth,
        layout,
        routing=routing,
        expert_ffn_size=expert,
        tied_embeddings=family.tied_embeddings,
        positions=family.positions,
        norm=family.norm,
    )
    own = law.n_definition is NDefinition.TOTAL
    n_law = np.asarray(total if own else total_ne, dtype=float)
    per_token = 6.0 * np.asarray(active if own else active_ne, dtype=float)
    tokens = c / per_token
    design = _design(form, routing, ffn.astype(float), expert.astype(float))
    with np.errstate(all="ignore"):
        loss = np.asarray(form.moe_loss(law.constants, n_law, tokens, design), dtype=float)
    if not np.isfinite(loss).any():
        raise ArgumentError("flops", f"{law.id} gives no finite MoE answer at {c:.3g} FLOPs")
    i = int(np.nanargmin(np.where(np.isfinite(loss), loss, np.nan)))
    shape = MoEShape(
        width=int(width[i]),
        depth=int(depth[i]),
        n_heads=int(layout["n_heads"][i]),
        n_kv_heads=int(layout["n_kv_heads"][i]),
        head_dim=family.head_dim,
        ffn_size=int(ffn[i]),
        expert_ffn_size=int(expert[i]),
        experts=routing.experts,
        top_k=routing.top_k,
        shared_experts=routing.shared_experts,
        dense_layers=routing.dense_layers,
        granularity=float(ffn[i] / expert[i]),
        sparsity=routing.sparsity,
    )
    memory = model_memory(float(total[i]), precision).total_bytes
    return MoEPlan(
        law_id=law.id,
        law_version=law.version,
        flops=c,
        total_params=float(total[i]),
        active_params=float(active[i]),
        params_law=float(n_law[i]),
        tokens=float(tokens[i]),
        loss=float(loss[i]),
        tokens_per_active_param=float(tokens[i] / active[i]),
        flops_per_token=float(per_token[i]),
        shape=shape,
        precision=precision,
        memory_bytes=memory,
        gpu=gpu,
        min_gpus=None if gpu is None else min_gpus(memory, gpu),
        warnings=tuple(_warnings(law, c, float(n_law[i]), float(tokens[i]), shape)),
    )


def _warnings(law: Law, flops: float, n: float, d: float, shape: MoEShape) -> list[str]:
    out = []
    dom = law.domain
    for name, value, span in (("budget", flops, dom.flops), ("params", n, dom.params)):
        if span is not None and not span[0] <= value <= span[1]:
            out.append(
                f"{name} {value:.3g} lies outside the range {law.id} was fitted on "
                f"({span[0]:.3g} to {span[1]:.3g}): this MoE plan is an extrapolation"
            )
    ref = law.constants.get("granularity")
    if law.form == "fine-grained-moe" and ref is not None and shape.granularity > 16:
        out.append(f"granularity {shape.granularity:g} is beyond the fitted 1 to 16")
    fitted = law.constants.get("expansion_rate")
    if fitted is not None and shape.experts != fitted * shape.top_k:
        out.append(
            f"{law.id} was fitted at expansion rate {fitted:g} (experts = {fitted:g} x top_k); "
            f"{shape.experts} experts with top-{shape.top_k} is expansion "
            f"{shape.experts / shape.top_k:g}: outside its data"
        )
    return out
