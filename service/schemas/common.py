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

from flopwise.service.refs import MAX_REF, REF_PATTERN

__all__ = [
    "BUDGET_FLOPS",
    "Flops",
    "LawRef",
    "Name",
    "Params",
    "Positive",
    "Request",
    "Tokens",
    "no_nul",
    "public_model",
]

SMALLEST_NORMAL = sys.float_info.min
"""2.2e-308: below it floats lose precision (denormals) and break the solvers."""

Positive = Annotated[float, Field(ge=SMALLEST_NORMAL, allow_inf_nan=False)]
"""A positive, normal, finite number."""

BUDGET_FLOPS = (1e6, 1e32)
"""Budgets answered: from a toy model to ~100,000x today's largest training runs."""

Flops = Annotated[
    float,
    Field(
        ge=BUDGET_FLOPS[0],
        le=BUDGET_FLOPS[1],
        allow_inf_nan=False,
        description="Training compute in FLOPs, 1e6 to 1e32.",
    ),
]
Params = Annotated[
    float,
    Field(ge=1, le=1e16, allow_inf_nan=False, description="Parameters, 1 to 1e16."),
]
Tokens = Annotated[
    float,
    Field(ge=1, le=1e18, allow_inf_nan=False, description="Tokens, 1 to 1e18."),
]

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
