"""Sweep planning: from a budget and a time cap to concrete runs (shapes, tokens, evals).

The design follows Chinchilla's IsoFLOP grid and Gemstones' shape sweep:

* Sizes are spaced in log compute: run budgets ``C_i = C_0 r^i`` (``r`` =
  ``compute_ratio``), every size gets one run per aspect ratio, and ``C_0`` is set so
  all runs together spend the budget.
* Each size's target parameter count is ``N_i = sqrt(C_i / (6 k))`` for ``k`` tokens
  per parameter; per aspect ratio (standard, wide = x spread, deep = / spread) the
  shape nearest that N and aspect is taken from the family's feasible grid (no shape
  twice). Every run of a size spends the same compute, so wide and deep runs differ
  in N and D at fixed C: an isoFLOP slice per size.
* Constant LR lets one run give many points: evaluations at ``n_evals`` token counts
  spaced in log tokens from ``tokens / eval_span`` to the end.
* An LR / batch grid (``trainer.grid``) trains every model once per grid point, on
  the same tokens; the budget is shared among all of them (the grid costs its size).
* An MoE sweep (``experts`` > 0, ``trainer.moe_sweep``) trains every model once per
  expert granularity, its compute counted as 6 N_active per token.
* The time cap bounds the budget: with ``slots`` devices at ``throughput`` FLOP/s each,
  at most ``(0.9 x cap x slots - runs x start-up) x throughput`` FLOPs are planned.
  A run that alone would outlast the cap gets several devices (a torchrun DDP job).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from flopwise.fitting.counting import ArchSpec
from flopwise.fitting.schedules import gemstones_lr
from flopwise.protocol.sweep import ASPECTS, SweepRequest
from flopwise.trainer.families import FAMILIES, Family
from flopwise.trainer.grid import grid_points, point_suffix, tokens_quantum
from flopwise.trainer.moe_sweep import (
    check_moe,
    granularity_points,
    granularity_suffix,
    moe_fields,
    moe_spec,
    run_size,
)
from flopwise.trainer.shapes import pick_family, shape_models

__all__ = ["ASPECTS", "Plan", "PlanConfig", "PlannedRun", "StepTime", "make_plan", "makespan"]

CAP_MARGIN = 0.9
"""Share of the time cap the plan fills (leaves room for start-up and evaluation)."""
STARTUP_SECONDS = 5.0
"""Estimated start-up of one trainer process (interpreter, torch, data, first step)."""
EVAL_SEQUENCES = 64
"""Held-out sequences per evaluation (``TrainConfig.eval_sequences``' default), for the
estimate: an evaluation costs a forward pass, a third of a training step's FLOPs."""


_REQUEST = {name: f.default for name, f in SweepRequest.model_fields.items() if not f.is_required()}
"""The request's defaults are the planner's (declared once, in ``SweepRequest``)."""


@dataclass(frozen=True, kw_only=True)
class PlanConfig:
    """What a sweep is asked to do and with what: the planner's view of a
    ``SweepRequest`` (``trainer.sweep.plan_config``) plus what the host fills in."""

    dataset: str
    """Dataset the runs are filed under."""
    flops: float
    """Total training FLOPs over all runs (Gemstones' count)."""
    time_cap_hours: float
    """Wall-clock limit of the whole sweep."""
    slots: int = 1
    """Devices that run jobs side by side (GPUs, or CPU job slots)."""
    throughput: float
    """Sustained training FLOP/s of one device, for time estimates."""
    family: str = _REQUEST["family"]
    """Model family (tiny, small, gemstones), or auto from the budget."""
    vocab_size: int = 256
    """Token ids in the data."""
    n_sizes: int = _REQUEST["sizes"]
    """Model sizes, spaced in log compute."""
    compute_ratio: float = _REQUEST["compute_ratio"]
    """Compute of one size over the next smaller one."""
    aspects: tuple[str, ...] = _REQUEST["aspects"]
    """Aspect ratios per size: standard, wide, deep."""
    aspect_spread: float = _REQUEST["aspect_spread"]
    """wide = standard x spread, deep = standard / spread (width/depth); 0: the family's."""
    tokens_per_param: float = _REQUEST["tokens_per_param"]
    """Tokens per parameter that size the models (Chinchilla's ~20)."""
    n_evals: int = _REQUEST["evals"]
    """Evaluation points per run, spaced in log tokens (1: only the end of the run)."""
    eval_span: float = _REQUEST["eval_span"]
    """The first evaluation is at tokens / eval_span."""
    lr_base: float = _REQUEST["lr_base"]
    """Gemstones LR numerator; 0 means the family's."""
    seed: int = _REQUEST["seed"]
    """Seed of every run (init and data order)."""
    max_runs: int = _REQUEST["max_runs"]
    """At most this many runs (fewer sizes, then fewer aspects); 0: no limit."""
    wsd_branches: int = _REQUEST["wsd_branches"]
    """Warmup-stable-decay: cooldown branches per model (``trainer.wsd``); 0: off."""
    cooldown_fraction: float = _REQUEST["cooldown_fraction"]
    """Share of each branch's tokens its cooldown takes."""
    cooldown_shape: str = _REQUEST["cooldown_shape"]
    """Each cooldown's shape: linear or 1-sqrt."""
    lr_grid: tuple[float, ...] = _REQUEST["lr_grid"]
    """Peak LRs every model is trained at (``trainer.grid``); empty: the family's rule."""
    batch_grid: tuple[int, ...] = _REQUEST["batch_grid"]
    """Global batches (sequences) every model is trained at; empty: the family's."""
    experts: int = _REQUEST["experts"]
    """MoE: routed experts per MoE layer at granularity 1 (``trainer.moe_plan``); 0: dense."""
    top_k: int = _REQUEST["top_k"]
    """MoE: routed experts per token at granularity 1."""
    granularities: tuple[int, ...] = _REQUEST["granularities"]
    """MoE: every model is trained at each granularity; empty: 1."""

    def __post_init__(self) -> None:
        _check(self.dataset.strip() != "", "dataset", "must be a non-empty string")
        for name in ("flops", "time_cap_hours", "throughput", "tokens_per_param"):
            value = getattr(self, name)
            _check(math.isfinite(value) and value > 0, name, f"must be positive, got {value!r}")
        for name, low in (("slots", 1), ("n_sizes", 1), ("n_evals", 1), ("vocab_size", 2)):
            value = getattr(self, name)
            _check(isinstance(value, int) and value >= low, name, f"must be >= {low}")
        _check(self.compute_ratio > 1, "compute_ratio", "must exceed 1")
        _check(
            self.aspect_spread == 0 or self.aspect_spread > 1,
            "aspect_spread",
            "must exceed 1 (or be 0: the family's)",
        )
        _check(self.eval_span >= 1, "eval_span", "must be >= 1")
        _check(self.lr_base >= 0, "lr_base", "must be >= 0")
        _check(
            self.family == "auto" or self.family in FAMILIES,
            "family",
            f"must be auto or one of {', '.join(FAMILIES)}",
        )
        _check(isinstance(self.max_runs, int) and self.max_runs >= 0, "max_runs", "must be >= 0")
        _check(all(lr > 0 for lr in self.lr_grid), "lr_grid", "must hold positive rates")
        _check(all(b >= 1 for b in self.batch_grid), "batch_grid", "must hold batches >= 1")
        check_moe(self.experts, self.top_k, self.granularities)
        bad = [a for a in self.aspects if a not in ASPECTS]
        _check(bool(self.aspects) and not bad, "aspects", f"must be among {', '.join(ASPECTS)}")

    def request_hash(self) -> str:
        """Identity of the request, throughput aside (a re-measured machine is the same
        sweep): a rerun with the same request resumes the same sweep."""
        data = asdict(self)
        data.pop("throughput")
        for name in _LATER:  # absent when at their defaults: older sweeps keep their ids
            if data[name] == _REQUEST[name]:
                data.pop(name)
        return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:10]


