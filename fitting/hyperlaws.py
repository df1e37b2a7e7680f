"""Hyper-parameter laws as data: which batch size and learning rate to start from.

A :class:`HyperLaw` names its source, what its N counts, its batch unit (tokens, or
sequences of a stated length) and the range it was fitted on, like a loss law
(docs/laws.md §18). Four are built in (:data:`BUILTIN_HYPER_LAWS`): DeepSeek LLM 2024
(in C = M x D), Step Law 2025 (in N and D), Porian et al. 2024's tuned map (in N) and
the OLMo ladder's rule (in N); ``flopwise fit-hyperparams`` fits a ``power-law`` one
from a sweep (:mod:`fitting.fit.hyper`). :func:`recommend` evaluates one law;
:func:`with_comparison` evaluates them all and says where they disagree by more than
2x, as every answer must.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

import numpy as np

from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.hyperparams import (
    SOURCE,
    Hyperparameters,
    deepseek_batch_size,
    deepseek_learning_rate,
    olmo_ladder_batch_sequences,
    olmo_ladder_learning_rate,
    porian_batch_sequences,
    porian_learning_rate,
    step_law_batch_size,
    step_law_learning_rate,
)
from flopwise.fitting.laws import Domain, NDefinition
from flopwise.fitting.shape import law_params

__all__ = [
    "BUILTIN_HYPER_LAWS",
    "DEFAULT_HYPER_LAW",
    "DISAGREEMENT",
    "HyperLaw",
    "HyperLawId",
    "builtin_hyper",
    "disagreement",
    "hyper_from_dict",
    "hyper_to_dict",
    "recommend",
    "shape_hyperparameters",
    "with_comparison",
]

HyperLawId = Literal["deepseek-2024", "step-law-2025", "porian-2024-tuned", "olmo-ladder-2024"]
"""The built-in hyper-parameter laws' ids (a closed set: the CLI offers them as choices)."""
DEFAULT_HYPER_LAW: HyperLawId = "deepseek-2024"
DISAGREEMENT = 2.0
"""Laws whose answers differ by more than this factor are named in a caveat."""
POWER_LAW_CONSTANTS = ("lr_log_k", "lr_n", "lr_d", "batch_log_k", "batch_n", "batch_d")
"""A fitted law's constants: ``ln LR = lr_log_k + lr_n ln N + lr_d ln D``, and the same
for the batch in tokens (the order its bootstrap draws store them in)."""


@dataclass(frozen=True, kw_only=True)
class HyperLaw:
    """A law for the peak learning rate and the global batch."""

    id: str
    form: str
    """How it is evaluated: ``deepseek``, ``step-law``, ``porian-map``, ``olmo-ladder``
    or ``power-law`` (fitted)."""
    title: str
    source: str
    n_definition: NDefinition
    n_counts: str
    """What its N counts, in words."""
    batch_unit: str
    """``tokens``, or ``sequences`` (of ``sequence_length`` tokens)."""
    sequence_length: int
    """The context length it was fitted at."""
    domain: Domain = field(default_factory=Domain)
    constants: Mapping[str, float] = field(default_factory=dict)
    draws: tuple[tuple[float, ...], ...] | None = None
    """Bootstrap draws of the constants (fitted laws), one row each."""
    notes: tuple[str, ...] = ()
    version: int = 1


Evaluation = tuple[float, float, list[str]]
"""(learning rate, batch in tokens, caveats)."""


def _deepseek(law: HyperLaw, n: float, d: float, seq: int) -> Evaluation:
    c = n * d
    return float(deepseek_learning_rate(c)), float(deepseek_batch_size(c)), []


def _step(law: HyperLaw, n: float, d: float, seq: int) -> Evaluation:
    return float(step_law_learning_rate(n, d)), float(step_law_batch_size(d)), []


def _porian(law: HyperLaw, n: float, d: float, seq: int) -> Evaluation:
    notes = []
    if seq != law.sequence_length:
        notes.append(
            f"{law.id} was tuned on sequences of {law.sequence_length} tokens; its batch "
            f"is kept in tokens for sequences of {seq}"
        )
    batch = float(porian_batch_sequences(n)) * law.sequence_length
    return float(porian_learning_rate(n)), batch, notes


