"""The mixture-of-experts law forms (docs/laws.md §14, §15): Krajewski et al.'s Table 2
from their Table 1 constants, MoE plans, and fitting the forms numerically."""

from __future__ import annotations

import numpy as np
import pytest

from flopwise.fitting.allocation import allocate
from flopwise.fitting.catalogue import builtin
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit import fit
from flopwise.fitting.forms import fine_grained_moe_loss, law_form
from flopwise.fitting.moe import Routing
from flopwise.fitting.moe_plan import is_moe_law, plan_moe
from flopwise.fitting.runs import Runs

TABLE_1 = dict(c=0.47, a=18.1, alpha=0.115, b=30.8, beta=0.147, g=2.1, gamma=0.58)
TOTAL_PER_ACTIVE = 516 / 12
"""Krajewski et al. §6.1 at expansion 64: N = d^2 (8E + 4) n_blocks over 12 d^2 n_blocks."""


@pytest.mark.parametrize(
    ("active", "tokens", "granularity", "loss"),
    [
        (100e6, 4.37e9, 8, 3.133),
        (1e9, 28.94e9, 16, 2.491),
        (3e9, 72.90e9, 16, 2.245),
        (7e9, 137.60e9, 32, 2.076),
        (70e9, 941.07e9, 32, 1.694),
        (300e9, 2.96e12, 64, 1.503),
        (1e12, 7.94e12, 64, 1.367),
    ],
)
def test_krajewski_table_2_losses_from_table_1(
    active: float, tokens: float, granularity: int, loss: float
) -> None:
    # Table 2 (page 9) printed from unrounded constants: within 0.9% (docs/laws.md §14)
    n = active * TOTAL_PER_ACTIVE
    assert fine_grained_moe_loss(n, tokens, granularity, **TABLE_1) == pytest.approx(loss, rel=9e-3)


def test_builtin_law_predicts_with_its_reference_granularity() -> None:
    law = builtin("krajewski-2024")
    form = law_form(law)
    at_ref = form.loss(law.constants, params=1e9, tokens=1e10)
    assert at_ref == pytest.approx(fine_grained_moe_loss(1e9, 1e10, 16, **TABLE_1))
    assert form.loss(law.constants, params=1e9, tokens=1e10, granularity=1) > at_ref
    assert is_moe_law(law) and not is_moe_law(builtin("krajewski-2024-dense"))


def test_moe_plan_beats_dense_at_the_same_budget() -> None:
    # §6.3: a compute-optimal MoE beats the dense model at every budget
    moe = plan_moe(builtin("krajewski-2024"), 1e20, Routing(experts=64, top_k=1), gpu="h100")
    dense = allocate(builtin("krajewski-2024-dense"), 1e20)
    assert dense.loss is not None and moe.loss < dense.loss
    assert moe.total_params > 20 * moe.active_params  # expansion 64: mostly idle experts
    assert moe.flops_per_token * moe.tokens == pytest.approx(1e20)
    assert moe.min_gpus is not None and moe.min_gpus * 80 * 2**30 >= moe.memory_bytes


def test_finer_experts_lower_the_loss_at_a_budget() -> None:
    law = builtin("krajewski-2024")
    coarse = plan_moe(law, 1e20, Routing(experts=64, top_k=1))
    fine = plan_moe(law, 1e20, Routing(experts=512, top_k=8), granularity=8)
    assert fine.shape.granularity == 8 and fine.loss < coarse.loss
    assert not any("expansion" in w for w in fine.warnings)
    odd = plan_moe(law, 1e20, Routing(experts=8, top_k=2))
    assert any("expansion rate 64" in w for w in odd.warnings)


def test_moe_plan_refuses_dense_laws_and_bad_granularity() -> None:
    with pytest.raises(ArgumentError) as err:
        plan_moe(builtin("epoch-2024"), 1e20, Routing(experts=8, top_k=2))
    assert err.value.name == "law"
    with pytest.raises(ArgumentError) as err:
        plan_moe(builtin("krajewski-2024"), 1e20, Routing(experts=8, top_k=2), granularity=0.5)
    assert err.value.name == "granularity"


def test_plain_allocation_of_an_moe_law_says_what_it_assumes() -> None:
    answer = allocate(builtin("krajewski-2024"), 1e19)
    assert answer.loss is not None and answer.params > 0
    assert any("ask with experts and top_k" in w for w in answer.warnings)


def _moe_runs(seed: int = 0) -> Runs:
    rng = np.random.default_rng(seed)
    rows = []
    for n in (1e8, 3e8, 1e9, 3e9):
        for g in (1, 4, 16):
            for d in (1.6e10, 3.3e10, 6.6e10):
                loss = fine_grained_moe_loss(n, d, g, **TABLE_1) * np.exp(rng.normal(0, 0.002))
                active = n / TOTAL_PER_ACTIVE
                rows.append(
                    {"run": f"{n:g}-{g}", "params": n, "tokens": d, "loss": float(loss),
                     "granularity": g, "active_params": active, "flops": 6 * active * d}
                )  # fmt: skip
    return Runs.from_records(rows)


def test_fine_grained_form_fits_numerically() -> None:
    report = fit(_moe_runs(), form="fine-grained-moe", law_id="moe-toy", bootstrap=4, workers=1)
    assert report.success, report.message
    law = report.law
    assert law is not None and law.draws is not None and law.draws.shape[1] == 7
    assert law.constants["active_ratio"] == pytest.approx(1 / TOTAL_PER_ACTIVE)
    assert law.constants["granularity"] == 4.0
    # the fit predicts its own data to well within the noise of 0.2%
    runs = _moe_runs()
    predicted = fine_grained_moe_loss(
        runs.params, runs.tokens, runs.granularity, **{k: law.constants[k] for k in TABLE_1}
    )
    assert np.max(np.abs(predicted / runs.loss - 1)) < 0.01
    assert law.constants["gamma"] == pytest.approx(0.58, abs=0.15)


def test_numeric_fit_needs_the_design_column() -> None:
    runs = _moe_runs()
    bare = Runs(params=runs.params, tokens=runs.tokens, loss=runs.loss, run=runs.run)
    with pytest.raises(ArgumentError) as err:
        fit(bare, form="fine-grained-moe", law_id="x", workers=1)
    assert err.value.name == "granularity"


def test_one_granularity_fits_with_a_warning_that_g_is_undetermined() -> None:
    runs = _moe_runs()
    one = runs.subset(np.flatnonzero(runs.granularity == runs.granularity[0]))
    report = fit(one, form="fine-grained-moe", law_id="moe-one-g", extrapolation=False, workers=1)
    assert any("every run has the same granularity" in w for w in report.warnings)
    assert not any(
        "same granularity" in w
        for w in fit(
            runs, form="fine-grained-moe", law_id="moe-all-g", extrapolation=False, workers=1
        ).warnings
    )
