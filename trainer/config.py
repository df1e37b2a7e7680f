"""Typed configuration of one training job: the model (``ModelConfig``) and its training.

Every field carries a docstring; ``__post_init__`` refuses a bad value with a
``ValueError`` naming the field. A :class:`Job` round-trips through JSON, which is how
a sweep hands a planned run to its trainer process.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from flopwise.fitting.counting import ArchSpec
from flopwise.trainer.model import ModelConfig

__all__ = ["RUNTIME_FIELDS", "Device", "Job", "Precision", "TrainConfig"]

Device = Literal["auto", "cpu", "cuda"]
Precision = Literal["auto", "float32", "bfloat16"]
CooldownShape = Literal["linear", "1-sqrt"]

RUNTIME_FIELDS = frozenset(
    {"data_dir", "run_dir", "device", "compile", "threads", "log_every", "checkpoint_every"}
)
"""Fields that may change between a run and its resumption (where and how it runs,
not what it computes)."""


def _positive_int(name: str, value: Any, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _finite(name: str, value: Any, low: float, high: float = math.inf) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not low <= value <= high:
        raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}")


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """How one model is trained, evaluated and checkpointed."""

    data_dir: str
    """Corpus directory with train.bin, val.bin and meta.json (nanoGPT convention)."""
    run_dir: str
    """Where checkpoints, observations and the done marker of this run live."""
    tokens: int
    """Training tokens (rounded up to whole optimizer steps)."""
    run_id: str = ""
    """Name of the run in its observations; empty means the run directory's name."""
    dataset: str = "default"
    """Dataset the observations are filed under (one law is fitted per dataset)."""
    batch_size: int = 16
    """Sequences per optimizer step, over all processes (the global batch)."""
    micro_batch_size: int = 0
    """Sequences per forward pass in one process; 0 means the whole per-process share."""
    lr_base: float = 0.5
    """Gemstones' shape-aware rule: peak LR = lr_base / (width x sqrt(depth)) (docs/laws.md §8.2).
    Gemstones' 5 is for 4M-token batches; 0.5 (the tiny family's) suits small batches."""
    lr: float = 0.0
    """Explicit peak learning rate; 0 means the lr_base rule."""
    warmup_tokens: int = 0
    """Linear warmup from 0 to the peak LR over this many tokens."""
    cooldown_fraction: float = 0.0
    """Share of the run, at its end, over which the LR decays to 0 (WSD); 0: constant LR."""
    cooldown_shape: CooldownShape = "linear"
    """Decay shape: linear, or 1-sqrt (Hägele et al. 2024, docs/laws.md §10.1)."""
    weight_decay: float = 0.1
    """AdamW decoupled weight decay on matrices and embeddings (never on norms or biases)."""
    beta1: float = 0.9
    """AdamW first-moment decay."""
    beta2: float = 0.95
    """AdamW second-moment decay."""
    grad_clip: float = 1.0
    """Clip the global gradient norm to this; 0 disables clipping."""
    eval_tokens: tuple[int, ...] = ()
    """Token counts at which the val loss is measured (one observation each); the end
    of the run is always one."""
    eval_sequences: int = 64
    """Sequences in the fixed held-out validation set."""
    checkpoint_every: int = 0
    """Also checkpoint every this many steps; 0 means only at evaluation points."""
    seed: int = 0
    """Seeds the initialisation and the batch order; recorded with every observation."""
    device: Device = "auto"
    """cuda when available (auto), or forced cpu / cuda."""
    precision: Precision = "auto"
    """bfloat16 autocast on GPU and float32 on CPU (auto), or forced."""
    compile: bool = False
    """Wrap the model in torch.compile."""
    threads: int = 0
    """torch intra-op threads on CPU; 0 leaves torch's default."""
    log_every: int = 10
    """Steps between progress updates (each costs a host-device sync)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra labels carried by every observation (sweep id, aspect, ...)."""

    def __post_init__(self) -> None:
        for name in ("data_dir", "run_dir", "dataset"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise ValueError(f"{name} must be a non-empty string")
        _positive_int("tokens", self.tokens)
        _positive_int("batch_size", self.batch_size)
        _positive_int("micro_batch_size", self.micro_batch_size, 0)
        _finite("lr_base", self.lr_base, 1e-12)
        _finite("lr", self.lr, 0.0, 10.0)
        _positive_int("warmup_tokens", self.warmup_tokens, 0)
        _finite("cooldown_fraction", self.cooldown_fraction, 0.0, 1.0)
        if self.cooldown_shape not in ("linear", "1-sqrt"):
            raise ValueError(
                f"cooldown_shape must be linear or 1-sqrt, got {self.cooldown_shape!r}"
            )
        _finite("weight_decay", self.weight_decay, 0.0)
        _finite("beta1", self.beta1, 0.0, 0.999999)
        _finite("beta2", self.beta2, 0.0, 0.999999)
        _finite("grad_clip", self.grad_clip, 0.0)
        for t in self.eval_tokens:
            _positive_int("eval_tokens", t)
        object.__setattr__(self, "eval_tokens", tuple(sorted(set(self.eval_tokens))))
        _positive_int("eval_sequences", self.eval_sequences)
        _positive_int("checkpoint_every", self.checkpoint_every, 0)
        _positive_int("seed", self.seed, 0)
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, got {self.device!r}")
        if self.precision not in ("auto", "float32", "bfloat16"):
            raise ValueError(f"precision must be auto, float32 or bfloat16, got {self.precision!r}")
        _positive_int("threads", self.threads, 0)
        _positive_int("log_every", self.log_every)
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.tags.items()):
            raise ValueError("tags must map strings to strings")
        object.__setattr__(self, "tags", dict(self.tags))

    @property
    def name(self) -> str:
        """The run id observations carry."""
        return self.run_id or Path(self.run_dir).name


@dataclass(frozen=True, kw_only=True)
class Job:
    """One training job: what to build and how to train it."""

    model: ModelConfig
    """The architecture (an ArchSpec) and its non-counted settings."""
    train: TrainConfig
    """Data, schedule, evaluation and checkpointing."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``from_dict`` inverts it)."""
        out = asdict(self)
        out["model"]["arch"].pop("_derived", None)
        out["train"]["eval_tokens"] = list(self.train.eval_tokens)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Job:
        """Build from :meth:`to_dict` output; unknown or missing keys raise ``ValueError``."""
        try:
            model = dict(data["model"])
            arch = ArchSpec(**_known(ArchSpec, model.pop("arch"), "model.arch"))
            model_config = ModelConfig(arch=arch, **_known(ModelConfig, model, "model"))
            train = _known(TrainConfig, data["train"], "train")
        except KeyError as exc:
            raise ValueError(f"job: missing {exc.args[0]!r}") from None
        train["eval_tokens"] = tuple(train.get("eval_tokens", ()))
        return cls(model=model_config, train=TrainConfig(**train))

    def identity(self) -> dict[str, Any]:
        """What a checkpoint must match to be resumed: the job minus runtime settings."""
        out = self.to_dict()
        for name in RUNTIME_FIELDS:
            out["train"].pop(name, None)
        return out


def _known(cls: type, values: Mapping[str, Any], where: str) -> dict[str, Any]:
    names = {f.name for f in fields(cls) if not f.name.startswith("_")}
    unknown = set(values) - names
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    return {k: v for k, v in values.items() if k in names}
