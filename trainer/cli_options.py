"""Options of the trainer's commands and their translation into typed configs."""

from __future__ import annotations

import ast
import inspect
import itertools
import json
import textwrap
from collections.abc import Callable
from dataclasses import MISSING, fields
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

import click
import numpy as np
from pydantic import BaseModel

from flopwise.fitting.counting import ArchSpec
from flopwise.fitting.errors import ArgumentError
from flopwise.protocol.sweep import SweepRequest
from flopwise.trainer.config import Job, TrainConfig
from flopwise.trainer.model import ModelConfig

__all__ = [
    "budget_options",
    "job_from_options",
    "request_from_options",
    "sweep_config_from_options",
    "sweep_options",
    "train_options",
]

F = Callable[..., Any]
PROGRESS = click.Choice(["bar", "jsonl", "none"])


def _defaults(cls: type) -> dict[str, Any]:
    if issubclass(cls, BaseModel):
        return {n: f.default for n, f in cls.model_fields.items() if not f.is_required()}
    return {f.name: f.default for f in fields(cls) if f.default is not MISSING}  # type: ignore[arg-type]


def _names(cls: type) -> list[str]:
    return list(cls.model_fields) if issubclass(cls, BaseModel) else [f.name for f in fields(cls)]  # type: ignore[arg-type]


@cache
def field_docs(cls: type) -> dict[str, str]:
    """Each field's description, or attribute docstring (interim, until the CLI is
    generated from pydantic models)."""
    if issubclass(cls, BaseModel):
        return {n: f.description or "" for n, f in cls.model_fields.items()}
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body if isinstance(tree.body[0], ast.ClassDef) else []
    docs: dict[str, str] = {}
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[node.target.id] = " ".join(after.value.value.split())
    return docs


def _apply(options: list[F]) -> Callable[[F], F]:
    def decorate(f: F) -> F:
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


_SHAPE = [
    click.option(
        "--job",
        "job_file",
        type=click.Path(exists=True, dir_okay=False),
        help="A job JSON (as a sweep writes); the shape and training options are ignored.",
    ),
    click.option("--width", type=click.IntRange(1), help="Residual width."),
    click.option("--depth", type=click.IntRange(1), help="Transformer blocks."),
    click.option("--head-dim", default=16, show_default=True, type=click.IntRange(1)),
    click.option("--n-heads", default=0, type=click.IntRange(0), help="0: width / head-dim."),
    click.option("--n-kv-heads", default=0, type=click.IntRange(0), help="0: n-heads / 2."),
    click.option("--ffn-size", default=0, type=click.IntRange(0), help="0: 4 x width."),
    click.option("--ungated", is_flag=True, help="Two-matmul MLP instead of a gated one."),
    click.option("--tied", is_flag=True, help="Tie the output head to the embedding."),
    click.option("--positions", default="rotary", type=click.Choice(["rotary", "learned", "none"])),
    click.option("--norm", default="rmsnorm", type=click.Choice(["rmsnorm", "layernorm"])),
    click.option("--bias", is_flag=True, help="Biases on every linear layer."),
    click.option("--seq-len", default=128, show_default=True, type=click.IntRange(1)),
]
_EVALS = [
    click.option(
        "--evals",
        default=_defaults(SweepRequest)["evals"],
        show_default=True,
        type=click.IntRange(1),
        help="Evaluation points, spaced in log tokens (the sweep's rule: 1 is the end only).",
    ),
    click.option(
        "--eval-span",
        default=_defaults(SweepRequest)["eval_span"],
        show_default=True,
        type=click.FloatRange(1.0),
        help="First evaluation at tokens / eval-span.",
    ),
]


def _runtime(*, service_url: str, out: str, api_key: str | None = None) -> list[F]:
    """``--service-url``, ``--api-key``, ``--out`` and ``--progress``, with the command's
    help for the first three."""
    return [
        click.option("--service-url", default="", envvar="FLOPWISE_SERVICE_URL", help=service_url),
        click.option("--api-key", default="", envvar="FLOPWISE_API_KEY", help=api_key),
        click.option("--out", default="", help=out),
        click.option("--progress", default="bar", type=PROGRESS, show_default=True),
    ]


_RUNTIME = _runtime(
    service_url="Post observations to this flopwise service.",
    out="Write observations to OUT/runs.jsonl.",
)


class _Count(click.ParamType):
    """An integer that may be written as a float (``--tokens 2e6``)."""

    name = "integer"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not number.is_integer():
            self.fail(f"{value!r} is not a whole number", param, ctx)
        return int(number)


def _click_type(hint: Any) -> tuple[Any, bool, bool]:
    """(click type, is a flag, is repeatable) of a dataclass field's type."""
    args = [a for a in get_args(hint) if a is not type(None)]
    if get_origin(hint) is Literal:
        return click.Choice([str(a) for a in get_args(hint)]), False, False
    if get_origin(hint) is tuple:
        return click.STRING, False, True
    base = args[0] if args else hint
    if base is bool:
        return None, True, False
    return {int: _Count(), float: click.FLOAT}.get(base, click.STRING), False, False


