"""The calibration sweep request: one declaration shared by the trainer and the service.

:class:`SweepRequest` is the single place a sweep option is declared: its type, its
default, its check (``__post_init__`` raises :class:`~flopwise.fitting.errors.ArgumentError`
naming the field) and its documentation (the attribute docstring, read by
:func:`field_docs`). The trainer's ``sweep`` / ``plan`` options are generated from it,
the service's ``POST /v1/calibrations`` body is generated from it, and a sweep travels
from the service to the trainer as its JSON (``to_dict`` / ``from_dict``).

Standard library only: the service and the trainer both import it and never each other.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import math
import re
import textwrap
from dataclasses import MISSING, asdict, dataclass, fields
from functools import cache
from typing import Any, Literal

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.hardware import gpu as find_gpu

__all__ = ["ASPECTS", "EXECUTORS", "SweepRequest", "field_docs", "required_fields"]

ASPECTS = ("standard", "wide", "deep")
EXECUTORS = ("local", "slurm")
_SLURM_NAME = re.compile(r"^[A-Za-z0-9_.,:+-]*$")
_SBATCH_OPTION = re.compile(r"^--[a-z][a-z0-9-]*(=[^\s'\"\\;`$]+)?$")


@dataclass(frozen=True, kw_only=True)
class SweepRequest:
    """What a calibration sweep is asked to do, and where it runs."""

    dataset: str
    """Dataset the runs are filed under (one law is fitted per dataset)."""
    time_cap_hours: float
    """Wall-clock cap of the whole sweep, hours."""
    flops: float | None = None
    """Total training FLOPs of the sweep (give this or gpu_hours)."""
    gpu_hours: float | None = None
    """Total GPU-hours of the sweep, on gpu (give this or flops)."""
    gpu: str | None = None
    """GPU the GPU-hours are on (h100, a100, ...)."""
    mfu: float = 0.4
    """MFU that converts GPU-hours to FLOPs."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """auto (GPUs when present), cpu or cuda."""
    corpus: str = ""
    """Corpus directory, or text files to build one from; empty: the standard library."""
    corpus_bytes: int = 16_000_000
    """Size of the corpus built from text files."""
    family: Literal["auto", "tiny", "small", "gemstones"] = "auto"
    """Model family (auto: from the budget)."""
    sizes: int = 3
    """Model sizes, spaced in log compute."""
    compute_ratio: float = 4.0
    """Compute of one size over the next smaller one."""
    tokens_per_param: float = 20.0
    """Tokens per parameter that size the models (Chinchilla's ~20)."""
    aspects: tuple[str, ...] = ASPECTS
    """Aspect ratios per size, among standard, wide, deep."""
    aspect_spread: float = 0.0
    """wide = standard x spread, deep = standard / spread (width/depth); 0: the family's."""
    evals: int = 8
    """Evaluation points per run, spaced in log tokens (1: only the end of the run)."""
    eval_span: float = 32.0
    """The first evaluation is at tokens / eval_span."""
    lr_base: float = 0.0
    """Gemstones LR numerator, lr = lr_base / (width sqrt(depth)); 0: the family's."""
    seed: int = 0
    """Seed of every run (initialisation and data order)."""
    max_runs: int = 0
    """At most this many runs (fewer sizes, then fewer aspects); 0: no limit."""
    cpu_jobs: int = 1
    """CPU jobs side by side when there is no GPU."""
    threads: int = 0
    """Threads per CPU job; 0: cores / cpu_jobs."""
    throughput: float = 0.0
    """FLOP/s of one device for the estimates; 0: measure (CPU) or assume (GPU)."""
    compile: bool = False
    """torch.compile every model."""
    retries: int = 1
    """Times a failed run is started again (it resumes from its checkpoint)."""
    executor: Literal["local", "slurm"] = "local"
    """Where runs execute: local (this host's devices) or slurm (one job per run)."""
    slurm_partition: str = ""
    """Slurm partition (sbatch --partition); empty: the cluster's default."""
    slurm_account: str = ""
    """Slurm account (sbatch --account); empty: the user's default."""
    slurm_qos: str = ""
    """Slurm quality of service (sbatch --qos); empty: the default."""
    slurm_options: tuple[str, ...] = ()
    """Extra sbatch options, each --name=value (e.g. --constraint=h100)."""
    slurm_gpus_per_node: int = 8
    """GPUs per node: a run needing more runs on several nodes under srun + torchrun."""
    slurm_max_jobs: int = 4
    """Jobs of the sweep queued or running at once (the plan's device slots)."""
    slurm_poll_seconds: float = 5.0
    """Seconds between looks at the queue (squeue)."""

    def __post_init__(self) -> None:
        _check_text(self)
        _check_budget(self)
        _check_numbers(self)
        _check_choices(self)
        _check_slurm(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (tuples as lists); :meth:`from_dict` inverts it."""
        out = asdict(self)
        for name in ("aspects", "slurm_options"):
            out[name] = list(out[name])
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepRequest:
        """Build from JSON; an unknown or missing field raises ``ArgumentError``."""
        if not isinstance(data, dict):
            raise ArgumentError("config", "must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ArgumentError(unknown[0], "unknown field")
        for name in required_fields():
            if data.get(name) is None:
                raise ArgumentError(name, "is required")
        values = dict(data)
        for name in ("aspects", "slurm_options"):
            if name in values:
                if not isinstance(values[name], list | tuple):
                    raise ArgumentError(name, "must be a list of strings")
                values[name] = tuple(values[name])
        return cls(**values)


def required_fields() -> tuple[str, ...]:
    """Fields without a default."""
    return tuple(f.name for f in fields(SweepRequest) if f.default is MISSING)


def _check_text(r: SweepRequest) -> None:
    if not isinstance(r.dataset, str) or not re.match(
        r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", r.dataset
    ):
        raise ArgumentError("dataset", "must be 1-64 letters, digits, '.', '_' or '-'")
    if not isinstance(r.corpus, str) or len(r.corpus) > 4096:
        raise ArgumentError("corpus", "must be a path of at most 4096 characters")


def _check_budget(r: SweepRequest) -> None:
    if (r.flops is None) == (r.gpu_hours is None):
        name = "flops" if r.flops is None else "gpu_hours"  # the one to drop, or to add
        raise ArgumentError(name, "give exactly one of flops and gpu_hours")
    if r.gpu_hours is not None:
        if not r.gpu:
            raise ArgumentError("gpu", "a GPU-hour budget needs a GPU name (h100, a100, ...)")
        try:
            find_gpu(r.gpu)
        except ValueError as exc:
            raise ArgumentError("gpu", str(exc).removeprefix("gpu: ")) from None


def _number(r: SweepRequest, name: str, low: float, high: float, *, open_low: bool) -> None:
    value = getattr(r, name)
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < low or (open_low and value == low) or value > high:
        side = ">" if open_low else ">="
        raise ArgumentError(name, f"must be a number {side} {low:g} and <= {high:g}, got {value!r}")


def _integer(r: SweepRequest, name: str, low: int, high: int) -> None:
    value = getattr(r, name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ArgumentError(name, f"must be an integer in [{low}, {high}], got {value!r}")


_POSITIVE = {"time_cap_hours": 24 * 365, "tokens_per_param": 1e4, "slurm_poll_seconds": 3600}
_NON_NEGATIVE = {"throughput": 1e20, "aspect_spread": 1e3, "lr_base": 1e3}
_INTEGERS = {
    "corpus_bytes": (1024, 1 << 40),
    "sizes": (1, 20),
    "evals": (1, 100),
    "seed": (0, 2**31 - 1),
    "max_runs": (0, 10_000),
    "cpu_jobs": (1, 256),
    "threads": (0, 256),
    "retries": (0, 100),
    "slurm_gpus_per_node": (1, 64),
    "slurm_max_jobs": (1, 10_000),
}


def _check_numbers(r: SweepRequest) -> None:
    for name in ("flops", "gpu_hours"):
        if getattr(r, name) is not None:
            _number(r, name, 0.0, 1e30 if name == "flops" else 1e7, open_low=True)
    _number(r, "mfu", 0.0, 1.0, open_low=True)
    for name, high in _POSITIVE.items():
        _number(r, name, 0.0, high, open_low=True)
    for name, high in _NON_NEGATIVE.items():
        _number(r, name, 0.0, high, open_low=False)
    _number(r, "compute_ratio", 1.0, 1e3, open_low=True)
    _number(r, "eval_span", 1.0, 1e6, open_low=False)
    if r.aspect_spread and r.aspect_spread <= 1:
        raise ArgumentError("aspect_spread", "must exceed 1 (or be 0: the family's)")
    for name, (low, high) in _INTEGERS.items():
        _integer(r, name, low, high)


def _check_choices(r: SweepRequest) -> None:
    choices = {
        "device": ("auto", "cpu", "cuda"),
        "family": ("auto", "tiny", "small", "gemstones"),
        "executor": EXECUTORS,
    }
    for name, allowed in choices.items():
        if getattr(r, name) not in allowed:
            raise ArgumentError(name, f"must be one of {', '.join(allowed)}")
    if not isinstance(r.compile, bool):
        raise ArgumentError("compile", "must be true or false")
    bad = [a for a in r.aspects if a not in ASPECTS]
    if not r.aspects or bad or len(set(r.aspects)) != len(r.aspects):
        raise ArgumentError("aspects", f"must be distinct names among {', '.join(ASPECTS)}")


def _check_slurm(r: SweepRequest) -> None:
    for name in ("slurm_partition", "slurm_account", "slurm_qos"):
        value = getattr(r, name)
        if not isinstance(value, str) or len(value) > 200 or not _SLURM_NAME.match(value):
            raise ArgumentError(name, "must be a Slurm name (letters, digits, . _ , : + -)")
    for option in r.slurm_options:
        if not isinstance(option, str) or len(option) > 500 or not _SBATCH_OPTION.match(option):
            raise ArgumentError(
                "slurm_options",
                f"each must be --name or --name=value without spaces, got {option!r}",
            )


@cache
def field_docs(cls: type) -> dict[str, str]:
    """Each field's attribute docstring (the string literal under its annotation)."""
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
