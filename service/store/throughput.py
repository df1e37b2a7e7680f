"""Throughput models (``fitting.throughput``) as a kind of published artefact, and the
registry that resolves a throughput reference: built-ins plus every published version.

A refit publishes ``<dataset>-throughput`` when the dataset's runs carry step times
(``service.jobs.throughput_refit``).
"""

from __future__ import annotations

from flopwise.fitting.throughput.catalogue import builtin_throughputs
from flopwise.fitting.throughput.model import ThroughputModel, from_dict, to_dict
from flopwise.service.refs import UnknownRef
from flopwise.service.store.published import Kind
from flopwise.service.store.registry import Registry

__all__ = ["THROUGHPUT", "ThroughputRegistry", "UnknownThroughput"]


class UnknownThroughput(UnknownRef):
    """No throughput model (or no such version) under the reference given."""


THROUGHPUT: Kind[ThroughputModel] = Kind(
    name="throughput",
    noun="throughput model",
    listing="GET /v1/throughput",
    encode=to_dict,
    decode=from_dict,
    builtins=builtin_throughputs,
    unknown=UnknownThroughput,
)


class ThroughputRegistry(Registry[ThroughputModel]):
    """The throughput models this process answers with."""

    kind = THROUGHPUT
