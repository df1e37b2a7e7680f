"""The downstream links an automatic refit adds to the loss law it publishes: one per
metric the dataset's runs carry (docs/laws.md §20).

A metric named ``<task>_bpb`` or ``<task>_loss`` is a task loss; every other metric is a
score. A score whose task loss the runs carry too (``hellaswag_acc`` beside
``hellaswag_bpb``) gets the OLMo ladder's two steps (Bhagia et al. 2024: a loss law for
the task loss, then a sigmoid to the score), with step 1's law kept inside the link; any
other score gets Gadre et al.'s exponential link from the law's own loss. A link whose
fit fails is left out and its reason kept in the refit's report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from flopwise.fitting.laws import DownstreamLink, Law
from flopwise.fitting.runs import Runs

__all__ = ["LINK_BOOTSTRAP", "LOSS_SUFFIXES", "link_plan", "refit_links"]

LOSS_SUFFIXES = ("_bpb", "_loss")
"""Metric name endings that mark a task loss (an intermediate, not a score)."""
LINK_BOOTSTRAP = 50
"""Bootstrap draws of each link (and of a ladder step 1) when the refit asks for none."""


def link_plan(metrics: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """(score, its task loss or ``None`` for the law's own loss) for every score."""
    names = set(metrics)
    plan = []
    for name in sorted(names):
        if name.endswith(LOSS_SUFFIXES):
            continue
        stem = name.rsplit("_", 1)[0] if "_" in name else name
        via = next((stem + s for s in LOSS_SUFFIXES if stem + s in names), None)
        plan.append((name, via))
    return plan


def refit_links(
    law: Law,
    runs: Runs,
    options: Mapping[str, Any],
    progress: Callable[..., None] | None = None,
) -> tuple[Law, dict[str, Any]]:
    """``law`` with a link to every score in ``runs`` that could be fitted, and a report
    per score."""
    from flopwise.fitting.fit.downstream import fit_chain  # the engine loads only to fit

    bootstrap = int(options.get("bootstrap") or LINK_BOOTSTRAP)
    seed = int(options.get("seed") or 0)
    fit_options = {"workers": 1, "family": law.family, "n_definition": law.n_definition}
    links: dict[str, DownstreamLink] = {}
    report: dict[str, Any] = {}
    for metric, via in link_plan(runs.metrics or {}):
        if progress is not None:
            progress(stage="fitting downstream links", metric=metric)
        try:
            chain = fit_chain(
                runs,
                metric=metric,
                via=via or "loss",
                link="sigmoid" if via else "exponential",
                step1=None if via else law,
                law_id=f"{law.id}-{via}" if via else None,
                bootstrap=bootstrap,
                seed=seed,
                options=fit_options,
            )
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:  # the law stands
            report[metric] = {"success": False, "message": str(exc)}
            continue
        report[metric] = {
            "success": chain.success,
            "message": chain.message,
            "via": chain.via,
            "warnings": list(chain.warnings),
            "extrapolation": chain.diagnostics.get("extrapolation"),
        }
        if chain.success:
            links[metric] = chain.downstream_link(nested=via is not None)
    return law.evolve(downstream={**law.downstream, **links}), report
