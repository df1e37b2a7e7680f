"""``fitting.stats``: one implementation of each statistic the answers share, checked
against numpy's and scipy's (which the answer path no longer imports)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtri, stdtrit

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.stats import (
    check_level,
    golden_min,
    interval,
    interval_table,
    intervals,
    t_cdf,
    t_score,
    z_score,
)

LEVELS = (0.01, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999)
DOFS = (0.5, 1.0, 2.0, 3.2, 4.0, 12.7, 30.0, 150.3, 999.0, 1000.0, 2000.5, 1e5, 1e9)


@pytest.mark.parametrize("dof", DOFS)
def test_t_quantile_matches_scipy(dof: float) -> None:
    for level in LEVELS:
        expected = float(stdtrit(dof, 0.5 + level / 2.0))
        assert t_score(level, dof) == pytest.approx(expected, rel=1e-10)


def test_t_cdf_inverts_the_quantile_and_the_normal_is_the_limit() -> None:
    assert t_cdf(t_score(0.9, 7.5), 7.5) == pytest.approx(0.95, abs=1e-14)
    assert t_cdf(-t_score(0.9, 7.5), 7.5) == pytest.approx(0.05, abs=1e-14)
    for level in LEVELS:
        assert z_score(level) == pytest.approx(float(ndtri(0.5 + level / 2)), rel=1e-12)
        assert t_score(level, float("inf")) == z_score(level)
    assert round(t_score(0.9, 4), 3) == 2.132  # Student's table, 4 degrees of freedom


def test_bad_levels_and_dofs_name_themselves() -> None:
    for bad in (0, 1, -0.5, float("nan"), True, "0.9"):
        with pytest.raises(ArgumentError) as info:
            check_level(bad)
        assert info.value.name == "level"
    with pytest.raises(ArgumentError) as info:
        t_score(0.9, 0.0)
    assert info.value.name == "dof"


def test_percentile_intervals_are_numpys() -> None:
    rng = np.random.default_rng(0)
    rows = rng.lognormal(size=(7, 1001))
    for level in (0.5, 0.9, 0.95):
        tail = 50 * (1 - level)
        expected = np.percentile(rows, [tail, 100 - tail], axis=1).T
        got = np.array(intervals(rows, level))
        assert got == pytest.approx(expected, rel=1e-12)
        assert interval(rows[0], level) == pytest.approx(tuple(expected[0]), rel=1e-12)
    with_nan = rows[0].copy()
    with_nan[:10] = np.nan  # non-finite draws are left out
    tail = 5.0
    expected = np.percentile(with_nan[10:], [tail, 100 - tail])
    assert interval(with_nan, 0.9) == pytest.approx(tuple(expected), rel=1e-12)
    assert interval([1.0], 0.9) is None
    table = interval_table(("a", "b"), rows[:2].T, 0.9)
    assert table["a"] == pytest.approx(list(np.percentile(rows[0], [5, 95])), rel=1e-12)


def test_golden_search_finds_each_minimum() -> None:
    centres = np.array([-3.0, 0.5, 7.25])
    found = golden_min(lambda x: (x - centres) ** 2, centres - 10.0, centres + 10.0)
    assert found == pytest.approx(centres, abs=1e-9)