_LATER = ("lr_grid", "batch_grid", "experts", "top_k", "granularities")
"""Fields added after sweeps were first planned (a request hash leaves them out at their
defaults)."""


def _check(ok: bool, name: str, message: str) -> None:
    if not ok:
        raise ValueError(f"{name} {message}")


@dataclass(frozen=True, kw_only=True)
class PlannedRun:
    """One run of the plan."""

    run_id: str
    size: int
    """Index of the size (0 = smallest compute)."""
    aspect: str
    arch: ArchSpec
    params: int
    tokens: int
    flops: float
    """Training FLOPs of the run (tokens x Gemstones FLOPs/token)."""
    eval_tokens: tuple[int, ...]
    lr: float
    est_seconds: float
    """Estimated wall time on ``n_devices`` devices."""
    n_devices: int = 1
    cooldown_fraction: float = 0.0
    """Share of the run, at its end, over which the LR decays (a WSD branch)."""
    branch_of: str = ""
    """The trunk run whose kept checkpoint this branch starts from (``trainer.wsd``)."""
    start_tokens: int = 0
    """Tokens of that checkpoint (the branch trains from there)."""
    keep_tokens: tuple[int, ...] = ()
    """Token counts at which this run keeps a checkpoint for its branches."""
    batch_size: int = 0
    """Sequences per optimizer step (a batch grid's point; else the family's)."""
    grid_of: str = ""
    """A grid sweep's run: the model (shape and tokens) whose grid point it is."""
    experts: int = 0
    """An MoE run: routed experts per MoE layer (``trainer.moe_plan``); 0: dense."""
    top_k: int = 0
    """An MoE run: routed experts per token."""
    expert_ffn_size: int = 0
    """An MoE run: one expert's MLP width (the dense MLP's / the granularity)."""


