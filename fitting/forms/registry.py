"""The registry: a form's name to the object that knows everything about it.

Built-in forms register when :mod:`fitting.forms` is imported; a new form is one
module with a :class:`~fitting.forms.base.LawForm` subclass passed to
:func:`register` (as a decorator or a call).

A :class:`~fitting.laws.Law` names its form; the registry checks a law against that
form (:func:`checked`) the first time anything asks for the law's form, so a law that
does not fit its form is refused before it answers anything.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, TypeVar

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms.base import LawForm
from flopwise.fitting.laws import DownstreamLink, Law
from flopwise.fitting.links import link_kind

__all__ = ["checked", "draw_constants", "form_names", "law_form", "register", "unregister"]

_FORMS: dict[str, LawForm] = {}
_CHECKED: weakref.WeakSet[Law] = weakref.WeakSet()
_LOCK = threading.Lock()
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


def _named(name: str) -> LawForm:
    try:
        return _FORMS[name]
    except KeyError:
        raise ArgumentError(
            "form", f"expected one of {', '.join(form_names())}, got {name!r}"
        ) from None


def law_form(form: Any) -> LawForm:
    """The registered form named ``form`` (a name, a ``Form`` member, or a ``Law``; a
    law is :func:`checked` against its form the first time it is asked about)."""
    if isinstance(form, Law):
        return _named(str(checked(form).form))
    return _named(str(form))


def checked(law: Law) -> Law:
    """``law`` itself once its form is registered and the law fits it (required
    constants, no unknown ones, draws one column per constant, the form's own checks);
    else :class:`ArgumentError`. Checked once per law object."""
    with _LOCK:
        if law in _CHECKED:
            return law
    _named(str(law.form)).validate(law)
    for link in law.downstream.values():
        _check_link(link)
    with _LOCK:
        _CHECKED.add(law)
    return law


def _check_link(link: DownstreamLink) -> None:
    """A downstream link names a known link kind, carries exactly its constants, and its
    step 1 (when it has one) is a law that fits its own form."""
    kind = link_kind(link.link)
    if set(link.constants) != set(kind.constants):
        raise ArgumentError(
            "downstream", f"link {link.metric!r} ({kind.name}) needs {', '.join(kind.constants)}"
        )
    if link.step1 is not None:
        checked(link.step1)


def draw_constants(law: Law) -> dict[str, np.ndarray] | None:
    """``law``'s bootstrap draws as one array per constant name, or ``None``."""
    return law_form(law).draw_constants(law)


def form_names(*, method: str | None = None) -> tuple[str, ...]:
    """Registered form names, in registration order (those ``method`` fits, if given)."""
    return tuple(n for n, f in _FORMS.items() if method is None or method in f.methods)
