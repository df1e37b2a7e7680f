"""The calibration sweep request: one declaration shared by the trainer and the service.

:class:`SweepRequest` is the single place a sweep option is declared: its type, its
default, its check (a pydantic error located at the field) and its documentation
(``Field(description=...)``, with the unit). The trainer's ``sweep`` / ``plan`` options
are generated from it, the service's ``POST /v1/calibrations`` body is this model, and a
sweep travels from the service to the trainer as its JSON (``model_dump(mode="json")``
/ ``model_validate``).

Numbers are strict (``true`` and ``"1e13"`` are not numbers; a count is an integer), as
every request body of the service; list fields take a JSON array.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.hardware import gpu as find_gpu

__all__ = ["ASPECTS", "EXECUTORS", "Aspect", "SweepRequest"]

Aspect = Literal["standard", "wide", "deep"]
ASPECTS: tuple[Aspect, ...] = ("standard", "wide", "deep")
EXECUTORS = ("local", "slurm")

_LR = Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)]
_BATCH = Annotated[int, Field(ge=1, le=65_536)]
_GRANULARITY = Annotated[int, Field(ge=1, le=64)]
_SLURM_NAME = Annotated[str, Field(max_length=200, pattern=r"^[A-Za-z0-9_.,:+-]*$")]
_SBATCH_OPTION = Annotated[
    str, Field(max_length=500, pattern=r"^--[a-z][a-z0-9-]*(=[^\s'\"\\;`$\x00]+)?$")
]


def _grid(description: str) -> Any:
    """A sweep grid's field: up to 16 values, a JSON array (or a list) as the tuple."""
    return Field(default=(), strict=False, max_length=16, description=description)


_DENSE: dict[str, Any] = {"top_k": 1, "granularities": ()}
"""The MoE options' values in a dense sweep (their defaults)."""


def field_error(model: str, name: str, message: str, value: object) -> ValidationError:
    """A validation error located at the field ``name`` (for checks across fields)."""
    error = PydanticCustomError("value_error", "{message}", {"message": message})
    detail = InitErrorDetails(type=error, loc=(name,), input=value)
    return ValidationError.from_exception_data(model, [detail])


