"""Fitted laws as a kind of published artefact (``fitting.laws.to_dict`` JSON), and
the registry that resolves a law reference: the catalogue plus every published version.

A refit publishes ``<dataset>-<form>`` or ``<dataset>-<method>`` in the transaction that
marks its job succeeded, filed under ``labels`` ``{"form", "method"}``, with its run
snapshot (``service.store.published``).
"""

from __future__ import annotations

from flopwise.fitting.catalogue import BUILTIN_LAWS
from flopwise.fitting.laws import Law, from_dict, to_dict
from flopwise.service.refs import UnknownRef
from flopwise.service.store.published import Kind
from flopwise.service.store.registry import Registry

__all__ = ["LAWS", "LawRegistry", "UnknownLaw"]


class UnknownLaw(UnknownRef):
    """No law (or no such version) under the reference given."""


LAWS: Kind[Law] = Kind(
    name="law",
    noun="law",
    listing="GET /v1/laws",
    encode=to_dict,
    decode=from_dict,
    builtins=lambda: BUILTIN_LAWS,
    unknown=UnknownLaw,
)


class LawRegistry(Registry[Law]):
    """The laws this process answers with."""

    kind = LAWS