def _olmo(law: HyperLaw, n: float, d: float, seq: int) -> Evaluation:
    notes = []
    if seq not in (2048, 4096):
        notes.append(
            f"{law.id} is written for sequences of 2048 or 4096 tokens: evaluated at its "
            f"own {law.sequence_length}, its batch kept in tokens"
        )
        seq = law.sequence_length
    batch = float(olmo_ladder_batch_sequences(n, seq)) * seq
    return float(olmo_ladder_learning_rate(n, seq)), batch, notes


def _power(law: HyperLaw, n: float, d: float, seq: int) -> Evaluation:
    k = law.constants
    lr = math.exp(k["lr_log_k"] + k["lr_n"] * math.log(n) + k["lr_d"] * math.log(d))
    batch = math.exp(k["batch_log_k"] + k["batch_n"] * math.log(n) + k["batch_d"] * math.log(d))
    return lr, batch, []


EVALUATORS: dict[str, Callable[[HyperLaw, float, float, int], Evaluation]] = {
    "deepseek": _deepseek,
    "step-law": _step,
    "porian-map": _porian,
    "olmo-ladder": _olmo,
    "power-law": _power,
}
"""How each form is evaluated at (N as the law counts it, D, sequence length)."""


def _outside(law: HyperLaw, n: float, d: float) -> list[str]:
    out = []
    name = "model scale M" if law.n_definition is NDefinition.MODEL_SCALE else "params"
    for what, value, rng in (
        (name, n, law.domain.params),
        ("tokens", d, law.domain.tokens),
        ("compute M x D", n * d, law.domain.flops),
    ):
        if rng is not None and not rng[0] <= value <= rng[1]:
            span = f"up to {rng[1]:.3g}" if rng[0] <= 0 else f"{rng[0]:.3g} to {rng[1]:.3g}"
            out.append(
                f"{what} {value:.3g} lies outside the range {law.id} was fitted on "
                f"({span}): its learning rate and batch are an extrapolation"
            )
    return out


def _bands(law: HyperLaw, n: float, d: float, level: float) -> tuple[Any, Any]:
    if not law.draws:
        return None, None
    k = np.asarray(law.draws, dtype=float)
    x = np.array([1.0, math.log(n), math.log(d)])
    lr, batch = np.exp(k[:, 0:3] @ x), np.exp(k[:, 3:6] @ x)
    q = (100 * (1 - level) / 2, 100 * (1 + level) / 2)
    lo_lr, hi_lr = np.percentile(lr, q)
    lo_b, hi_b = np.percentile(batch, q)
    return (float(lo_lr), float(hi_lr)), (float(lo_b), float(hi_b))


def recommend(
    law: HyperLaw,
    params: float,
    tokens: float,
    *,
    sequence_length: int | None = None,
    level: float = 0.9,
) -> Hyperparameters:
    """``law``'s learning rate and batch for N = ``params`` (as the law counts N: DeepSeek's
    model scale M for ``deepseek-2024``) trained on ``tokens``; the batch also in
    sequences of ``sequence_length`` (the law's own by default)."""
    for name, value in (("params", params), ("tokens", tokens)):
        if not (math.isfinite(value) and value > 0):
            raise ArgumentError(name, f"must be a positive finite number, got {value!r}")
    seq = law.sequence_length if sequence_length is None else int(sequence_length)
    if seq < 1:
        raise ArgumentError("sequence_length", f"must be a positive integer, got {seq}")
    if law.form not in EVALUATORS:
        raise ArgumentError("hyperparameters", f"{law.id}: unknown form {law.form!r}")
    lr, batch, notes = EVALUATORS[law.form](law, float(params), float(tokens), seq)
    if not (math.isfinite(lr) and math.isfinite(batch) and lr > 0 and batch > 0):
        raise ArgumentError("params", f"{law.id} gives no finite answer at this size")
    lr_band, batch_band = _bands(law, float(params), float(tokens), level)
    return Hyperparameters(
        batch_size_tokens=batch,
        learning_rate=lr,
        compute=float(params) * float(tokens) if law.form == "deepseek" else None,
        source=law.source,
        law=law.id,
        batch_size_sequences=batch / seq,
        sequence_length=seq,
        params=float(params),
        n_definition=str(law.n_definition),
        learning_rate_interval=lr_band,
        batch_size_interval=batch_band,
        caveats=(*law.notes, *notes, *_outside(law, float(params), float(tokens))),
    )


