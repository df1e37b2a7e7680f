"""Options of the trainer's commands and their translation into typed configs."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

import click
import numpy as np

from flopwise.fitting.counting import ArchSpec
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.sweep_config import SweepRequest, field_docs
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
DEVICE = click.Choice(["auto", "cpu", "cuda"])


def _defaults(cls: type) -> dict[str, Any]:
    return {f.name: f.default for f in fields(cls) if f.default is not MISSING}


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
    click.option(
        "--data",
        "data_dir",
        type=click.Path(file_okay=False),
        help="Corpus directory (train.bin, val.bin, meta.json).",
    ),
    click.option(
        "--run-dir", default="", help="Checkpoints and observations (resumes if present)."
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
_TRAINING = [
    click.option("--tokens", type=click.FloatRange(1), help="Training tokens, e.g. 2e6."),
    click.option("--batch-size", default=16, show_default=True, type=click.IntRange(1)),
    click.option("--micro-batch-size", default=0, type=click.IntRange(0)),
    click.option(
        "--lr-base",
        default=_defaults(TrainConfig)["lr_base"],
        show_default=True,
        type=click.FloatRange(min=0, min_open=True),
        help="Gemstones LR rule: lr = lr-base / (width sqrt(depth)); Gemstones' 5 is for "
        "4M-token batches, 0.5 suits the default 2k-token batch.",
    ),
    click.option("--lr", default=0.0, type=float, help="Explicit peak LR (overrides --lr-base)."),
    click.option("--warmup-tokens", default=0.0, type=click.FloatRange(0)),
    click.option("--cooldown-fraction", default=0.0, type=float, help="WSD decay share (0: none)."),
    click.option("--cooldown-shape", default="linear", type=click.Choice(["linear", "1-sqrt"])),
    click.option(
        "--evals",
        default=_defaults(SweepRequest)["evals"],
        show_default=True,
        type=click.IntRange(1),
        help="Evaluation points, spaced in log tokens (the sweep's rule: 1 is the end only).",
    ),
    click.option(
        "--eval-span",
        default=32.0,
        show_default=True,
        type=click.FloatRange(1.0),
        help="First evaluation at tokens / eval-span.",
    ),
    click.option("--eval-sequences", default=64, show_default=True, type=click.IntRange(1)),
    click.option(
        "--checkpoint-every", default=0, type=click.IntRange(0), help="Steps; 0: at evals."
    ),
    click.option("--seed", default=0, type=click.IntRange(0)),
    click.option("--precision", default="auto", type=click.Choice(["auto", "float32", "bfloat16"])),
    click.option("--dataset", default="default", show_default=True),
    click.option("--run-id", default=""),
]
_RUNTIME = [
    click.option("--device", default="auto", type=DEVICE, show_default=True),
    click.option("--compile", is_flag=True, help="torch.compile the model."),
    click.option("--threads", default=0, type=click.IntRange(0), help="CPU threads (0: torch's)."),
    click.option(
        "--service-url",
        default="",
        envvar="FLOPWISE_SERVICE_URL",
        help="Post observations to this flopwise service.",
    ),
    click.option("--api-key", default="", envvar="FLOPWISE_API_KEY"),
    click.option("--out", default="", help="Write observations to OUT/runs.jsonl."),
    click.option("--progress", default="bar", type=PROGRESS, show_default=True),
]

train_options = _apply(_SHAPE + _TRAINING + _RUNTIME)

_ALIASES = {"corpus": ("--data",)}
"""Older spellings kept for the README's examples."""
_COMMA_LISTS = frozenset({"aspects"})
"""List fields also given comma-separated (``--aspects standard,wide``)."""


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
    return {int: click.INT, float: click.FLOAT}.get(base, click.STRING), False, False


def _request_options() -> list[F]:
    """One click option per ``SweepRequest`` field: its type, default and docstring are
    the dataclass's (the CLI declares nothing of its own); unset options stay ``None``
    so the dataclass's defaults apply and its ``__post_init__`` does the checking."""
    hints, docs = get_type_hints(SweepRequest), field_docs(SweepRequest)
    defaults = _defaults(SweepRequest)
    options = []
    for f in fields(SweepRequest):
        kind, flag, multiple = _click_type(hints[f.name])
        shown = defaults.get(f.name, "required")
        if isinstance(shown, tuple):
            shown = ",".join(shown) or "none"
        help_text = f"{docs.get(f.name, '')} [default: {shown}]"
        decls = [f"--{f.name.replace('_', '-')}", *_ALIASES.get(f.name, ()), f.name]
        extra: dict[str, Any] = {"is_flag": True} if flag else {"type": kind}
        options.append(
            click.option(*decls, default=None, multiple=multiple, help=help_text, **extra)
        )
    return options


_CONFIG = click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A sweep request as JSON (SweepRequest's fields); options given here override it.",
)
_WORK_DIR = click.option(
    "--work-dir", default="", help="Sweeps, runs and corpora (default: the data dir)."
)
budget_options = _apply([_CONFIG, *_request_options(), _WORK_DIR])

sweep_options = _apply(
    [
        click.option(
            "--service-url",
            default="",
            envvar="FLOPWISE_SERVICE_URL",
            help="flopwise service to post runs to and refit on.",
        ),
        click.option(
            "--api-key",
            default="",
            envvar="FLOPWISE_API_KEY",
            help="Bearer key for the service's write endpoints.",
        ),
        click.option("--out", default="", help="runs.jsonl and the local fit (no service)."),
        click.option("--progress", default="bar", type=PROGRESS, show_default=True),
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
        width=opts["width"],
        depth=opts["depth"],
        n_heads=opts["n_heads"],
        n_kv_heads=opts["n_kv_heads"],
        head_dim=opts["head_dim"],
        ffn_size=opts["ffn_size"],
        gated_ffn=not opts["ungated"],
        vocab_size=TokenData.open(opts["data_dir"]).vocab_size,
        seq_len=opts["seq_len"],
        tied_embeddings=opts["tied"],
        positions=opts["positions"],
        norm=opts["norm"],
        bias=opts["bias"],
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
    tokens = int(opts["tokens"])
    run_dir = opts["run_dir"] or str(Path("runs") / f"w{arch.width}-d{arch.depth}-s{opts['seed']}")
    train = TrainConfig(
        data_dir=opts["data_dir"],
        run_dir=run_dir,
        tokens=tokens,
        run_id=opts["run_id"],
        dataset=opts["dataset"],
        batch_size=opts["batch_size"],
        micro_batch_size=opts["micro_batch_size"],
        lr_base=opts["lr_base"],
        lr=opts["lr"],
        warmup_tokens=int(opts["warmup_tokens"]),
        cooldown_fraction=opts["cooldown_fraction"],
        cooldown_shape=opts["cooldown_shape"],
        eval_tokens=_eval_tokens(tokens, opts["evals"], opts["eval_span"]),
        eval_sequences=opts["eval_sequences"],
        checkpoint_every=opts["checkpoint_every"],
        seed=opts["seed"],
        device=opts["device"],
        precision=opts["precision"],
        compile=opts["compile"],
        threads=opts["threads"],
    )
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
    for f in fields(SweepRequest):
        given = opts.get(f.name)
        if given is None or given == ():
            continue
        if f.name in _COMMA_LISTS:
            given = [part.strip() for v in given for part in v.split(",") if part.strip()]
        values[f.name] = list(given) if isinstance(given, tuple) else given
    return SweepRequest.from_dict(values)


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
