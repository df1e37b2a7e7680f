"""Cross-field rules as JSON Schema, so that the OpenAPI document states them (issue 24).

A request model lists its rules in ``model_config = ConfigDict(json_schema_extra=
rules(...))``; they appear as the model's ``allOf`` in ``/openapi.json``, where clients,
generators and fuzzers read them. The service still enforces each rule where it always
has (a 422 naming the field), and the schema never asks for more than the service does:
``tests/service/test_openapi_rules.py`` sends, for every rule, a body that breaks only it
and one that keeps it.

The API reads ``null`` as absent, so "given" means present *and* not null: the rules are
written with ``required`` plus ``not null`` (``oneOf`` for exactly one, ``if``/``then``
for needs and excludes) rather than ``dependentRequired``, which would count a ``null``
as given. Rules that depend on a law (which form it has) or compare two numbers
(``min <= max``) cannot be JSON Schema; models state those in their descriptions.
"""

from __future__ import annotations

from typing import Any

__all__ = ["absent", "exactly_one", "excludes", "given", "needs", "rules"]

Schema = dict[str, Any]


def given(*names: str) -> Schema:
    """Every one of ``names`` is present and not ``null``."""
    return {
        "required": list(names),
        "properties": {name: {"not": {"type": "null"}} for name in names},
    }


def absent(*names: str) -> Schema:
    """None of ``names`` is given (each is missing or ``null``)."""
    return {"not": {"anyOf": [given(name) for name in names]}}


def exactly_one(*alternatives: str | Schema) -> Schema:
    """Exactly one of the alternatives holds: a field name (that field is given) or a
    schema (several fields given together, say)."""
    return {"oneOf": [given(a) if isinstance(a, str) else a for a in alternatives]}


def needs(name: str, *others: str, unless: str | None = None) -> Schema:
    """When ``name`` is given, so is each of ``others`` (unless ``unless`` is given)."""
    condition = given(name) if unless is None else {"allOf": [given(name), absent(unless)]}
    return {"if": condition, "then": given(*others)}


def excludes(name: str, *others: str) -> Schema:
    """When ``name`` is given, none of ``others`` is."""
    return {"if": given(name), "then": absent(*others)}


def rules(*schemas: Schema) -> Schema:
    """The ``json_schema_extra`` of a model whose bodies must satisfy every one of
    ``schemas``."""
    return {"allOf": list(schemas)}