def disagreement(answers: Sequence[Hyperparameters]) -> str | None:
    """A caveat naming every law when their learning rates or batches span more than
    :data:`DISAGREEMENT` (``None`` when they agree)."""
    parts = []
    for what, key, fmt in (
        ("learning rates", "learning_rate", "{:.3g}"),
        ("batches", "batch_size_tokens", "{:.3g} tokens"),
    ):
        values = [getattr(a, key) for a in answers]
        if len(values) > 1 and max(values) / min(values) > DISAGREEMENT:
            listed = ", ".join(
                f"{a.law} {fmt.format(v)}" for a, v in zip(answers, values, strict=True)
            )
            parts.append(f"{what} span {max(values) / min(values):.1f}x ({listed})")
    if not parts:
        return None
    return "the hyper-parameter laws disagree by more than 2x: " + "; ".join(parts)


def with_comparison(
    law: HyperLaw,
    params_of: Callable[[HyperLaw], float],
    tokens: float,
    *,
    sequence_length: int | None = None,
    others: Sequence[HyperLaw] | None = None,
) -> tuple[Hyperparameters, list[Hyperparameters]]:
    """``law``'s answer (with a disagreement caveat where the laws differ by more than
    2x) and every law's answer at the same model, each at N as it counts N
    (``params_of``)."""
    laws = list(BUILTIN_HYPER_LAWS.values() if others is None else others)
    if all(other.id != law.id for other in laws):
        laws.append(law)
    answers = [
        recommend(other, params_of(other), tokens, sequence_length=sequence_length)
        for other in laws
    ]
    chosen = next(a for a in answers if a.law == law.id)
    note = disagreement(answers)
    if note is not None:
        chosen = replace(chosen, caveats=(*chosen.caveats, note))
    return chosen, answers


def shape_hyperparameters(
    law: HyperLaw, family: ArchFamily, width: int, depth: int, tokens: float
) -> Hyperparameters:
    """``law``'s answer for one concrete shape trained on ``tokens``: each law's N counted
    on the shape as that law counts it, compared with every built-in law."""

    def params_of(other: HyperLaw) -> float:
        return float(law_params(other.n_definition, family, width, depth))

    chosen, _ = with_comparison(law, params_of, tokens, sequence_length=family.seq_len)
    return chosen


def hyper_to_dict(law: HyperLaw) -> dict[str, Any]:
    """A JSON-ready dict of ``law`` (what ``--save-law`` writes)."""
    out = {f.name: getattr(law, f.name) for f in fields(law)}
    out["n_definition"] = str(law.n_definition)
    out["domain"] = {k: None if v is None else list(v) for k, v in vars(law.domain).items()}
    out["constants"] = dict(law.constants)
    out["draws"] = None if law.draws is None else [list(r) for r in law.draws]
    out["notes"] = list(law.notes)
    out["kind"] = "hyperparameters"
    return out


def hyper_from_dict(data: Mapping[str, Any]) -> HyperLaw:
    """Inverse of :func:`hyper_to_dict` (``ValueError`` naming what is wrong)."""
    if data.get("kind") != "hyperparameters":
        raise ValueError("not a hyper-parameter law (its 'kind' must be 'hyperparameters')")
    kwargs = {k: v for k, v in data.items() if k != "kind"}
    dom = kwargs.get("domain") or {}
    kwargs["domain"] = Domain(**{k: None if v is None else tuple(v) for k, v in dom.items()})
    kwargs["n_definition"] = NDefinition(kwargs["n_definition"])
    kwargs["constants"] = {k: float(v) for k, v in (kwargs.get("constants") or {}).items()}
    draws = kwargs.get("draws")
    kwargs["draws"] = None if draws is None else tuple(tuple(map(float, r)) for r in draws)
    kwargs["notes"] = tuple(kwargs.get("notes") or ())
    law = HyperLaw(**kwargs)
    if law.form not in EVALUATORS:
        raise ValueError(f"unknown form {law.form!r}")
    if law.form == "power-law" and set(law.constants) != set(POWER_LAW_CONSTANTS):
        raise ValueError(f"a power-law hyper-parameter law needs {', '.join(POWER_LAW_CONSTANTS)}")
    return law


