"""Errors a client can cause, as values the API turns into 422s naming the field.

Every 422 the service sends has FastAPI's own shape, so clients parse one format:
``{"detail": [{"loc": ["body", "<field>"], "msg": "...", "type": "value_error"}]}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["FieldError", "field_error"]

_LEADING_NAME = re.compile(r"^([a-z_]+)(?:[:,\s]|$)")


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
    """A ``FieldError`` for a ``ValueError`` whose message starts with an argument name
    (the ``fitting`` convention): the name is mapped to a request field where it is one
    (``aliases`` renames, ``nested`` maps names to deeper paths), else the body itself."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    match = _LEADING_NAME.match(message)
    name = match.group(1) if match else ""
    name = (aliases or {}).get(name, name)
    if nested and name in nested:
        return FieldError((*prefix, *nested[name]), message)
    if name in set(fields):
        return FieldError((*prefix, name), message)
    return FieldError(prefix, message)
