"""Options of the trainer's commands and their translation into typed configs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np

from flopwise.fitting.counting import ArchSpec
from flopwise.fitting.hardware import budget_to_flops
from flopwise.trainer.config import Job, TrainConfig
from flopwise.trainer.model import ModelConfig

__all__ = [
    "budget_options",
    "job_from_options",
    "sweep_config_from_options",
    "sweep_options",
    "train_options",
]

F = Callable[..., Any]
PROGRESS = click.Choice(["bar", "jsonl", "none"])
DEVICE = click.Choice(["auto", "cpu", "cuda"])


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
        default=0.5,
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
        default=8,
        show_default=True,
        type=click.IntRange(1),
        help="Evaluation points, spaced in log tokens.",
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

budget_options = _apply(
    [
        click.option("--dataset", required=True, help="Dataset the runs are filed under."),
        click.option("--flops", type=float, help="Total training FLOPs of the sweep."),
        click.option("--gpu-hours", type=float, help="Total GPU-hours (with --gpu)."),
        click.option("--gpu", default=None, help="GPU the GPU-hours are on (h100, a100, ...)."),
        click.option(
            "--mfu",
            default=0.4,
            show_default=True,
            type=float,
            help="MFU that converts GPU-hours to FLOPs.",
        ),
        click.option("--time-cap-hours", required=True, type=float, help="Wall-clock cap."),
        click.option("--device", default="auto", type=DEVICE, show_default=True),
        click.option(
            "--data",
            "--corpus",
            "data_dir",
            default="",
            help="Corpus directory, or text files to build one from (default: the stdlib).",
        ),
        click.option(
            "--max-runs", default=0, type=click.IntRange(0), help="Cap on runs (0: none)."
        ),
        click.option(
            "--work-dir", default="", help="Sweeps, runs and corpora (default: data dir)."
        ),
        click.option(
            "--family",
            default="auto",
            type=click.Choice(["auto", "tiny", "small", "gemstones"]),
            help="Model family (auto: from the budget).",
        ),
        click.option(
            "--sizes",
            default=3,
            show_default=True,
            type=click.IntRange(1),
            help="Model sizes, spaced in log compute.",
        ),
        click.option(
            "--compute-ratio",
            default=4.0,
            show_default=True,
            type=float,
            help="Compute of one size over the next smaller.",
        ),
        click.option(
            "--tokens-per-param",
            default=20.0,
            show_default=True,
            type=float,
            help="Tokens per parameter that size the models.",
        ),
        click.option(
            "--aspects",
            default="standard,wide,deep",
            show_default=True,
            help="Aspect ratios per size.",
        ),
        click.option(
            "--aspect-spread",
            default=0.0,
            type=click.FloatRange(min=0),
            help="wide = standard x spread, deep = standard / spread (0: the family's).",
        ),
        click.option(
            "--evals",
            default=8,
            show_default=True,
            type=click.IntRange(2),
            help="Evaluation points per run, spaced in log tokens.",
        ),
        click.option(
            "--eval-span",
            default=32.0,
            show_default=True,
            type=float,
            help="First evaluation at tokens / eval-span.",
        ),
        click.option("--lr-base", default=0.0, type=float, help="0: the family's."),
        click.option("--seed", default=0, type=click.IntRange(0)),
        click.option(
            "--cpu-jobs",
            default=1,
            show_default=True,
            type=click.IntRange(1),
            help="CPU jobs side by side when there is no GPU.",
        ),
        click.option("--threads", default=0, type=click.IntRange(0), help="Threads per CPU job."),
        click.option(
            "--throughput",
            default=0.0,
            type=float,
            help="FLOP/s per device for estimates (0: measure or assume).",
        ),
        click.option("--corpus-bytes", default=16_000_000, type=click.IntRange(1024)),
    ]
)

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
        click.option("--compile", is_flag=True, help="torch.compile every model."),
        click.option("--retries", default=1, show_default=True, type=click.IntRange(0)),
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


def sweep_config_from_options(opts: dict[str, Any]) -> Any:
    """The ``SweepConfig`` of a ``sweep`` / ``plan`` invocation."""
    from flopwise.trainer.plan import PlanConfig
    from flopwise.trainer.sweep import SweepConfig

    if (opts["flops"] is None) == (opts["gpu_hours"] is None):
        raise click.UsageError("give exactly one of --flops and --gpu-hours")
    if opts["gpu_hours"] is not None and not opts["gpu"]:
        raise click.UsageError("--gpu-hours needs --gpu (h100, a100, ...)")
    flops = budget_to_flops(
        flops=opts["flops"],
        gpu_hours=opts["gpu_hours"],
        gpu_name=opts["gpu"] if opts["gpu_hours"] is not None else None,
        mfu=opts["mfu"],
    )
    plan = PlanConfig(
        dataset=opts["dataset"],
        flops=flops,
        time_cap_hours=opts["time_cap_hours"],
        throughput=1.0,
        family=opts["family"],
        n_sizes=opts["sizes"],
        compute_ratio=opts["compute_ratio"],
        tokens_per_param=opts["tokens_per_param"],
        aspects=tuple(a.strip() for a in opts["aspects"].split(",") if a.strip()),
        aspect_spread=opts["aspect_spread"],
        n_evals=opts["evals"],
        eval_span=opts["eval_span"],
        lr_base=opts["lr_base"],
        seed=opts["seed"],
        max_runs=opts["max_runs"],
    )
    return SweepConfig(
        plan=plan,
        device=opts["device"],
        data_dir=opts["data_dir"],
        work_dir=opts["work_dir"],
        service_url=opts.get("service_url", ""),
        api_key=opts.get("api_key", ""),
        out_dir=opts.get("out", ""),
        cpu_slots=opts["cpu_jobs"],
        threads=opts["threads"],
        throughput=opts["throughput"],
        compile=opts.get("compile", False),
        retries=opts.get("retries", 1),
        corpus_bytes=opts["corpus_bytes"],
    )
