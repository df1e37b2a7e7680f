"""References to published artefacts (laws, throughput models, ...): ``id`` or
``id@version``, parsed and checked in one place.

An id is ASCII letters, digits, ``.``, ``_`` and ``-``, starting with a letter or a
digit, at most :data:`MAX_ID` characters; a version is 1 to :data:`MAX_VERSION_DIGITS`
ASCII digits (``str.isdigit`` also takes ``²`` and ``١``, and ``int`` refuses a string of
more than 4,300 digits: neither may reach it). Request schemas check the same
:data:`REF_PATTERN`; the registries, the store and the command line call
:func:`parse_ref` and :func:`check_id`.
"""

from __future__ import annotations

import re

from flopwise.fitting.errors import ArgumentError

__all__ = [
    "ID_PATTERN",
    "MAX_ID",
    "MAX_REF",
    "MAX_VERSION_DIGITS",
    "REF_PATTERN",
    "RefError",
    "UnknownRef",
    "check_id",
    "parse_ref",
]

MAX_ID = 160
"""The longest id (the store's column)."""
MAX_VERSION_DIGITS = 9
"""Versions up to 999,999,999."""
MAX_REF = MAX_ID + 1 + MAX_VERSION_DIGITS
ID_PATTERN = rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_ID - 1}}}"
REF_PATTERN = rf"^{ID_PATTERN}(@[0-9]{{1,{MAX_VERSION_DIGITS}}})?$"
"""A whole reference, as request schemas check it (``$`` ends the text there)."""

_ID = re.compile(ID_PATTERN)
_VERSION = re.compile(rf"[0-9]{{1,{MAX_VERSION_DIGITS}}}")
_SHOWN = 40
"""Characters of a refused text quoted back in an error."""


class RefError(ArgumentError):
    """A malformed reference; ``name`` is the field that carried it."""


class UnknownRef(LookupError):
    """A reference that names nothing a registry holds, or is malformed; the message
    starts with the field (``"law: ..."``). Each kind has its own subclass."""


def _quoted(text: str) -> str:
    return repr(text) if len(text) <= _SHOWN else f"{text[:_SHOWN]!r}... ({len(text)} characters)"


def check_id(text: str, name: str = "ref") -> str:
    """``text`` when it is a well-formed id; :class:`RefError` naming ``name`` otherwise."""
    if not _ID.fullmatch(text):
        raise RefError(
            name,
            "an id is ASCII letters, digits, '.', '_' and '-', starting with a letter or a "
            f"digit, at most {MAX_ID} characters; got {_quoted(text)}",
        )
    return text


def parse_ref(text: str, name: str = "ref") -> tuple[str, int | None]:
    """``"id"`` -> ``(id, None)``, ``"id@7"`` -> ``(id, 7)``; :class:`RefError` naming
    ``name`` (the field or flag) for anything else.

    >>> parse_ref("epoch-2024@2")
    ('epoch-2024', 2)
    >>> parse_ref("epoch-2024@\u00b2", "law")
    Traceback (most recent call last):
    ...
    flopwise.service.refs.RefError: law: version must be 1 to 9 ASCII digits, got '²'
    """
    ident, sep, version = text.partition("@")
    check_id(ident, name)
    if not sep:
        return ident, None
    if not _VERSION.fullmatch(version):
        message = f"version must be 1 to {MAX_VERSION_DIGITS} ASCII digits, got {_quoted(version)}"
        raise RefError(name, message)
    return ident, int(version)
