"""Errors a client can cause, as values the API turns into 422s naming the field.

Every 422 the service sends has FastAPI's own shape, so clients parse one format:
``{"detail": [{"loc": ["body", "<field>"], "msg": "...", "type": "value_error"}]}``.

``fitting`` raises :class:`~fitting.errors.ArgumentError` carrying the argument's name;
:func:`field_error` maps that name to the request field. Nothing parses messages: a
plain ``ValueError`` (or an arithmetic error) is reported against the body as a whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flopwise.fitting.errors import ArgumentError

__all__ = ["CLIENT_ERRORS", "FieldError", "field_error"]

CLIENT_ERRORS = (ValueError, ArithmeticError)
"""What the core raises for input it cannot answer (an overflow included)."""


class FieldError(Exception):
    """Bad input: ``loc`` is where (e.g. ``("body", "gpu")``), the message says why."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def field_error(
    exc: Exception,
    fields: Iterable[str],
    *,
    aliases: Mapping[str, str] | None = None,
    prefix: tuple[str, ...] = ("body",),
    nested: Mapping[str, tuple[str, ...]] | None = None,
) -> FieldError:
    """A ``FieldError`` for ``exc``: an ``ArgumentError``'s ``name`` is mapped to a request
    field where it is one (``aliases`` renames, ``nested`` maps names to deeper paths;
    a dotted name ``a.b`` is a path), anything else is reported against ``prefix``."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, ArgumentError):
        return FieldError(prefix, message)
    name = (aliases or {}).get(exc.name, exc.name)
    if nested and name in nested:
        return FieldError((*prefix, *nested[name]), message)
    head, *rest = name.split(".")
    if head in set(fields):
        return FieldError((*prefix, head, *rest), message)
    return FieldError(prefix, message)
