"""What every fitting method shares: compute per observation, the fitted domain, and
turning constants into a :class:`~fitting.laws.Law` that says what its N and C mean."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.fit.options import FitOptions
from flopwise.fitting.flops import gemstones_flops_per_token
from flopwise.fitting.forms import checked, law_form
from flopwise.fitting.laws import CDefinition, Domain, Law, NDefinition
from flopwise.fitting.runs import Runs

__all__ = ["build_law", "c_definition_for", "domain_of", "family_for", "run_flops"]


def family_for(options: FitOptions) -> ArchFamily:
    """The architecture family the runs came from (Gemstones' recipe unless told)."""
    return options.family if options.family is not None else ArchFamily()


def c_definition_for(form: str, runs: Runs, options: FitOptions) -> CDefinition:
    """How C is counted: as told, else as the form counts it (Gemstones' counter for
    width-depth laws, 6ND for the others)."""
    if options.c_definition is not None:
        return options.c_definition
    return law_form(form).c_definition


def gemstones_flops(
    width: np.ndarray, depth: np.ndarray, tokens: np.ndarray, family: ArchFamily
) -> np.ndarray:
    """Gemstones App. M FLOPs of each observation: ``flops_per_token_gqa(w, d) x T``.

    Head counts are real numbers here, as in the authors' ``flops_per_token_gqa``
    (``width / 128`` query heads, half as many key/value heads, even when odd: the
    384-wide models have 3 query heads and are counted with 1.5 key/value heads).
    """
    w = np.asarray(width, dtype=float)
    kwargs = family.shape_kwargs(np.asarray(width, dtype=np.int64))
    kwargs["n_heads"] = w / family.head_dim
    kwargs["n_kv_heads"] = kwargs["n_heads"] / family.kv_group
    per_token = gemstones_flops_per_token(w, np.asarray(depth, dtype=float), **kwargs)
    return np.asarray(per_token, dtype=float) * tokens


def run_flops(runs: Runs, c_definition: CDefinition, family: ArchFamily) -> np.ndarray:
    """Training compute of each observation: the ``flops`` column when given, else the
    law's own count (Gemstones' counter needs width and depth), else 6 N D."""
    if runs.flops is not None:
        return np.asarray(runs.flops, dtype=float)
    if c_definition is CDefinition.GEMSTONES and runs.width is not None and runs.depth is not None:
        return gemstones_flops(runs.width, runs.depth, runs.tokens, family)
    return 6.0 * runs.params * runs.tokens


def domain_of(runs: Runs, flops: np.ndarray) -> Domain:
    """The fitted range: min and max of compute, params and tokens."""

    def span(x: np.ndarray) -> tuple[float, float]:
        return float(np.min(x)), float(np.max(x))

    return Domain(flops=span(flops), params=span(runs.params), tokens=span(runs.tokens))


def build_law(
    law_id: str,
    form: str,
    constants: Mapping[str, float],
    *,
    runs: Runs,
    flops: np.ndarray,
    method: str,
    options: FitOptions,
    c_definition: CDefinition,
    draws: np.ndarray | None = None,
    diagnostics: Mapping[str, Any] | None = None,
) -> Law:
    """A fitted law carrying its definitions, domain, draws and diagnostics."""
    n_def = options.n_definition if options.n_definition is not None else NDefinition.TOTAL
    title = options.title or f"{form} law fitted by {method}"
    return checked(
        Law(
            id=law_id,
            form=form,
            constants=dict(constants),
            title=title,
            n_definition=n_def,
            c_definition=c_definition,
            family=family_for(options),
            tokenizer=options.tokenizer,
            dataset=options.dataset,
            citation=options.citation,
            source=f"fitted by flopwise ({method}) on {len(runs)} observations",
            domain=domain_of(runs, flops),
            notes=options.notes,
            draws=draws,
            diagnostics=dict(diagnostics or {}),
        )
    )
