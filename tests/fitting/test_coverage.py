"""Calibration on the bundled suites: fit the smaller 70% of model sizes, predict the
larger 30%; 90% ``loss_interval``s must cover 80-97% of the measured losses.

Each case is one fit (a few bootstrap draws, one worker): seconds for the Chinchilla
form, about 20 s for Gemstones' width-depth form on hot_100b+.
"""

from __future__ import annotations

import pytest

from flopwise.fitting.coverage import CASES, Case, run_case

LEVEL = 0.9
LOW, HIGH = 0.80, 0.97
"""The calibration target for 90% intervals on the bundled suites: the project's choice
(a little conservative is fine, loose is not), not a published or regenerated number."""


@pytest.mark.parametrize("case", CASES, ids=[c.dataset for c in CASES])
def test_90_percent_intervals_cover_80_to_97_percent_of_larger_models(case: Case) -> None:
    result, law = run_case(case, LEVEL)
    assert law.spread is not None and law.spread.source == "fit"
    assert result.n_points >= 40
    assert 0 < result.median_half_width < 0.25
    assert LOW <= result.fraction <= HIGH, (
        f"{case.dataset}: {result.covered}/{result.n_points} = {result.fraction:.1%} covered, "
        f"median half-width {result.median_half_width:.2%}"
    )
