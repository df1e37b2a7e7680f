"""What the offline commands answer from: a built-in law or throughput model by
reference, or one saved as JSON (``--law-file``, ``--throughput-file``)."""

from __future__ import annotations

import json
from pathlib import Path

from flopwise.fitting.catalogue import builtin
from flopwise.fitting.forms import checked
from flopwise.fitting.laws import Law, from_dict
from flopwise.fitting.throughput.catalogue import builtin_throughput
from flopwise.fitting.throughput.model import ThroughputModel
from flopwise.fitting.throughput.model import from_dict as model_from_dict
from flopwise.service.cli.app import fail
from flopwise.service.refs import RefError, parse_ref

__all__ = ["load_law", "load_model"]


def _version(flag: str, ref: str) -> tuple[str, int | None]:
    """``ref`` parsed as the API parses it (``service.refs.parse_ref``), naming ``flag``."""
    try:
        return parse_ref(ref, flag)
    except RefError as exc:
        raise fail(f"{flag}: {exc.message}") from None


def load_law(ref: str, path: Path | None = None, flag: str = "--law-file") -> Law:
    """The law saved in ``path`` (given with ``flag``), else the built-in law under
    ``ref`` (``id`` or ``id@version``; offline only the built-in version exists)."""
    if path is not None:
        try:
            return checked(from_dict(json.loads(path.read_text())))
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise fail(f"{flag}: cannot read a law from {path}: {exc}") from None
    name, version = _version("--law", ref)
    try:
        law = builtin(name)
    except ValueError as exc:
        raise fail(f"--law: {exc}".replace("--law: law: ", "--law: ")) from None
    if version is not None and version != law.version:
        raise fail(
            f"--law: {name} has only version {law.version} offline, got {version} "
            "(fitted versions live on the server)"
        )
    return law


def load_model(ref: str, path: Path | None = None) -> ThroughputModel:
    """The throughput model saved in ``path``, else the built-in one under ``ref``."""
    if path is not None:
        try:
            return model_from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise fail(
                f"--throughput-file: cannot read a throughput model from {path}: {exc}"
            ) from None
    name, version = _version("--throughput", ref)
    try:
        model = builtin_throughput(name)
    except ValueError as exc:
        message = f"--throughput: {exc}".replace("--throughput: throughput: ", "--throughput: ")
        raise fail(message) from None
    if version is not None and version != model.version:
        raise fail(f"--throughput: {name} has only version {model.version} offline, got {version}")
    return model
