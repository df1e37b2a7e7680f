"""Command-line options generated from the API's request models: each request field is
one ``--flag`` with the field's type, closed sets as ``click.Choice``, and the field's
description (with its unit) as help. The command builds the same request model from the
flags (:func:`request_from`), so the CLI checks exactly what the API checks. A nested
model named in ``flatten`` gives each of its fields a flag of its own; its ``kind`` field
is spelt as the nested field itself (``--schedule cosine`` sets ``schedule.kind``).
"""

from __future__ import annotations

import types
from collections.abc import Callable, Collection, Mapping
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import click
from pydantic import BaseModel
from pydantic.fields import FieldInfo

__all__ = ["FLATTEN", "model_options", "request_from"]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _base(annotation: Any) -> Any:
    """The type inside ``X | None`` (and ``Annotated``)."""
    if get_origin(annotation) is Annotated:
        return _base(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _base(args[0])
    return annotation


def _click_type(annotation: Any) -> tuple[Any, bool]:
    """(click type, repeatable) for a field's annotation."""
    base = _base(annotation)
    if get_origin(base) is Literal:
        return click.Choice([str(v) for v in get_args(base)]), False
    if get_origin(base) is list:
        return _click_type(get_args(base)[0])[0], True
    if base in (int, float, str, bool):
        return base, False
    return str, False


def _help(info: FieldInfo) -> str:
    text = " ".join((info.description or "").replace("``", "").split())
    if not info.is_required() and info.default is not None:
        text += f" [default: {info.default}]"
    return text


def _option(name: str, info: FieldInfo) -> Decorator:
    kind, many = _click_type(info.annotation)
    flag = f"--{name.replace('_', '-')}"
    if kind is bool:
        return click.option(flag, name, is_flag=True, default=None, help=_help(info))
    return click.option(
        flag,
        name,
        type=kind,
        multiple=many,
        default=None,
        required=False,
        help=_help(info),
        metavar=name.upper() if kind in (int, float, str) else None,
    )


FLATTEN = ("constraints", "schedule")
"""Nested request models whose fields are flags of their own."""


def _flag(parent: str, name: str) -> str:
    """The option name of a flattened model's field (``kind`` takes the parent's)."""
    return parent if name == "kind" else name


def _nested(name: str, info: FieldInfo, flatten: Collection[str]) -> type[BaseModel] | None:
    nested = _base(info.annotation)
    if name in flatten and isinstance(nested, type) and issubclass(nested, BaseModel):
        return nested
    return None


def _fields(model: type[BaseModel], flatten: Collection[str]) -> dict[str, FieldInfo]:
    out: dict[str, FieldInfo] = {}
    for name, info in model.model_fields.items():
        nested = _nested(name, info, flatten)
        if nested is not None:
            out.update({_flag(name, k): v for k, v in nested.model_fields.items()})
        else:
            out[name] = info
    return out


def model_options(
    model: type[BaseModel],
    *,
    skip: Collection[str] = (),
    flatten: Collection[str] = FLATTEN,
) -> Decorator:
    """Click options for every field of ``model`` (those of the nested models named in
    ``flatten`` as flags of their own), except ``skip``."""
    options = [_option(n, i) for n, i in _fields(model, flatten).items() if n not in skip]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def request_from(
    model: type[BaseModel],
    opts: Mapping[str, Any],
    *,
    flatten: Collection[str] = FLATTEN,
    **fixed: Any,
) -> Any:
    """``model`` built from the flags given (an unset flag keeps the field's default;
    flattened nested models only when one of their flags is set), plus ``fixed``."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        nested = _nested(name, info, flatten)
        if nested is not None:
            flags = {k: _flag(name, k) for k in nested.model_fields}
            given = {k: opts[f] for k, f in flags.items() if opts.get(f) not in (None, ())}
            if given:
                data[name] = given
        elif opts.get(name) not in (None, ()):
            value = opts[name]
            data[name] = list(value) if isinstance(value, tuple) else value
    data.update(fixed)
    return model.model_validate(data)