BUILTIN_HYPER_LAWS: dict[str, HyperLaw] = {
    "deepseek-2024": HyperLaw(
        id="deepseek-2024",
        form="deepseek",
        title="DeepSeek LLM 2024, Eq. 1 (in C = M x D)",
        source=SOURCE,
        n_definition=NDefinition.MODEL_SCALE,
        n_counts="DeepSeek's model scale M: non-embedding FLOPs per token, attention included",
        batch_unit="tokens",
        sequence_length=4096,
        domain=Domain(flops=(1e17, 2e19)),
    ),
    "step-law-2025": HyperLaw(
        id="step-law-2025",
        form="step-law",
        title="Step Law (Li et al. 2025, Predictable Scale: Part I)",
        source=(
            "Li et al. 2025, arXiv:2503.04715: eta_opt = 1.79 N^-0.713 D^0.307, "
            "B_opt = 0.58 D^0.571 tokens; N non-embedding, D tokens; AdamW, constant-then-"
            "decay to a fixed 1e-5 final LR, sequences of 2048"
        ),
        n_definition=NDefinition.NON_EMBEDDING,
        n_counts="non-embedding parameters",
        batch_unit="tokens",
        sequence_length=2048,
        domain=Domain(params=(0.0, 1e9), tokens=(0.0, 1e11)),
        notes=(
            "step-law-2025's range: its largest grids are 1B parameters on 100B tokens "
            "(paper Fig. 1); the low end of its sweep is not stated here",
        ),
    ),
    "porian-2024-tuned": HyperLaw(
        id="porian-2024-tuned",
        form="porian-map",
        title="Porian et al. 2024, tuned LR and batch per model size (interpolated in log N)",
        source=(
            "Porian et al. 2024, arXiv:2406.19146: the tuned map params_lr_map / "
            "params_bs_map of formll/resolving-scaling-law-discrepancies @ 3489db51 "
            "(make_paper.ipynb), 16 sizes; RefinedWeb, AdamW with tuned beta2, constant LR"
        ),
        n_definition=NDefinition.WITH_HEAD,
        n_counts="every matrix that costs FLOPs: the blocks plus the output head",
        batch_unit="sequences",
        sequence_length=2048,
        domain=Domain(params=(5173248.0, 901726208.0)),
    ),
    "olmo-ladder-2024": HyperLaw(
        id="olmo-ladder-2024",
        form="olmo-ladder",
        title="OLMo ladder rule (Bhagia et al. 2024), after Porian et al.'s 108M anchor",
        source=(
            "allenai/OLMo-ladder src/ladder/ladder.py: LR = 0.0047 (N/108M)^(-1/3) (/4 at "
            "4096), batch = 160 (N/108M)^(2/3) sequences of 2048 (halved at 4096); N as the "
            "ladder counts it; ladder sizes 190M to 3B"
        ),
        n_definition=NDefinition.WITH_HEAD,
        n_counts=(
            "every parameter but one of the two untied V x d matrices (the blocks plus one "
            "V x d matrix, as flopwise counts with_head)"
        ),
        batch_unit="sequences",
        sequence_length=4096,
        domain=Domain(params=(190354176.0, 3169537280.0)),
    ),
}
"""The built-in hyper-parameter laws by id (docs/laws.md §18)."""


def builtin_hyper(ref: str) -> HyperLaw:
    """The built-in hyper-parameter law ``ref`` (``ArgumentError('hyperparameters')``
    naming the ids when there is none)."""
    try:
        return BUILTIN_HYPER_LAWS[ref]
    except KeyError:
        raise ArgumentError(
            "hyperparameters",
            f"no hyper-parameter law {ref!r}; built in: {', '.join(BUILTIN_HYPER_LAWS)}",
        ) from None
