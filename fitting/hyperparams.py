"""Batch size and learning rate: one pure function per published formula.

DeepSeek LLM 2024 (in C = M x D), Step Law (Li et al. 2025, in N and D), Porian et al.
2024's tuned map (in N, interpolated) and the OLMo ladder's rule (in N). Which N each
counts, its batch unit and fitted range live with the laws as data
(:mod:`fitting.hyperlaws`); docs/laws.md §5.1 and §18 give the worked numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms import power_law

__all__ = [
    "PORIAN_TUNED",
    "Hyperparameters",
    "deepseek_batch_size",
    "deepseek_hyperparameters",
    "deepseek_learning_rate",
    "olmo_ladder_batch_sequences",
    "olmo_ladder_learning_rate",
    "porian_batch_sequences",
    "porian_learning_rate",
    "step_law_batch_size",
    "step_law_learning_rate",
]

SOURCE = (
    "DeepSeek LLM (Bi et al. 2024) Eq. 1: eta_opt = 0.3118 C^-0.1250, B_opt = 0.2920 C^0.3271 "
    "tokens, C = M x D with M from Eq. 2; fitted on 1e17-2e19 FLOPs, multi-step schedule, AdamW"
)


def deepseek_learning_rate(compute: Any) -> Any:
    """DeepSeek LLM 2024, §3.1 Eq. 1: ``eta_opt = 0.3118 C^-0.1250``.

    The 7B model (C = 8.456e22) gets 4.25e-4; DeepSeek trained it at 4.2e-4.
    """
    return power_law(compute, k=0.3118, a=-0.1250)


def deepseek_batch_size(compute: Any) -> Any:
    """DeepSeek LLM 2024, §3.1 Eq. 1: ``B_opt = 0.2920 C^0.3271`` tokens.

    The 7B model (C = 8.456e22) gets 9.22e6 tokens; DeepSeek used 9.44e6.
    """
    return power_law(compute, k=0.2920, a=0.3271)


def step_law_learning_rate(params: Any, tokens: Any) -> Any:
    """Step Law (Li et al. 2025, *Predictable Scale: Part I*, arXiv:2503.04715, its
    optimal learning-rate law): ``eta_opt = 1.79 N^-0.713 D^0.307``, N non-embedding
    parameters, D training tokens.

    0.44B parameters on 10B tokens get 1.446e-3.
    """
    n, d = np.asarray(params, dtype=float), np.asarray(tokens, dtype=float)
    return 1.79 * n**-0.713 * d**0.307


def step_law_batch_size(tokens: Any) -> Any:
    """Step Law (Li et al. 2025, arXiv:2503.04715, its optimal batch-size law):
    ``B_opt = 0.58 D^0.571`` tokens, whatever the model size.

    10B tokens get a batch of 2.97e5 tokens (145 sequences of 2,048).
    """
    return power_law(tokens, k=0.58, a=0.571)


OLMO_REFERENCE_PARAMS = 108e6
"""The OLMo ladder's anchor: Porian et al.'s tuned 108M model (ladder.py, ``get_batch_size``)."""
OLMO_SEQUENCE_LENGTHS = (2048, 4096)
"""The context lengths the ladder's rule is written for (ladder.py asserts them)."""


def _olmo_length(sequence_length: int) -> int:
    if sequence_length not in OLMO_SEQUENCE_LENGTHS:
        raise ArgumentError(
            "sequence_length",
            f"the OLMo ladder rule is written for sequences of 2048 or 4096 tokens, "
            f"got {sequence_length}",
        )
    return sequence_length


def olmo_ladder_learning_rate(params: Any, sequence_length: int = 2048) -> Any:
    """The OLMo ladder's peak learning rate (Bhagia et al. 2024, arXiv:2412.04403;
    allenai/OLMo-ladder ``src/ladder/ladder.py``): ``0.0047 (N / 108M)^(-1/3)``, divided
    by 4 at a sequence length of 4096. N as the ladder counts it.

    The 1B ladder model (N = 1,279,395,840, sequences of 4096) gets 5.154e-4, its logged
    peak learning rate.
    """
    scale = np.asarray(params, dtype=float) / OLMO_REFERENCE_PARAMS
    lr = 0.0047 * scale ** (-1.0 / 3.0)
    return lr / 4.0 if _olmo_length(sequence_length) == 4096 else lr