@dataclass(frozen=True, kw_only=True)
class Plan:
    """A sweep: its runs and what it will cost."""

    config: PlanConfig
    sweep_id: str
    family: str
    batch_size: int
    warmup_tokens: int
    budget_flops: float
    """FLOPs actually planned (the budget, or less when the time cap binds)."""
    limited_by: str
    """'budget' or 'time cap'."""
    est_wall_seconds: float
    runs: tuple[PlannedRun, ...] = field(default_factory=tuple)
    full_flops: float = 0.0
    """A WSD plan: the FLOPs of training each branch's point to its end from scratch."""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for run in out["runs"]:
            run["arch"].pop("_derived", None)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        config = dict(data["config"])
        config["aspects"] = tuple(config["aspects"])
        for name in ("lr_grid", "batch_grid", "granularities"):
            config[name] = tuple(config.get(name, ()))
        runs = []
        for run in data["runs"]:
            run = dict(run)
            run["arch"] = ArchSpec(**run["arch"])
            run["eval_tokens"] = tuple(run["eval_tokens"])
            run["keep_tokens"] = tuple(run.get("keep_tokens", ()))
            run.setdefault("batch_size", data["batch_size"])
            runs.append(PlannedRun(**run))
        rest = {k: v for k, v in data.items() if k not in ("config", "runs")}
        return cls(config=PlanConfig(**config), runs=tuple(runs), **rest)

    def table(self) -> str:
        """The plan as a person reads it before saying yes."""
        c = self.config
        head = (
            f"sweep {self.sweep_id} ({c.dataset}): {len(self.runs)} runs, family {self.family}, "
            f"{self.budget_flops:.3g} FLOPs (limited by {self.limited_by}), "
            f"est. {self.est_wall_seconds / 60:.1f} min on {c.slots} device(s)"
        )
        if self.full_flops:
            points = sum(1 for r in self.runs if r.branch_of)
            head += (
                f"\n  warmup-stable-decay: {points} cooldown points for {self.budget_flops:.3g} "
                f"FLOPs; trained each to its end they would cost {self.full_flops:.3g} "
                f"({1 - self.budget_flops / self.full_flops:.0%} saved)"
            )
        points = len(grid_points(c.lr_grid, c.batch_grid))
        if points > 1:
            models = len({r.grid_of for r in self.runs})
            head += (
                f"\n  LR x batch grid: {points} points per model ({_listed(c.lr_grid, 'LR')} x "
                f"{_listed(c.batch_grid, 'batch')}), {models} models: the grid costs {points}x "
                f"the runs, each point gets 1/{points} of the compute its model would alone"
            )
        if c.experts:
            head += (
                f"\n  mixture of experts: {c.experts} experts, top-{c.top_k}, at granularities "
                f"{', '.join(map(str, granularity_points(c.experts, c.granularities)))} (x G "
                f"experts, top-k x G, each 1/G of the MLP); params: total non-embedding"
            )
        rows = [
            f"  {'run':<44}{'width':>6}{'depth':>6}{'params':>10}{'tokens':>10}"
            f"{'FLOPs':>10}{'LR':>9}{'batch':>6}{'evals':>6}{'est.':>9}{'dev':>4}"
        ]
        for r in self.runs:
            rows.append(
                f"  {r.run_id:<44}{r.arch.width:>6}{r.arch.depth:>6}{r.params:>10.3g}"
                f"{r.tokens:>10.3g}{r.flops:>10.3g}{r.lr:>9.3g}{r.batch_size:>6}"
                f"{len(r.eval_tokens):>6}{r.est_seconds / 60:>8.1f}m{r.n_devices:>4}"
            )
        return "\n".join([head, *rows])


