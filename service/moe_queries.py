"""The mixture-of-experts and vocabulary parts of the one answer path
(``service.queries``): ``POST /v1/count`` and ``flopwise count``; the MoE plan, the
memory and fewest GPUs, and Tao et al.'s vocabulary that ``/v1/allocate`` and
``flopwise allocate`` add to a dense plan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

from flopwise.fitting.catalogue import builtin
from flopwise.fitting.counting import ArchSpec
from flopwise.fitting.laws import Law, NDefinition
from flopwise.fitting.memory import min_gpus, model_memory
from flopwise.fitting.moe import MoESpec, Routing, moe_counts
from flopwise.fitting.moe_plan import is_moe_law, plan_moe
from flopwise.fitting.shape import ShapeConstraints, law_params
from flopwise.fitting.vocabulary import optimal_vocabulary
from flopwise.service.errors import FieldError, field_error
from flopwise.service.schemas.moe import CountRequest
from flopwise.service.schemas.queries import AllocateRequest

__all__ = ["Resolve", "add_moe", "count", "dense_law", "optimal_vocab", "routing"]

Resolve = Callable[[str], Law]
"""A law reference to the law (the API's registry, the CLI's catalogue or file)."""
CLIENT_ERRORS = (ValueError, ArithmeticError)


def _routing(experts: int | None, top_k: int | None, shared: int, dense: int) -> Routing | None:
    if experts is None:
        if top_k is not None:
            raise FieldError(("body", "top_k"), "top_k: needs experts")
        return None
    return Routing(experts=experts, top_k=top_k or 1, shared_experts=shared, dense_layers=dense)


def routing(req: AllocateRequest) -> Routing | None:
    """The request's MoE routing, or ``None`` for a dense-only question."""
    try:
        return _routing(req.experts, req.top_k, req.shared_experts, req.dense_layers)
    except CLIENT_ERRORS as exc:
        raise field_error(exc, AllocateRequest.model_fields) from None


def count(req: CountRequest) -> dict[str, Any]:
    """Exact total and active parameters, FLOPs per token and memory of one model."""
    fields = CountRequest.model_fields
    try:
        head_dim = req.head_dim or req.width // req.heads
        if req.head_dim is None and req.width % req.heads:
            raise FieldError(("body", "heads"), f"heads: {req.heads} does not divide width")
        if req.heads % (req.kv_heads or req.heads):
            raise FieldError(("body", "kv_heads"), f"kv_heads: must divide heads ({req.heads})")
        base = ArchSpec(
            width=req.width,
            depth=req.depth,
            n_heads=req.heads,
            n_kv_heads=req.kv_heads or req.heads,
            head_dim=head_dim,
            ffn_size=req.ffn,
            gated_ffn=req.gated,
            vocab_size=req.vocab,
            tied_embeddings=req.tied,
        )
        moe = _routing(req.experts, req.top_k, req.shared_experts, req.dense_layers)
        spec = MoESpec(
            base=base,
            routing=moe or Routing(experts=1, top_k=1),
            expert_ffn_size=req.expert_ffn or req.ffn,
        )
        c = moe_counts(spec)
        memory = model_memory(float(c.total), req.precision).total_bytes
        gpus = None if req.gpu is None else min_gpus(memory, req.gpu)
    except CLIENT_ERRORS as exc:
        aliases = {"n_kv_heads": "kv_heads", "expert_ffn": "expert_ffn", "n_heads": "heads"}
        raise field_error(exc, fields, aliases=aliases) from None
    return {
        "total_params": c.total,
        "active_params": c.active,
        "total_non_embedding": c.total_non_embedding,
        "active_non_embedding": c.active_non_embedding,
        "embedding_params": c.embedding,
        "flops_per_token": c.flops_per_token,
        "memory_bytes": memory,
        "precision": req.precision,
        "min_gpus": gpus,
        "granularity": None if moe is None else spec.granularity,
        "sparsity": None if moe is None else spec.routing.sparsity,
    }


def _resolve(resolve: Resolve | None, ref: str, field: str) -> Law:
    try:
        return (resolve or builtin)(ref)
    except (FieldError, *CLIENT_ERRORS) as exc:
        message = exc.message if isinstance(exc, FieldError) else str(exc)
        raise FieldError(("body", field), f"{field}: {message.split(': ', 1)[-1]}") from None


def dense_law(law: Law, req: AllocateRequest, resolve: Resolve | None) -> Law:
    """The dense plan's law beside an MoE plan: ``law`` when the request names one, else
    the MoE law's own dense fit (``<moe_law>-dense``) where it exists."""
    if "law" in req.model_fields_set:
        return law
    try:
        return (resolve or builtin)(f"{req.moe_law.split('@')[0]}-dense")
    except (FieldError, *CLIENT_ERRORS):
        return law


def add_moe(
    out: dict[str, Any],
    req: AllocateRequest,
    flops: float,
    constraints: ShapeConstraints,
    resolve: Resolve | None,
) -> None:
    """Add the MoE plan (``moe``) and the dense plan's memory and fewest GPUs to ``out``."""
    shape = out.get("shape")
    if shape is not None:
        memory = model_memory(float(shape["params"]), req.precision).total_bytes
        out["memory_bytes"] = memory
        out["min_gpus"] = None if req.gpu is None else min_gpus(memory, req.gpu)
    moe = routing(req)
    if moe is None:
        return
    law = _resolve(resolve, req.moe_law, "moe_law")
    if not is_moe_law(law):
        raise FieldError(("body", "moe_law"), f"moe_law: {law.id} is not a mixture-of-experts law")
    try:
        plan = plan_moe(
            law,
            flops,
            moe,
            granularity=req.granularity,
            constraints=constraints,
            precision=req.precision,
            gpu=req.gpu,
        )
    except CLIENT_ERRORS as exc:
        raise field_error(exc, AllocateRequest.model_fields, aliases={"law": "moe_law"}) from None
    out["moe"] = plan.to_dict()


def optimal_vocab(
    out: dict[str, Any], law: Law, flops: float, constraints: ShapeConstraints
) -> ShapeConstraints:
    """Tao et al.'s vocabulary for the planned shape's non-vocabulary parameters
    (``out["vocabulary"]``), and the constraints that give the shape that vocabulary
    (Approach 3 at the plan's budget)."""
    shape = out["shape"]
    family = constraints.family(law.family)
    width, depth = int(shape["width"]), int(shape["depth"])
    n_nv = float(law_params(NDefinition.NON_EMBEDDING, family, width, depth))
    vocab = optimal_vocabulary(n_nv, width, flops)
    out["vocabulary"] = {**asdict(vocab), "warnings": list(vocab.warnings)}
    return replace(constraints, vocab_size=max(1, vocab.parametric))
