"""Mixture-of-experts calibration sweeps: every planned model at each expert granularity
(Krajewski et al. 2024, arXiv:2402.07871 §4; docs/laws.md §14).

A sweep with ``experts`` E > 0 trains each planned shape (width, depth, its dense MLP of
width F) once per granularity G: its MLPs become ``E x G`` routed experts of width
``F / G``, of which each token passes through ``top_k x G``, so G changes how finely the
experts split, not how many parameters a token passes through (nor the total). The
runs carry the MoE counts (``fitting.moe``): ``params`` the total non-embedding count
the MoE laws use, ``active_params`` and FLOPs ``6 N_active`` per token, and their
``granularity`` and ``sparsity``, in ``tags`` (as the service stores them). After the
sweep the ``fine-grained-moe`` form (Eq. 9) is fitted, filed as
``<dataset>-fine-grained-moe``.

Nothing here imports torch (the planner uses it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from flopwise.fitting.counting import ArchSpec, count
from flopwise.fitting.flops import gemstones_flops_per_token
from flopwise.fitting.moe import MoESpec, Routing, moe_counts

__all__ = [
    "DENSE",
    "MOE_FORM",
    "MoEFields",
    "check_moe",
    "granularity_points",
    "granularity_suffix",
    "moe_fields",
    "moe_spec",
    "moe_tags",
    "run_size",
    "trainable_params",
]

MOE_FORM = "fine-grained-moe"
"""The law an MoE sweep's runs are fitted with (Krajewski et al. 2024 Eq. 9)."""


def check_moe(experts: int, top_k: int, granularities: Sequence[int]) -> None:
    """``ValueError`` naming the field when the MoE options do not fit together."""
    if experts < 0 or top_k < 1:
        raise ValueError("experts must be >= 0 and top_k >= 1")
    if experts and top_k > experts:
        raise ValueError(f"top_k {top_k} exceeds experts {experts}")
    if any(g < 1 for g in granularities):
        raise ValueError("granularities must hold integers >= 1")
    if granularities and not experts:
        raise ValueError("granularities need experts (an MoE sweep)")


def granularity_points(experts: int, granularities: Sequence[int]) -> tuple[int, ...]:
    """The granularities each model is trained at; ``(0,)`` for a dense sweep.

    >>> granularity_points(0, ()), granularity_points(8, ()), granularity_points(8, (1, 4))
    ((0,), (1,), (1, 4))
    """
    if not experts:
        return (0,)
    return tuple(granularities) or (1,)


def granularity_suffix(granularity: int) -> str:
    """What a granularity adds to a run id (nothing for a dense run).

    >>> granularity_suffix(4), granularity_suffix(0)
    ('-g4', '')
    """
    return f"-g{granularity}" if granularity else ""


class MoEFields(TypedDict):
    """A run's (and its model's) MoE settings: all 0 for a dense one."""

    experts: int
    top_k: int
    expert_ffn_size: int


DENSE = MoEFields(experts=0, top_k=0, expert_ffn_size=0)


def moe_fields(arch: ArchSpec, experts: int, top_k: int, granularity: int) -> MoEFields:
    """A run's MoE settings at ``granularity`` (:data:`DENSE` for 0): ``experts x G``
    routed experts, ``top_k x G`` per token, each ``ffn_size / G`` wide. ``ValueError``
    naming granularities when G does not divide the model's MLP width."""
    if not granularity:
        return DENSE
    if arch.ffn_size % granularity:
        raise ValueError(
            f"granularities: {granularity} does not divide the MLP width {arch.ffn_size} of "
            f"the {arch.width}x{arch.depth} model (give divisors of it, e.g. 1, 2, 4)"
        )
    return MoEFields(
        experts=experts * granularity,
        top_k=top_k * granularity,
        expert_ffn_size=arch.ffn_size // granularity,
    )


def moe_spec(
    arch: ArchSpec, experts: int = 0, top_k: int = 0, expert_ffn_size: int = 0
) -> MoESpec | None:
    """The ``fitting`` MoE spec of a model (``None`` when ``experts`` is 0: dense)."""
    if not experts:
        return None
    routing = Routing(experts=experts, top_k=top_k)  # ArgumentError (a ValueError) names it
    return MoESpec(base=arch, routing=routing, expert_ffn_size=expert_ffn_size)


def run_size(arch: ArchSpec, moe: MoESpec | None) -> tuple[int, float]:
    """``(params, training FLOPs per token)`` a run records: a dense model's total and
    Gemstones' count; an MoE model's total non-embedding parameters (the MoE laws' N) and
    ``6 N_active`` (Krajewski et al. 2024 §6.1)."""
    if moe is None:
        fpt = gemstones_flops_per_token(arch.width, arch.depth, **arch.shape_kwargs())
        return count(arch).total, float(fpt)
    counts = moe_counts(moe)
    return counts.total_non_embedding, counts.flops_per_token


def trainable_params(arch: ArchSpec, moe: MoESpec | None) -> int:
    """Every weight of the model (what the built model must hold)."""
    return count(arch).total if moe is None else moe_counts(moe).total


def moe_tags(moe: MoESpec | None) -> dict[str, str]:
    """What an MoE run's observations carry besides the dense record (``tags``, strings:
    ``fitting.runs.Runs.from_records`` reads the MoE columns from them); none for dense."""
    if moe is None:
        return {}
    counts = moe_counts(moe)
    return {
        "active_params": str(counts.active_non_embedding),
        "granularity": f"{moe.granularity:g}",
        "sparsity": f"{moe.routing.sparsity:.6g}",
        "experts": str(moe.routing.experts),
        "top_k": str(moe.routing.top_k),
        "flops_counter": "6N_active",
    }
