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

KNOWN_MISS = {
    "porian-2024": (
        "Porian et al.'s larger models at under 3 tokens per parameter measure up to 49% "
        "above the Chinchilla form fitted to the smaller isoFLOP points, beyond what its own "
        "leave-largest-out refits show: 90% intervals cover 73% (bench/RESULTS.md)"
    ),
}


def _param(case: Case) -> object:
    marks = []
    if case.dataset in KNOWN_MISS:
        marks.append(pytest.mark.xfail(reason=KNOWN_MISS[case.dataset], strict=True))
    return pytest.param(case, id=case.dataset, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_90_percent_intervals_cover_80_to_97_percent_of_larger_models(case: Case) -> None:
    result, law = run_case(case, LEVEL)
    assert law.spread is not None and law.spread.source == "fit"
    assert result.n_points >= 40
    assert 0 < result.median_half_width < 0.25
    assert LOW <= result.fraction <= HIGH, (
        f"{case.dataset}: {result.covered}/{result.n_points} = {result.fraction:.1%} covered, "
        f"median half-width {result.median_half_width:.2%}"
    )
