"""The critical batch: McCandlish et al.'s steps and tokens to a loss, the fit per group
and across groups on Zhang et al. 2024's bundled table (docs/laws.md §19), and the
built-in law it ships as."""

from __future__ import annotations

import json

import numpy as np
import pytest

from flopwise.fitting.critical_batch import (
    BUILTIN_FILE,
    CriticalBatchLaw,
    b_noise_of,
    builtin_critical_batch,
    critical_law_from_dict,
    critical_law_to_dict,
    steps_to_target,
    tokens_to_target,
)
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit.critical_batch import (
    fit_critical_batch,
    fit_mccandlish,
    fit_zhang,
    parse_size,
    zhang_columns,
)
from flopwise.fitting.regenerate import zhang_critical_batch


def test_mccandlish_twice_the_steps_and_tokens_at_b_noise() -> None:
    # McCandlish et al. 2018, §2.3: at B = B_noise, S = 2 S_min and E = 2 E_min, and
    # (S/S_min - 1)(E/E_min - 1) = 1 at every batch (Eq. 2.11)
    assert steps_to_target(4000.0, 1000.0, 4000.0) == pytest.approx(2000.0)
    assert tokens_to_target(4000.0, 1e9, 4000.0) == pytest.approx(2e9)
    batch = np.array([64.0, 512.0, 8192.0])
    s = steps_to_target(batch, 1000.0, 4000.0) / 1000.0 - 1.0
    e = tokens_to_target(batch, 1.0, 4000.0) - 1.0
    np.testing.assert_allclose(s * e, 1.0)


def test_fit_recovers_a_known_curve() -> None:
    batch = np.geomspace(32, 32768, 11)
    steps = steps_to_target(batch, 2500.0, 6000.0) * np.exp(0.01 * np.sin(np.arange(11)))
    point, draws, rms = fit_mccandlish(batch, steps, bootstrap=200, seed=1)
    assert np.exp(point) == pytest.approx([2500.0, 6000.0], rel=0.03)
    assert rms < 0.01 and draws.shape == (200, 2)


def test_zhang_table_per_model_size() -> None:
    assert len(zhang_columns()["model"]) == 45
    result = fit_zhang(bootstrap=200)
    assert [g.group for g in result.groups] == ["85M", "151M", "302M", "604M", "1.2B"]
    b_noise = [g.b_noise for g in result.groups]
    assert b_noise == sorted(b_noise)  # the critical batch grows with scale
    assert b_noise[0] == pytest.approx(2235, rel=0.01)  # bench/RESULTS.md, 512-token sequences
    assert b_noise[-1] == pytest.approx(11140, rel=0.01)
    for g in result.groups:
        assert g.points == 9 and g.rms_log_steps < 0.1
        assert g.b_noise_interval is not None
        assert g.b_noise_interval[0] < g.b_noise < g.b_noise_interval[1]
        assert g.e_min_tokens == pytest.approx(g.s_min * g.b_noise * 512)
        # the loss targets sit near Chinchilla's 20 tokens per parameter
        assert g.params is not None and 15 < g.e_min_tokens / g.params < 20
    assert result.data_law is not None and result.params_law is not None
    assert result.data_law.a == pytest.approx(0.608, abs=0.005)
    assert result.data_law.r2 > 0.98
    lo, hi = result.data_law.a_interval or (0.0, 0.0)
    assert lo < result.data_law.a < hi
    assert result.warnings == ()


def test_builtin_law_is_the_regenerated_fit() -> None:
    law = builtin_critical_batch()
    assert law.id == "zhang-2024" and law.variable == "tokens"
    again = zhang_critical_batch()
    assert law.k == pytest.approx(again.k, rel=1e-9)
    assert law.a == pytest.approx(again.a, rel=1e-9)
    assert json.loads(BUILTIN_FILE.read_text()) == json.loads(
        json.dumps(critical_law_to_dict(again))
    )
    point, band = b_noise_of(law, 1e10)
    assert point == pytest.approx(law.k * 1e10**law.a)
    assert band is not None and band[0] < point < band[1]


def test_law_round_trip_and_bad_input() -> None:
    law = CriticalBatchLaw(id="mine", k=2.0, a=0.5, domain=(1e9, 1e10))
    assert critical_law_from_dict(json.loads(json.dumps(critical_law_to_dict(law)))) == law
    assert b_noise_of(law, 4e10) == (pytest.approx(4e5), None)
    with pytest.raises(ValueError, match="kind"):
        critical_law_from_dict({"k": 1.0})
    with pytest.raises(ArgumentError):
        CriticalBatchLaw(id="bad", k=-1.0, a=0.5)
    with pytest.raises(ArgumentError) as info:
        fit_critical_batch([1.0, 2.0, 2.0], [10.0, 8.0, 8.0])
    assert info.value.name == "batch"
    with pytest.raises(ArgumentError) as info:
        fit_critical_batch([1.0, 2.0, 4.0], [10.0, -8.0, 8.0])
    assert info.value.name == "steps"


def test_parse_size() -> None:
    assert parse_size("85M") == 85e6
    assert parse_size("1.2B") == 1.2e9
    assert parse_size("small") is None
