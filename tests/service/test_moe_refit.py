"""An automatic refit of an MoE calibration sweep's runs (``tags.granularity``) fits the
fine-grained MoE form (``service.jobs.refit.moe_data``); asked-for forms are kept."""

from __future__ import annotations

from flopwise.fitting.runs import Runs
from flopwise.service.jobs.refit import fitted_law_id, moe_data

ROW = {"params": 1e5, "tokens": 1e6, "loss": 3.0, "run": "r"}
MOE = Runs.from_records([{**ROW, "tags": {"granularity": "2", "active_params": "4e4"}}])


def test_an_automatic_refit_of_moe_runs_fits_the_fine_grained_form() -> None:
    form, note = moe_data(MOE, "chinchilla", "approach3", auto=True)
    assert form == "fine-grained-moe" and "granularity" in note
    assert fitted_law_id("sweep", form, "approach3") == "sweep-fine-grained-moe"


def test_dense_runs_and_asked_for_forms_are_left_alone() -> None:
    assert moe_data(Runs.from_records([ROW]), "chinchilla", "approach3", auto=True) == (
        "chinchilla",
        "",
    )
    assert moe_data(MOE, "chinchilla", "approach3", auto=False) == ("chinchilla", "")
    assert moe_data(MOE, "moe-sparsity", "approach3", auto=True) == ("moe-sparsity", "")
    assert moe_data(MOE, "chinchilla", "approach1", auto=True) == ("chinchilla", "")
