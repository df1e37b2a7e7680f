"""Typed configuration of one training job: the model (``ModelConfig``) and its training.

``TrainConfig`` is a pydantic model: every field has a description (with its unit) and
its bounds, a bad value is a ``ValidationError`` (a ``ValueError``) naming the field,
and the ``train`` command's options are generated from it. A :class:`Job` round-trips
through JSON, which is how a sweep hands a planned run to its trainer process. Nothing
here imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from flopwise.fitting.counting import ArchSpec
from flopwise.fitting.moe import MoESpec
from flopwise.trainer.moe_sweep import moe_spec

__all__ = ["RUNTIME_FIELDS", "Device", "Job", "ModelConfig", "Precision", "TrainConfig"]

Device = Literal["auto", "cpu", "cuda"]
Precision = Literal["auto", "float32", "bfloat16"]
CooldownShape = Literal["linear", "1-sqrt"]
Activation = Literal["gelu", "silu"]

RUNTIME_FIELDS = frozenset(
    {"data_dir", "run_dir", "device", "compile", "threads", "log_every", "checkpoint_every"}
)
"""Fields that may change between a run and its resumption (where and how it runs,
not what it computes)."""

_Text = Annotated[str, Field(pattern=r"\S", max_length=4096)]
"""A non-blank string."""
_Tokens = Annotated[
    tuple[Annotated[int, Field(ge=1)], ...], AfterValidator(lambda t: tuple(sorted(set(t))))
]
"""Token counts, sorted and unique."""


class TrainConfig(BaseModel):
    """How one model is trained, evaluated and checkpointed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: _Text = Field(
        description="Corpus directory with train.bin, val.bin and meta.json (nanoGPT convention)."
    )
    run_dir: _Text = Field(
        description="Where checkpoints, observations and the done marker of this run live."
    )
    tokens: int = Field(ge=1, description="Training tokens (rounded up to whole optimizer steps).")
    run_id: str = Field(
        default="", description="Name of the run in its observations; empty: the run directory's."
    )
    dataset: _Text = Field(
        default="default",
        description="Dataset the observations are filed under (one law is fitted per dataset).",
    )
    batch_size: int = Field(
        default=16,
        ge=1,
        description="Sequences per optimizer step, over all processes (the global batch).",
    )
    micro_batch_size: int = Field(
        default=0,
        ge=0,
        description="Sequences per forward pass in one process; 0: the whole per-process share.",
    )
    lr_base: float = Field(
        default=0.5,
        ge=1e-12,
        allow_inf_nan=False,
        description="Gemstones' shape-aware rule: peak LR = lr_base / (width x sqrt(depth)) "
        "(docs/laws.md §8.2); Gemstones' 5 is for 4M-token batches, 0.5 (the tiny family's) "
        "suits small ones.",
    )
    lr: float = Field(
        default=0.0,
        ge=0,
        le=10,
        allow_inf_nan=False,
        description="Explicit peak learning rate; 0: the lr_base rule.",
    )
    warmup_tokens: int = Field(
        default=0, ge=0, description="Linear warmup from 0 to the peak LR over this many tokens."
    )
    cooldown_fraction: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of the run (fraction), at its end, over which the LR decays to 0 "
        "(WSD); 0: constant LR.",
    )
    cooldown_shape: CooldownShape = Field(
        default="linear",
        description="Decay shape: linear, or 1-sqrt (Hägele et al. 2024, docs/laws.md §10.1).",
    )
    weight_decay: float = Field(
        default=0.1,
        ge=0,
        allow_inf_nan=False,
        description="AdamW decoupled weight decay on matrices and embeddings (never on norms "
        "or biases).",
    )
    beta1: float = Field(default=0.9, ge=0, le=0.999999, description="AdamW first-moment decay.")
    beta2: float = Field(default=0.95, ge=0, le=0.999999, description="AdamW second-moment decay.")
    grad_clip: float = Field(
        default=1.0,
        ge=0,
        allow_inf_nan=False,
        description="Clip the global gradient norm to this; 0 disables clipping.",
    )
    eval_tokens: _Tokens = Field(
        default=(),
        description="Token counts at which the val loss is measured (one observation each); "
        "the end of the run is always one.",
    )
    keep_checkpoints: _Tokens = Field(
        default=(),
        description="Token counts at which a copy of the checkpoint is kept "
        "(checkpoint-<tokens>.pt), for cooldown branches to start from.",
    )
    branch_from: str = Field(
        default="",
        max_length=4096,
        description="A kept checkpoint of another run to start from (a cooldown branch of a "
        "warmup-stable-decay sweep: its first steps are that run's); empty: from scratch.",
    )
    eval_sequences: int = Field(
        default=64, ge=1, description="Sequences in the fixed held-out validation set."
    )
    task_items: int = Field(
        default=128,
        ge=0,
        le=100_000,
        description="Items of the built-in ranked-classification task (trainer.tasks) scored "
        "at each evaluation, giving the continuation_acc and _bpb metrics; 0: none.",
    )
    checkpoint_every: int = Field(
        default=0,
        ge=0,
        description="Also checkpoint every this many steps; 0: only at evaluation points.",
    )
    seed: int = Field(
        default=0,
        ge=0,
        description="Seeds the initialisation and the batch order; recorded with every "
        "observation.",
    )
    device: Device = Field(
        default="auto", description="cuda when available (auto), or forced cpu / cuda."
    )
    precision: Precision = Field(
        default="auto",
        description="bfloat16 autocast on GPU and float32 on CPU (auto), or forced.",
    )
    compile: bool = Field(default=False, description="Wrap the model in torch.compile.")
    threads: int = Field(
        default=0, ge=0, description="torch intra-op threads on CPU; 0 leaves torch's default."
    )
    log_every: int = Field(
        default=10,
        ge=1,
        description="Steps between progress updates (each costs a host-device sync).",
    )
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="Extra labels carried by every observation (sweep id, aspect, ...).",
    )

    @property
    def name(self) -> str:
        """The run id observations carry."""
        return self.run_id or Path(self.run_dir).name


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """What the model needs besides the shape the parameter counter sees."""

    arch: ArchSpec
    """Width, depth, heads, MLP, vocabulary, context and variations (``fitting.counting``)."""
    activation: Activation = "gelu"
    """MLP non-linearity: GELU (tanh) gives GEGLU when gated, as Gemstones; SiLU gives SwiGLU."""
    norm_eps: float = 1e-5
    """Epsilon inside RMSNorm / LayerNorm."""
    rope_theta: float = 10000.0
    """Base of the rotary frequencies (Su et al. 2021)."""
    init_std: float = 0.0
    """σ of the input-side weights; 0 means Gemstones' 1/√width."""
    experts: int = 0
    """Mixture of experts (``trainer.moe``): routed experts in every block's MLP; 0: dense."""
    top_k: int = 0
    """Routed experts each token passes through (an MoE model)."""
    expert_ffn_size: int = 0
    """One expert's MLP width (an MoE model); 0: the dense MLP's."""

    def __post_init__(self) -> None:
        if not isinstance(self.arch, ArchSpec):
            raise ValueError(f"arch must be a fitting.counting.ArchSpec, got {type(self.arch)}")
        if self.activation not in ("gelu", "silu"):
            raise ValueError(f"activation must be gelu or silu, got {self.activation!r}")
        if self.arch.positions == "rotary" and self.arch.head_dim % 2:
            raise ValueError(
                f"head_dim must be even for rotary positions, got {self.arch.head_dim}"
            )
        for name in ("norm_eps", "rope_theta"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if not (math.isfinite(self.init_std) and self.init_std >= 0):
            raise ValueError(f"init_std must be >= 0, got {self.init_std!r}")
        self.moe  # noqa: B018 (checks the MoE settings: a ValueError names the field)

    @property
    def moe(self) -> MoESpec | None:
        """The ``fitting`` MoE spec of an MoE model (``None``: dense)."""
        return moe_spec(self.arch, self.experts, self.top_k, self.expert_ffn_size)

    @property
    def std(self) -> float:
        """σ of embeddings and input-side projections."""
        return self.init_std or 1.0 / math.sqrt(self.arch.width)


@dataclass(frozen=True, kw_only=True)
class Job:
    """One training job: what to build and how to train it."""

    model: ModelConfig
    """The architecture (an ArchSpec) and its non-counted settings."""
    train: TrainConfig
    """Data, schedule, evaluation and checkpointing."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``from_dict`` inverts it)."""
        model = asdict(self.model)
        model["arch"].pop("_derived", None)
        if not self.model.experts:  # a dense job's identity is what it was before MoE
            for name in _MOE_FIELDS:
                model.pop(name)
        return {"model": model, "train": self.train.model_dump(mode="json")}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Job:
        """Build from :meth:`to_dict` output; unknown or missing keys raise ``ValueError``."""
        try:
            model = dict(data["model"])
            arch = ArchSpec(**_known(ArchSpec, model.pop("arch"), "model.arch"))
            model_config = ModelConfig(arch=arch, **_known(ModelConfig, model, "model"))
            train = TrainConfig.model_validate(data["train"])
        except KeyError as exc:
            raise ValueError(f"job: missing {exc.args[0]!r}") from None
        return cls(model=model_config, train=train)

    def identity(self) -> dict[str, Any]:
        """What a checkpoint must match to be resumed: the job minus runtime settings."""
        out = self.to_dict()
        for name in RUNTIME_FIELDS:
            out["train"].pop(name, None)
        return out


_MOE_FIELDS = ("experts", "top_k", "expert_ffn_size")


def _known(cls: type, values: Mapping[str, Any], where: str) -> dict[str, Any]:
    names = {f.name for f in fields(cls) if not f.name.startswith("_")}
    unknown = set(values) - names
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    return {k: v for k, v in values.items() if k in names}
