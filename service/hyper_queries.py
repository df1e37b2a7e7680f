"""Hyper-parameter answers: ``POST /v1/hyperparams`` and ``flopwise hyperparams``
(through :mod:`service.queries`, the one answer path of the API and the CLI).

The chosen law answers at N as it counts N; every built-in law answers beside it at the
same N (DeepSeek's at its model scale M, given or taken as 6N), and where they disagree
by more than 2x the answer says so.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flopwise.fitting.hyperlaws import BUILTIN_HYPER_LAWS as LAWS
from flopwise.fitting.hyperlaws import HyperLaw, disagreement, recommend
from flopwise.fitting.laws import NDefinition
from flopwise.service.errors import FieldError, field_error
from flopwise.service.schemas.hyper import HyperparamsRequest

__all__ = ["hyperparams_answer"]

CLIENT_ERRORS = (ValueError, ArithmeticError)


def _params_of(req: HyperparamsRequest) -> tuple[Any, list[str]]:
    """N for each law (M for DeepSeek's), and what the comparison assumed."""
    notes = []
    scale = req.model_scale
    if scale is None:
        scale = 6.0 * req.params
        notes.append(
            f"deepseek-2024 answers in C = M x D: its model scale M was taken as 6N = "
            f"{scale:.3g} FLOPs per token (give model_scale for DeepSeek's M, attention included)"
        )

    def params_of(law: HyperLaw) -> float:
        return scale if law.n_definition is NDefinition.MODEL_SCALE else req.params

    return params_of, notes


COUNTS_NOTE = (
    "the comparison puts one N into every law, but they count N differently "
    "(step-law-2025 non-embedding; porian-2024-tuned and olmo-ladder-2024 blocks plus "
    "output head; deepseek-2024 FLOPs per token): for one concrete shape use /v1/allocate"
)


def hyperparams_answer(law: HyperLaw, req: HyperparamsRequest) -> dict[str, Any]:
    """``law``'s learning rate and batch at ``req``'s N and D, and every built-in law's."""
    deepseek = law.n_definition is NDefinition.MODEL_SCALE
    if req.model_scale is not None and not deepseek:
        raise FieldError(
            ("body", "model_scale"), f"model_scale: only for deepseek-2024, not {law.id}"
        )
    params_of, notes = _params_of(req)
    others = [other for other in LAWS.values() if other.id != law.id]
    try:
        chosen = recommend(
            law, params_of(law), req.tokens, sequence_length=req.sequence_length, level=req.level
        )
        everyone = [chosen] + [
            recommend(o, params_of(o), req.tokens, sequence_length=req.sequence_length)
            for o in others
        ]
    except CLIENT_ERRORS as exc:
        raise field_error(exc, HyperparamsRequest.model_fields) from None
    note = disagreement(everyone)
    out = _public(chosen)
    out["caveats"] += [*(notes if deepseek else []), *([note] if note else [])]
    out["comparison"] = [_public(a) for a in everyone]
    out["warnings"] = [*([note] if note else []), COUNTS_NOTE, *notes]
    return out


def _public(answer: Any) -> dict[str, Any]:
    out = asdict(answer)
    out.pop("compute")
    out["caveats"] = list(out["caveats"])
    for key in ("learning_rate_interval", "batch_size_interval"):
        if out[key] is not None:
            out[key] = list(out[key])
    return out
