"""A small fitted hyper-parameter law for the tests of ``fitting.hyperlaws`` and the
commands that read one from a file."""

from __future__ import annotations

from typing import Any

from flopwise.fitting.hyperlaws import HyperLaw
from flopwise.fitting.laws import Domain, NDefinition


def power_law_hyper(**overrides: Any) -> HyperLaw:
    """``ln LR = lr_log_k + lr_n ln N + lr_d ln D``, the same for the batch in tokens."""
    base: dict[str, Any] = {
        "id": "my-sweep",
        "form": "power-law",
        "title": "fitted",
        "source": "my sweep",
        "n_definition": NDefinition.NON_EMBEDDING,
        "n_counts": "non-embedding parameters",
        "batch_unit": "tokens",
        "sequence_length": 1024,
        "domain": Domain(params=(1e7, 1e9)),
        "constants": {
            "lr_log_k": 0.0,
            "lr_n": -0.5,
            "lr_d": 0.0,
            "batch_log_k": 0.0,
            "batch_n": 0.0,
            "batch_d": 0.5,
        },
    }
    return HyperLaw(**{**base, **overrides})