def _listed(values: tuple[float, ...] | tuple[int, ...], what: str) -> str:
    if not values:
        return f"the family's {what}"
    return f"{what} " + ", ".join(f"{v:g}" for v in values)


StepTime = Callable[[ArchSpec, int], float]
"""Predicted seconds per optimizer step of a model at a global batch of tokens (one
device): a fitted throughput model (``fitting.throughput.spec_step_seconds``)."""


def make_plan(config: PlanConfig, step_time: StepTime | None = None) -> Plan:
    """Plan a sweep (see the module docstring); ``ValueError`` when the budget cannot
    buy even the smallest sensible run. With ``step_time`` the runs' time estimates come
    from it (shape-dependent) rather than from the constant ``config.throughput``."""
    config = _within_max_runs(config)
    points = grid_points(config.lr_grid, config.batch_grid)
    moe = granularity_points(config.experts, config.granularities)
    n_runs = config.n_sizes * len(config.aspects) * len(points) * len(moe)
    device_seconds = CAP_MARGIN * config.time_cap_hours * 3600.0 * config.slots
    cap_flops = max(device_seconds - n_runs * STARTUP_SECONDS, 0.0) * config.throughput
    budget = min(config.flops, cap_flops)
    weights = config.compute_ratio ** np.arange(config.n_sizes, dtype=float)
    run_flops = budget / (len(config.aspects) * len(points) * len(moe) * weights.sum()) * weights
    targets = np.sqrt(run_flops / (6.0 * config.tokens_per_param))
    fam = pick_family(config.family, config.vocab_size, float(targets[-1]))
    sweep_id = config.request_hash()[:8]
    used: set[tuple[int, int]] = set()
    runs = []
    for size, (flops, target) in enumerate(zip(run_flops, targets, strict=True)):
        spread = config.aspect_spread or fam.aspect_spread
        for aspect, w, d, g in shape_models(fam, float(target), config.aspects, spread, used, moe):
            model = f"{sweep_id}-{aspect}-w{w}-d{d}{granularity_suffix(g)}"
            for lr, batch in points:
                run = _run(config, fam, model + point_suffix(lr, batch), size, aspect,
                           fam.arch.spec(w, d), float(flops), step_time, lr=lr, batch=batch, g=g)  # fmt: skip
                runs.append(replace(run, grid_of=model) if len(points) > 1 else run)
    runs = [_with_devices(r, config) for r in runs]
    return Plan(
        config=config,
        sweep_id=sweep_id,
        family=fam.name,
        batch_size=fam.batch_size,
        warmup_tokens=fam.warmup_steps * fam.tokens_per_step,
        budget_flops=sum(r.flops for r in runs),
        limited_by="budget" if config.flops <= cap_flops else "time cap",
        est_wall_seconds=makespan(runs, config.slots),
        runs=tuple(runs),
    )