def dataclass_options(
    cls: type,
    *,
    skip: frozenset[str] = frozenset(),
    aliases: dict[str, tuple[str, ...]] | None = None,
    derived: frozenset[str] = frozenset(),
) -> list[F]:
    """One click option per field of the config dataclass ``cls``: its type, default and
    docstring are the dataclass's (the CLI declares nothing of its own); unset options
    stay ``None`` so the dataclass's defaults apply and its ``__post_init__`` checks."""
    hints, docs, defaults = get_type_hints(cls), field_docs(cls), _defaults(cls)
    options = []
    for name in _names(cls):
        if name in skip or name.startswith("_"):
            continue
        kind, flag, multiple = _click_type(hints[name])
        shown = defaults.get(name, None if name in derived else "required")
        if isinstance(shown, tuple):
            shown = ",".join(shown)
        suffix = "" if shown in (None, "", False) else f" [default: {shown}]"
        help_text = docs.get(name, "") + (" [required]" if shown == "required" else suffix)
        decls = [f"--{name.replace('_', '-')}", *(aliases or {}).get(name, ()), name]
        extra: dict[str, Any] = {"is_flag": True} if flag else {"type": kind}
        options.append(
            click.option(*decls, default=None, multiple=multiple, help=help_text, **extra)
        )
    return options


def given(cls: type, opts: dict[str, Any]) -> dict[str, Any]:
    """The options of ``cls``'s fields that were given on the command line."""
    return {n: opts[n] for n in _names(cls) if opts.get(n) not in (None, ())}


_TRAIN_ONLY = frozenset({"eval_tokens", "tags"})
"""TrainConfig fields the command line does not set directly (--evals, --eval-span)."""
train_options = _apply(
    [
        *_SHAPE,
        *dataclass_options(
            TrainConfig,
            skip=_TRAIN_ONLY,
            aliases={"data_dir": ("--data",)},
            derived=frozenset({"run_dir"}),  # default: runs/w<width>-d<depth>-s<seed>
        ),
        *_EVALS,
        *_RUNTIME,
    ]
)
_COMMA_LISTS = frozenset({"aspects"})
"""List fields also given comma-separated (``--aspects standard,wide``)."""
_CONFIG = click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A sweep request as JSON (SweepRequest's fields); options given here override it.",
)
_WORK_DIR = click.option(
    "--work-dir", default="", help="Sweeps, runs and corpora (default: the data dir)."
)
budget_options = _apply(
    [_CONFIG, *dataclass_options(SweepRequest, aliases={"corpus": ("--data",)}), _WORK_DIR]
)

sweep_options = _apply(
    [
        *_runtime(
            service_url="flopwise service to post runs to and refit on.",
            api_key="Bearer key for the service's write endpoints.",
            out="runs.jsonl and the local fit (no service).",
        ),
        click.option("--yes", is_flag=True, help="Run without asking."),
        click.option(
            "--resume",
            is_flag=True,
            help="Continue this request's earlier sweep (its state says what is done, "
            "pending or queued); fail if there is none.",
        ),
        click.option(
            "--cancel",
            is_flag=True,
            help="Cancel this request's sweep: its queued and running jobs, then exit.",
        ),
    ]
)


def _eval_tokens(tokens: int, evals: int, span: float) -> tuple[int, ...]:
    if evals == 1:
        return (tokens,)
    return tuple(sorted({int(t) for t in np.geomspace(tokens / span, tokens, evals)}))


def _arch(opts: dict[str, Any]) -> ArchSpec:
    from flopwise.trainer.data import TokenData

    return ArchSpec(
        **given(ArchSpec, opts),  # the options named as ArchSpec's fields
        gated_ffn=not opts["ungated"],
        vocab_size=TokenData.open(opts["data_dir"]).vocab_size,
        tied_embeddings=opts["tied"],
    )


def job_from_options(opts: dict[str, Any]) -> Job:
    """The job a ``train`` invocation describes (``--job`` file or options)."""
    if opts["job_file"]:
        return Job.from_dict(json.loads(Path(opts["job_file"]).read_text()))
    missing = [n for n in ("data_dir", "width", "depth", "tokens") if not opts[n]]
    if missing:
        raise click.UsageError(
            f"missing --{missing[0].replace('_dir', '').replace('_', '-')} (or give --job)"
        )
    arch = _arch(opts)
    values = given(TrainConfig, opts)
    seed = values.get("seed", 0)
    values.setdefault("run_dir", str(Path("runs") / f"w{arch.width}-d{arch.depth}-s{seed}"))
    values["eval_tokens"] = _eval_tokens(values["tokens"], opts["evals"], opts["eval_span"])
    train = TrainConfig(**values)
    return Job(model=ModelConfig(arch=arch), train=train)


def request_from_options(opts: dict[str, Any]) -> SweepRequest:
    """The ``SweepRequest`` of a ``sweep`` / ``plan`` invocation: the ``--config`` file,
    overridden by the options given."""
    values: dict[str, Any] = {}
    if opts.get("config_file"):
        try:
            values = json.loads(Path(opts["config_file"]).read_text())
        except (OSError, ValueError) as exc:
            raise ArgumentError("config", f"cannot read {opts['config_file']}: {exc}") from None
        if not isinstance(values, dict):
            raise ArgumentError("config", "must hold a JSON object")
    for name, value in given(SweepRequest, opts).items():
        if name in _COMMA_LISTS:
            value = [part.strip() for v in value for part in v.split(",") if part.strip()]
        values[name] = list(value) if isinstance(value, tuple) else value
    return SweepRequest.model_validate(values)


def sweep_config_from_options(opts: dict[str, Any]) -> Any:
    """The ``SweepConfig`` of a ``sweep`` / ``plan`` invocation."""
    from flopwise.trainer.sweep import SweepConfig

    return SweepConfig(
        request=request_from_options(opts),
        work_dir=opts.get("work_dir", ""),
        service_url=opts.get("service_url", ""),
        api_key=opts.get("api_key", ""),
        out_dir=opts.get("out", ""),
    )