class SweepRequest(BaseModel):
    """What a calibration sweep is asked to do, and where it runs."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    dataset: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="Dataset the runs are filed under (one law is fitted per dataset): "
        "1-64 letters, digits, '.', '_' or '-'.",
    )
    time_cap_hours: float = Field(
        ge=1e-3,
        le=24 * 365,
        allow_inf_nan=False,
        description="Wall-clock cap of the whole sweep, hours (0.001 to 8,760).",
    )
    flops: float | None = Field(
        default=None,
        ge=1e6,
        le=1e30,
        allow_inf_nan=False,
        description="Total training compute of the sweep, FLOPs, 1e6 to 1e30 (give this or "
        "gpu_hours).",
    )
    gpu_hours: float | None = Field(
        default=None,
        ge=1e-6,
        le=1e7,
        allow_inf_nan=False,
        description="Total budget of the sweep, GPU-hours on gpu, 1e-6 to 1e7 (give this or "
        "flops).",
    )
    gpu: str | None = Field(
        None, max_length=64, description="GPU the GPU-hours are on (h100, a100, ...)."
    )
    mfu: float = Field(
        default=0.4,
        ge=0.001,
        le=1,
        allow_inf_nan=False,
        description="Model FLOPs utilisation (fraction, 0.001-1) that converts GPU-hours to FLOPs.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="auto (GPUs when present), cpu or cuda."
    )
    corpus: str = Field(
        default="",
        max_length=4096,
        description="Corpus directory, or text files to build one from; empty: the "
        "standard library.",
    )
    corpus_bytes: int = Field(
        default=16_000_000,
        ge=1024,
        le=1 << 40,
        description="Size of the corpus built from text files, bytes.",
    )
    family: Literal["auto", "tiny", "small", "gemstones"] = Field(
        "auto", description="Model family (auto: from the budget)."
    )
    sizes: int = Field(default=3, ge=1, le=20, description="Model sizes, spaced in log compute.")
    compute_ratio: float = Field(
        default=4.0,
        gt=1,
        le=1e3,
        allow_inf_nan=False,
        description="Compute of one size over the next smaller one (ratio, > 1).",
    )
    tokens_per_param: float = Field(
        default=20.0,
        ge=0.01,
        le=1e4,
        allow_inf_nan=False,
        description="Tokens per parameter that size the models (Chinchilla's ~20), 0.01 to 10,000.",
    )
    aspects: tuple[Aspect, ...] = Field(
        default=ASPECTS,
        strict=False,  # a JSON array (or a list) is the tuple
        min_length=1,
        description="Aspect ratios per size, distinct, among standard, wide, deep.",
    )
    aspect_spread: float = Field(
        default=0.0,
        ge=0,
        le=1e3,
        allow_inf_nan=False,
        description="wide = standard x spread, deep = standard / spread (ratio of "
        "width/depth, > 1); 0: the family's.",
    )
    evals: int = Field(
        default=8,
        ge=1,
        le=100,
        description="Evaluation points per run, spaced in log tokens (1: only the end of the run).",
    )
    eval_span: float = Field(
        default=32.0,
        ge=1,
        le=1e6,
        allow_inf_nan=False,
        description="The first evaluation is at tokens / eval_span (ratio).",
    )
    lr_base: float = Field(
        default=0.0,
        ge=0,
        le=1e3,
        allow_inf_nan=False,
        description="Gemstones LR numerator, lr = lr_base / (width sqrt(depth)); 0: the family's.",
    )
    seed: int = Field(
        0, ge=0, le=2**31 - 1, description="Seed of every run (initialisation and data order)."
    )
    max_runs: int = Field(
        default=0,
        ge=0,
        le=10_000,
        description="At most this many runs (fewer sizes, then fewer aspects); 0: no limit.",
    )
    wsd_branches: int = Field(
        default=0,
        ge=0,
        le=16,
        description="Warmup-stable-decay mode: one constant-LR run per model and this many "
        "cooldowns branched from its checkpoints, ending at D, D/2, D/4, ... (Hägele et al. "
        "2024, docs/laws.md §21.5); 0: every run trained to its end.",
    )
    cooldown_fraction: float = Field(
        default=0.2,
        gt=0,
        lt=1,
        allow_inf_nan=False,
        description="WSD mode: share of each branch's tokens its cooldown takes (fraction).",
    )
    cooldown_shape: Literal["linear", "1-sqrt"] = Field(
        default="1-sqrt", description="WSD mode: each cooldown's shape, linear or 1-sqrt."
    )
    lr_grid: tuple[_LR, ...] = _grid(
        "Learning-rate sweep: peak learning rates (distinct, each above 0 and at "
        "most 10); every planned model is trained once at each, on an equal share of its "
        "compute (docs/laws.md §18.6); empty: the family's shape rule.",
    )
    batch_grid: tuple[_BATCH, ...] = _grid(
        "Batch sweep: global batches in sequences per optimizer step (distinct, "
        "1 to 65,536); every planned model is trained once at each (and at each of lr_grid), "
        "all on the same tokens; empty: the family's.",
    )
    experts: int = Field(
        default=0,
        ge=0,
        le=256,
        description="Mixture-of-experts sweep: routed experts per MoE layer at granularity 1 "
        "(each as wide as the dense MLP; Krajewski et al. 2024 scale them by each granularity, "
        "docs/laws.md §14); 0: dense models.",
    )
    top_k: int = Field(
        default=1,
        ge=1,
        le=64,
        description="MoE sweep: routed experts each token passes through at granularity 1 "
        "(at most experts; scaled by each granularity).",
    )
    granularities: tuple[_GRANULARITY, ...] = _grid(
        "MoE sweep: expert granularities G (distinct powers of two, 1 to 64): every planned model is "
        "trained once at each, with experts x G routed experts G times narrower than the "
        "dense MLP and top_k x G of them per token (the same active parameters); empty: 1.",
    )
    cpu_jobs: int = Field(
        1, ge=1, le=256, description="CPU jobs side by side when there is no GPU."
    )
    threads: int = Field(0, ge=0, le=256, description="Threads per CPU job; 0: cores / cpu_jobs.")
    throughput: float = Field(
        default=0.0,
        ge=0,
        le=1e20,
        allow_inf_nan=False,
        description="Speed of one device for the estimates, FLOP/s; 0: measure (CPU) or "
        "assume (GPU).",
    )
    compile: bool = Field(default=False, description="torch.compile every model.")
    retries: int = Field(
        default=1,
        ge=0,
        le=100,
        description="Times a failed run is started again (it resumes from its checkpoint).",
    )
    executor: Literal["local", "slurm"] = Field(
        default="local",
        description="Where runs execute: local (this host's devices) or slurm (one job per run).",
    )
    slurm_partition: _SLURM_NAME = Field(
        "", description="Slurm partition (sbatch --partition); empty: the cluster's default."
    )
    slurm_account: _SLURM_NAME = Field(
        "", description="Slurm account (sbatch --account); empty: the user's default."
    )
    slurm_qos: _SLURM_NAME = Field(
        "", description="Slurm quality of service (sbatch --qos); empty: the default."
    )
    slurm_options: tuple[_SBATCH_OPTION, ...] = Field(
        default=(),
        strict=False,  # a JSON array (or a list) is the tuple
        max_length=64,
        description="Extra sbatch options, each --name=value without spaces "
        "(e.g. --constraint=h100).",
    )
    slurm_gpus_per_node: int = Field(
        default=8,
        ge=1,
        le=64,
        description="GPUs per node: a run needing more runs on several nodes under srun + "
        "torchrun.",
    )
    slurm_max_jobs: int = Field(
        default=4,
        ge=1,
        le=10_000,
        description="Jobs of the sweep queued or running at once (the plan's device slots).",
    )
    slurm_poll_seconds: float = Field(
        default=5.0,
        ge=0.01,
        le=3600,
        allow_inf_nan=False,
        description="Time between looks at the queue (squeue), seconds (0.01 to 3,600).",
    )

    @model_validator(mode="after")
    def _across_fields(self) -> SweepRequest:
        """The checks that read several fields, each located at the field to change."""
        if (self.flops is None) == (self.gpu_hours is None):
            name = "flops" if self.flops is None else "gpu_hours"  # the one to add, or drop
            raise field_error(
                "SweepRequest", name, "give exactly one of flops and gpu_hours", self.flops
            )
        if self.gpu_hours is not None:
            if not self.gpu:
                message = "a GPU-hour budget needs a GPU name (h100, a100, ...)"
                raise field_error("SweepRequest", "gpu", message, self.gpu)
            try:
                find_gpu(self.gpu)
            except ArgumentError as exc:
                raise field_error("SweepRequest", "gpu", exc.message, self.gpu) from None
        if self.aspect_spread and self.aspect_spread <= 1:
            message = "must exceed 1 (or be 0: the family's)"
            raise field_error("SweepRequest", "aspect_spread", message, self.aspect_spread)
        for name in ("lr_grid", "batch_grid", "granularities"):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise field_error("SweepRequest", name, "must be distinct", list(values))
        self._moe()
        if len(set(self.aspects)) != len(self.aspects):
            message = f"must be distinct names among {', '.join(ASPECTS)}"
            raise field_error("SweepRequest", "aspects", message, list(self.aspects))
        return self

    def _moe(self) -> None:
        """An MoE sweep's routing: top_k within experts, granularities only with experts."""
        if not self.experts:
            for name in ("top_k", "granularities"):
                if getattr(self, name) != _DENSE[name]:
                    message = "is for a mixture-of-experts sweep: give experts too"
                    raise field_error("SweepRequest", name, message, getattr(self, name))
            return
        if any(g & (g - 1) for g in self.granularities):  # so that they divide every MLP
            message = "must be powers of two (1, 2, 4, ..., 64)"
            raise field_error("SweepRequest", "granularities", message, list(self.granularities))
        if self.top_k > self.experts:
            message = f"must be at most experts ({self.experts})"
            raise field_error("SweepRequest", "top_k", message, self.top_k)
        if self.experts * max(self.granularities, default=1) > 1024:
            message = "experts x the largest granularity must be at most 1,024 routed experts"
            raise field_error("SweepRequest", "granularities", message, list(self.granularities))