def _within_max_runs(config: PlanConfig) -> PlanConfig:
    """Fewer sizes (then aspects) when ``max_runs`` is below sizes x aspects (x the grid's
    points and granularities, which are kept)."""
    per_model = len(grid_points(config.lr_grid, config.batch_grid))
    models = config.max_runs // (per_model * len(granularity_points(config.experts,
                                                                    config.granularities)))  # fmt: skip
    if not config.max_runs or config.n_sizes * len(config.aspects) <= models:
        return config
    aspects = config.aspects[: max(1, models)]
    return replace(config, aspects=aspects, n_sizes=max(1, models // len(aspects)))


def _run(
    config: PlanConfig,
    fam: Family,
    run_id: str,
    size: int,
    aspect: str,
    spec: ArchSpec,
    flops: float,
    step_time: StepTime | None = None,
    *,
    lr: float = 0.0,
    batch: int = 0,
    g: int = 0,
) -> PlannedRun:
    """One run of ``flops`` (at a grid point's peak ``lr`` and ``batch`` when given, an
    MoE model at granularity ``g`` when not 0), its tokens whole steps at every batch of
    the grid."""
    batch = batch or fam.batch_size
    tps = batch * spec.seq_len
    quantum = tokens_quantum(config.batch_grid or (batch,), spec.seq_len)
    moe = moe_fields(spec, config.experts, config.top_k, g)
    params, fpt = run_size(spec, moe_spec(spec, **moe))
    warmup_steps = math.ceil(fam.warmup_steps * fam.tokens_per_step / tps)
    min_steps = 4 * warmup_steps
    steps = math.ceil(flops / fpt / quantum) * (quantum // tps)
    if steps < min_steps:
        raise ValueError(
            f"flops: the budget buys {steps} steps of {run_id}, fewer than the "
            f"{min_steps} a run needs; give about {min_steps / max(steps, 1):.2g}x the budget "
            f"(or fewer sizes)"
        )
    first = max(steps / config.eval_span, 2 * warmup_steps)
    points = np.geomspace(first, steps, config.n_evals) if config.n_evals > 1 else [steps]
    evals = sorted({round(s) * tps for s in points})
    work_tokens = steps * tps + len(evals) * EVAL_SEQUENCES * spec.seq_len / 3
    seconds_per_token = fpt / config.throughput
    if step_time is not None:
        seconds_per_token = step_time(spec, tps) / tps
    return PlannedRun(
        run_id=run_id,
        size=size,
        aspect=aspect,
        arch=spec,
        params=params,
        tokens=steps * tps,
        flops=steps * tps * fpt,
        eval_tokens=tuple(evals),
        lr=lr or gemstones_lr(spec.width, spec.depth, config.lr_base or fam.lr_base),
        est_seconds=STARTUP_SECONDS + work_tokens * seconds_per_token,
        batch_size=batch,
        **moe,
    )


def _with_devices(run: PlannedRun, config: PlanConfig) -> PlannedRun:
    """Give a run that alone would outlast the time cap several devices (DDP)."""
    cap = CAP_MARGIN * config.time_cap_hours * 3600.0
    if run.est_seconds <= cap or config.slots == 1:
        return run
    k = min(config.slots, 2 ** math.ceil(math.log2(run.est_seconds / cap)))
    while run.batch_size % k:
        k -= 1
    return replace(run, n_devices=k, est_seconds=run.est_seconds / (k * CAP_MARGIN))


def makespan(runs: list[PlannedRun], slots: int) -> float:
    """Wall time of longest-first list scheduling of the runs on ``slots`` devices."""
    free = [0.0] * slots
    for run in sorted(runs, key=lambda r: -r.est_seconds):
        free.sort()
        start = free[run.n_devices - 1]
        for i in range(run.n_devices):
            free[i] = start + run.est_seconds
    return max(free)
