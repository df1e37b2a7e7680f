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


def sweep_records(
    sweep: dict[str, Any], dataset: str = "lr-sweep", evals: int = 2
) -> list[dict[str, Any]]:
    """A sweep's rows (``tests.fitting.test_fit_hyper.sweep``) as stored runs: each run
    evaluated ``evals`` times up to its D, the last at its loss, its peak LR in its
    schedule, its batch in tokens in its ``batch_tokens`` tag and sequences of 512 tokens
    (as the trainer files them)."""
    columns = (sweep[k].tolist() for k in ("params", "tokens", "lr", "batch", "loss"))
    out = []
    for i, (n, d, lr, b, y) in enumerate(zip(*columns, strict=True)):
        schedule = {"kind": "constant", "peak_lr": lr, "total_tokens": d}
        for k in range(1, evals + 1):
            out.append({"dataset": dataset, "run": f"r{i}", "params": int(n),
                        "tokens": int(d * k / evals), "loss": y + 0.1 * (evals - k),
                        "width": 64, "depth": 4, "lr": lr, "schedule": schedule,
                        "tags": {"batch_tokens": f"{b:.9g}", "sequence_length": "512"}})  # fmt: skip
    return out
