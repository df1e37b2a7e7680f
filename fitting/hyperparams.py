"""Starting batch size and learning rate from DeepSeek's hyper-parameter law."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flopwise.fitting.forms import power_law

__all__ = [
    "Hyperparameters",
    "deepseek_batch_size",
    "deepseek_hyperparameters",
    "deepseek_learning_rate",
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


@dataclass(frozen=True)
class Hyperparameters:
    """A starting point for the optimiser, and where it comes from."""

    batch_size_tokens: float
    learning_rate: float
    compute: float
    """DeepSeek's C = M x D the law was evaluated at."""
    source: str = SOURCE


def deepseek_hyperparameters(model_scale: float, tokens: float) -> Hyperparameters:
    """Batch size and learning rate for a model of scale M (FLOPs/token) trained on D tokens."""
    compute = float(model_scale) * float(tokens)
    return Hyperparameters(
        batch_size_tokens=float(deepseek_batch_size(compute)),
        learning_rate=float(deepseek_learning_rate(compute)),
        compute=compute,
    )