def olmo_ladder_batch_sequences(
    params: Any, sequence_length: int = 2048, divisor: int | None = None
) -> Any:
    """The OLMo ladder's global batch in sequences (ladder.py ``get_batch_size``):
    ``160 (N / 108M)^(2/3)`` sequences of 2048, halved at 4096 (the same tokens), then
    rounded to a multiple of ``divisor`` (the launch flag ``--batch_size_divisor``).

    The 1B model at 4096 with a divisor of 64 gets 384 sequences, 1,572,864 tokens: its
    logged batch.
    """
    scale = np.asarray(params, dtype=float) / OLMO_REFERENCE_PARAMS
    sequences = 160.0 * scale ** (2.0 / 3.0)
    if _olmo_length(sequence_length) == 4096:
        sequences = sequences / 2.0
    if divisor is not None:
        sequences = np.maximum(np.round(sequences / divisor), 1.0) * divisor
    return sequences


PORIAN_TUNED: tuple[tuple[int, int, float], ...] = (
    (5173248, 20, 1.30e-02),
    (7503872, 28, 1.15e-02),
    (9809920, 32, 1.05e-02),
    (15597568, 44, 9.00e-03),
    (22487040, 56, 8.00e-03),
    (28672000, 64, 7.40e-03),
    (37060608, 80, 6.80e-03),
    (57384960, 104, 5.90e-03),
    (84787200, 128, 5.10e-03),
    (108462080, 160, 4.70e-03),
    (149045248, 192, 4.30e-03),
    (220872704, 256, 3.80e-03),
    (347078656, 320, 3.20e-03),
    (455311360, 448, 3.00e-03),
    (611958784, 512, 2.70e-03),
    (901726208, 640, 2.40e-03),
)
"""Porian et al. 2024's tuned hyper-parameters per model size: (N with the output head,
batch in sequences of 2048, peak learning rate), every row of ``params_bs_map`` and
``params_lr_map`` in formll/resolving-scaling-law-discrepancies @ 3489db51,
``make_paper.ipynb`` (section "Estimation of ideal tuning")."""


def _log_interp(params: Any, column: int) -> Any:
    """Linear in (log N, log value) through the map's rows; beyond its ends, along the
    end segment."""
    table = np.asarray(PORIAN_TUNED, dtype=float)
    x, y = np.log(table[:, 0]), np.log(table[:, column])
    logn = np.log(np.asarray(params, dtype=float))
    inside = np.interp(logn, x, y)
    low = y[0] + (logn - x[0]) * (y[1] - y[0]) / (x[1] - x[0])
    high = y[-1] + (logn - x[-1]) * (y[-1] - y[-2]) / (x[-1] - x[-2])
    return np.exp(np.where(logn < x[0], low, np.where(logn > x[-1], high, inside)))


def porian_learning_rate(params: Any) -> Any:
    """Porian et al. 2024 (arXiv:2406.19146): the tuned peak learning rate for N (blocks
    plus output head), interpolated in log N between the rows of :data:`PORIAN_TUNED`,
    the map the authors' notebook stores.

    108.46M parameters (108,462,080) get 4.7e-3.
    """
    return _log_interp(params, 2)


def porian_batch_sequences(params: Any) -> Any:
    """Porian et al. 2024 tuned batch in sequences of 2048 for N (blocks plus output
    head), interpolated in log N between the rows of :data:`PORIAN_TUNED`.

    108.46M parameters (108,462,080) get 160 sequences.
    """
    return _log_interp(params, 1)


@dataclass(frozen=True)
class Hyperparameters:
    """A starting point for the optimiser, and the law it comes from."""

    batch_size_tokens: float
    learning_rate: float
    compute: float | None
    """DeepSeek's C = M x D the law was evaluated at (``None`` for laws in N and D)."""
    source: str = SOURCE
    law: str = "deepseek-2024"
    """The hyper-parameter law's id (``flopwise.fitting.hyperlaws``)."""
    batch_size_sequences: float | None = None
    """The batch in sequences of ``sequence_length`` tokens."""
    sequence_length: int | None = None
    params: float | None = None
    """N as this law counts it (``n_definition``), where the law takes N."""
    n_definition: str | None = None
    learning_rate_interval: tuple[float, float] | None = None
    """A fitted law's bootstrap band on the learning rate."""
    batch_size_interval: tuple[float, float] | None = None
    """A fitted law's bootstrap band on the batch, in tokens."""
    caveats: tuple[str, ...] = ()


def deepseek_hyperparameters(model_scale: float, tokens: float) -> Hyperparameters:
    """Batch size and learning rate for a model of scale M (FLOPs/token) trained on D tokens."""
    compute = float(model_scale) * float(tokens)
    return Hyperparameters(
        batch_size_tokens=float(deepseek_batch_size(compute)),
        learning_rate=float(deepseek_learning_rate(compute)),
        compute=compute,
        params=float(model_scale),
        n_definition="model_scale",
    )
