"""The registry: a form's name to the object that knows everything about it.

Built-in forms register when :mod:`fitting.forms` is imported; a new form is one
module with a :class:`~fitting.forms.base.LawForm` subclass passed to
:func:`register` (as a decorator or a call).
"""

from __future__ import annotations

from typing import Any, TypeVar

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms.base import LawForm

__all__ = ["form_names", "law_form", "register", "unregister"]

_FORMS: dict[str, LawForm] = {}
T = TypeVar("T", bound=type[LawForm])


def register(cls: T) -> T:
    """Register a :class:`LawForm` subclass under its ``name`` (usable as a decorator).

    >>> from flopwise.fitting.forms import law_form
    >>> law_form("chinchilla").constants
    ('E', 'A', 'B', 'alpha', 'beta')
    """
    form = cls()
    if not form.name:
        raise ArgumentError("form", f"{cls.__name__} has no name")
    if form.name in _FORMS and type(_FORMS[form.name]) is not cls:
        raise ArgumentError("form", f"a form named {form.name!r} is already registered")
    _FORMS[form.name] = form
    return cls


def unregister(name: str) -> None:
    """Remove a form added by :func:`register` (tests register toy forms)."""
    _FORMS.pop(str(name), None)


def law_form(form: Any) -> LawForm:
    """The registered form named ``form`` (a name, a ``Form`` member, or a ``Law``)."""
    name = str(getattr(form, "form", form))
    try:
        return _FORMS[name]
    except KeyError:
        raise ArgumentError(
            "form", f"expected one of {', '.join(form_names())}, got {name!r}"
        ) from None


def form_names(*, method: str | None = None) -> tuple[str, ...]:
    """Registered form names, in registration order (those ``method`` fits, if given)."""
    return tuple(n for n, f in _FORMS.items() if method is None or method in f.methods)
