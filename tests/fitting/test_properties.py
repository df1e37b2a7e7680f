"""Property tests of the allocation (hypothesis)."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flopwise.fitting.allocation import Allocation, allocate
from flopwise.fitting.catalogue import BUILTIN_LAWS, builtin
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms import law_form
from flopwise.fitting.inference import chinchilla_for_loss, inference_optimal_for_loss
from flopwise.fitting.laws import CDefinition, Form
from flopwise.fitting.shape import law_params

LOG_FLOPS = st.floats(min_value=17.0, max_value=27.0)
# Laws whose D* depends on a discrete shape: the width-depth law, and laws counted with the
# Gemstones FLOP counter (D* = C / FLOPs-per-token of the chosen shape).
DISCRETE = [
    law_id
    for law_id, law in BUILTIN_LAWS.items()
    if law_form(law).shape_aware or law.c_definition is CDefinition.GEMSTONES
]
CONTINUOUS = [law_id for law_id in BUILTIN_LAWS if law_id not in DISCRETE]
CHINCHILLA_FORM = [law_id for law_id, law in BUILTIN_LAWS.items() if law.form is Form.CHINCHILLA]
SETTINGS = settings(max_examples=60, deadline=None)


def allocate_feasible(law_id: str, flops: float, **kwargs: float) -> Allocation:
    """``allocate``, with budgets too small for any feasible shape of the law's family
    (refused, ``ArgumentError('flops')``) left out of the sample."""
    try:
        return allocate(builtin(law_id), flops, **kwargs)
    except ArgumentError as exc:
        assume(not (exc.name == "flops" and "too small" in exc.message))
        raise


def floor_plan(result: Allocation) -> bool:
    """Whether N* fell below the smallest feasible shape, which the plan trains instead."""
    return any("lies below the smallest feasible shape" in c for c in result.caveats)


def n_star(result: Allocation) -> float:
    """N* as the law counts it (DeepSeek's M for its law, not the shape's parameters)."""
    return result.params if result.model_scale is None else result.model_scale


@SETTINGS
@given(law_id=st.sampled_from(sorted(BUILTIN_LAWS)), log_c=LOG_FLOPS)
def test_allocation_spends_the_budget_under_the_laws_own_c(law_id: str, log_c: float) -> None:
    law = builtin(law_id)
    flops = 10.0**log_c
    result = allocate_feasible(law_id, flops)
    assert result.shape is not None
    if law.c_definition is CDefinition.SIX_ND:
        # an MoE law's N is its total parameters, and C counts the active ones
        active = law.constants.get("active_ratio", 1.0)
        spent = 6.0 * active * result.params * result.tokens
    elif law.c_definition is CDefinition.MD:
        spent = n_star(result) * result.tokens
    else:  # the Gemstones counter needs the concrete shape
        spent = result.shape.flops_per_token * result.tokens
    assert spent == pytest.approx(flops, rel=1e-9)
    if law_form(law).shape_aware:
        n = law_params(law.n_definition, law.family, result.shape.width, result.shape.depth)
        assert result.params == pytest.approx(float(n))


@SETTINGS
@given(
    law_id=st.sampled_from(CONTINUOUS),
    log_c=LOG_FLOPS,
    step=st.floats(min_value=0.01, max_value=3.0),
)
def test_n_and_d_increase_with_compute(law_id: str, log_c: float, step: float) -> None:
    small = allocate_feasible(law_id, 10.0**log_c)
    large = allocate_feasible(law_id, 10.0 ** (log_c + step))
    if floor_plan(small):  # N* below the smallest shape: that shape, on more tokens
        assert n_star(large) >= n_star(small)
    else:
        assert n_star(large) > n_star(small)
    assert large.tokens > small.tokens
    if small.loss is not None and large.loss is not None:
        assert large.loss < small.loss


@SETTINGS
@given(
    law_id=st.sampled_from(DISCRETE),
    log_c=st.floats(min_value=18.0, max_value=26.0),
    step=st.floats(min_value=0.6, max_value=3.0),
)
def test_discrete_shape_optimum_grows_with_compute(law_id: str, log_c: float, step: float) -> None:
    # Shapes are discrete, so D* can step back when the optimum jumps to a bigger shape;
    # over a factor of 4 or more both grow.
    small = allocate_feasible(law_id, 10.0**log_c)
    large = allocate_feasible(law_id, 10.0 ** (log_c + step))
    assert large.params >= small.params and large.tokens > small.tokens
    if large.loss is not None and small.loss is not None:
        assert large.loss < small.loss


@SETTINGS
@given(
    law_id=st.sampled_from(CHINCHILLA_FORM),
    excess=st.floats(min_value=0.01, max_value=2.0),
    log_inference=st.floats(min_value=6.0, max_value=16.0),
)
def test_inference_aware_model_is_no_bigger(
    law_id: str, excess: float, log_inference: float
) -> None:
    law = builtin(law_id)
    target = law.constants["E"] + excess
    chinchilla_n, _ = chinchilla_for_loss(law, target)
    result = inference_optimal_for_loss(law, target, 10.0**log_inference)
    assert result.params <= chinchilla_n * (1 + 1e-9)
    assert result.total_flops <= result.chinchilla_total_flops * (1 + 1e-9)


@SETTINGS
@given(
    law_id=st.sampled_from([*CHINCHILLA_FORM, "muennighoff-2023"]),
    log_c=st.floats(min_value=18.0, max_value=26.0),
    log_cap=st.floats(min_value=-3.0, max_value=1.0),
)
def test_data_constrained_loss_is_no_lower(law_id: str, log_c: float, log_cap: float) -> None:
    free = allocate_feasible(law_id, 10.0**log_c)
    capped = allocate_feasible(law_id, 10.0**log_c, unique_tokens=free.tokens * 10.0**log_cap)
    assert free.loss is not None and capped.loss is not None
    assert capped.loss >= free.loss - 1e-12
    assert math.isfinite(capped.loss)
