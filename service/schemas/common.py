"""Field types shared by the request schemas, and response models made from
``fitting``'s dataclasses.

Every number a request carries has a physically meaningful range, refused with a 422
naming the field outside it; JSON numbers are strict (``"1e21"`` and ``true`` are not
numbers, and a count is an integer), floats are finite, positive and normal.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Collection, Mapping
from typing import Annotated, Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from flopwise.fitting.shape import MAX_DEPTH, MAX_WIDTH
from flopwise.service.refs import MAX_REF, REF_PATTERN

__all__ = [
    "BATCH_TOKENS",
    "BUDGET_FLOPS",
    "HOURS",
    "LEVEL",
    "N_GPUS",
    "TARGET_LOSS",
    "BatchTokens",
    "Depth",
    "Flops",
    "Hours",
    "LawRef",
    "Level",
    "NGpus",
    "Name",
    "Params",
    "Positive",
    "Request",
    "TargetLoss",
    "Tokens",
    "Width",
    "between",
    "no_nul",
    "public_model",
]

SMALLEST_NORMAL = sys.float_info.min
"""2.2e-308: below it floats lose precision (denormals) and break the solvers."""

Positive = Annotated[float, Field(ge=SMALLEST_NORMAL, allow_inf_nan=False)]
"""A positive, normal, finite number."""

BUDGET_FLOPS = (1e6, 1e32)
"""Budgets answered: from a toy model to ~100,000x today's largest training runs."""


def between(bounds: tuple[float, float], description: str | None = None) -> Any:
    """A finite number's field in ``bounds`` (both included); without a description, a
    request model's field takes its docstring."""
    return Field(ge=bounds[0], le=bounds[1], allow_inf_nan=False, description=description)


Flops = Annotated[float, between(BUDGET_FLOPS, "Training compute in FLOPs, 1e6 to 1e32.")]
Params = Annotated[float, between((1, 1e16), "Parameters, 1 to 1e16.")]
Tokens = Annotated[float, between((1, 1e18), "Tokens, 1 to 1e18.")]

LEVEL = (0.01, 0.998)
"""Coverage of an interval: under 1% it says nothing; at 99.8% each tail holds one of the
1,000 bootstrap draws the built-in laws carry ((1 - 0.998) / 2 x 1,000), and a wider
one would be read off less than a draw (and Student t tails far past the residuals the
spread was fitted on)."""
Level = Annotated[float, between(LEVEL, "Coverage of every interval in the answer, 0.01 to 0.998.")]
TARGET_LOSS = (0.01, 100.0)
"""A loss to reach, nats per token: under 0.01 (perplexity 1.01) lies below every law's
irreducible loss; 100 is far past guessing uniformly over any vocabulary (ln 1e7 = 16)."""
TargetLoss = Annotated[float, between(TARGET_LOSS, "Loss to reach in nats per token, 0.01 to 100.")]
N_GPUS = (1, 100_000_000)
"""GPUs in parallel: one to 100 million (today's largest clusters hold ~1e5)."""
NGpus = Annotated[
    int, Field(ge=N_GPUS[0], le=N_GPUS[1], description="GPUs training in parallel, 1 to 1e8.")
]
BATCH_TOKENS = (1.0, 1e12)
"""A global batch: one token to a trillion (today's are ~1e7)."""
BatchTokens = Annotated[float, between(BATCH_TOKENS, "Global batch per step in tokens, 1 to 1e12.")]
HOURS = (1e-3, 1e6)
"""A wall-clock time: 3.6 seconds to 114 years."""
Hours = Annotated[float, between(HOURS, "Wall-clock hours, 0.001 to 1e6.")]
Width = Annotated[int, Field(ge=1, le=MAX_WIDTH)]
"""A model width in channels: 1 to 262,144 (``fitting.shape.MAX_WIDTH``)."""
Depth = Annotated[int, Field(ge=1, le=MAX_DEPTH)]
"""Transformer blocks: 1 to 2,048 (``fitting.shape.MAX_DEPTH``)."""

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
"""A dataset name: letters, digits, ``.``, ``_``, ``-``."""

LAW_REF_PATTERN = REF_PATTERN
"""``id`` or ``id@version`` of any published artefact, as ``service.refs.parse_ref``
reads it (the name is older than throughput models)."""
LawRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_REF,
        pattern=REF_PATTERN,
        description="Law id, or id@version (ASCII digits).",
    ),
]


def no_nul(value: Any) -> Any:
    """``value`` unchanged; ``ValueError`` when a string in it holds a NUL character
    (PostgreSQL cannot store one, and no field has a use for it)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain a NUL character")
    elif isinstance(value, dict):
        for k, v in value.items():
            no_nul(k)
            no_nul(v)
    elif isinstance(value, list | tuple):
        for v in value:
            no_nul(v)
    return value


class Request(BaseModel):
    """Request bodies refuse unknown fields (a typo is an error, not a silent default),
    take JSON types strictly, refuse NaN and infinities in every number (nested ones too:
    the dict and list values of ``options``) and NUL characters in every string. A field's
    docstring is its description (OpenAPI, and the CLI's help for the same flag)."""

    model_config = ConfigDict(
        extra="forbid", strict=True, use_attribute_docstrings=True, allow_inf_nan=False
    )

    _no_nul = field_validator("*", mode="after")(no_nul)


def public_model(
    source: type,
    name: str,
    *,
    doc: str | None = None,
    types: Mapping[str, Any] | None = None,
    exclude: Collection[str] = (),
    extra: Mapping[str, tuple[Any, Any]] | None = None,
    leading: Mapping[str, tuple[Any, Any]] | None = None,
) -> type[BaseModel]:
    """A response model with the fields of ``source``, a ``fitting`` dataclass: names,
    order and types declared once, there; every field required (an answer always
    carries it). ``types`` replaces a field's type (a nested response model, a
    JSON-ready container), ``exclude`` leaves fields out, ``leading`` and ``extra`` put
    the service's own fields before and after them, ``name: (type, default)`` as
    ``pydantic.create_model`` takes them."""
    hints, types = get_type_hints(source), types or {}
    spec: dict[str, Any] = dict(leading or {})
    spec.update(
        (f.name, (types.get(f.name, hints[f.name]), ...))
        for f in dataclasses.fields(source)
        if f.name not in exclude
    )
    spec.update(extra or {})
    model: type[BaseModel] = create_model(name, __doc__=doc, **spec)
    return model
