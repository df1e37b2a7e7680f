"""The bootstrap draws shipped with the Epoch laws, and the interval they give."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flopwise.fitting.allocation import allocate
from flopwise.fitting.bundled import load_epoch_draws
from flopwise.fitting.catalogue import builtin
from flopwise.fitting.regenerate import epoch_draws
from flopwise.fitting.stats import interval
from tests.pins import BESIROGLU, published, regression_pin


def test_stored_draws_regenerate() -> None:
    # The first draws of a regeneration come from the same resamples (seed 0): equal to
    # solver tolerance.
    fitted, stored = regression_pin(
        load_epoch_draws(),
        how="python -m flopwise.fitting.regenerate draws (fitting/builtin/"
        "epoch-2024-huber-draws.json: 1,000 refits of the Epoch points, seed 0)",
        why="the draws every default answer's interval comes from: a change of the fit engine "
        "that moves them must be seen, and the file regenerated on purpose",
    )
    again_fitted, again = epoch_draws(n_draws=40, seed=0, workers=1)
    assert again_fitted["alpha"] == pytest.approx(fitted["alpha"], rel=1e-6)
    np.testing.assert_allclose(again, stored[:40], rtol=1e-4)


@pytest.mark.parametrize(
    ("name", "column", "epoch_interval", "estimate"),
    published(
        [
            ("alpha", 3, (0.317, 0.373), 0.3478),
            ("beta", 4, (0.331, 0.415), 0.3658),
            ("E", 0, (1.769, 1.871), 1.8172),
        ],
        f"{BESIROGLU}: 95% bootstrap intervals from 4,000 resamples; the estimates of α and β "
        "from the headline fit, E 1.8172 from the summed-Huber refit (docs/laws.md §3.1)",
    ),
)
def test_epoch_intervals_match_epochs_bootstrap(
    name: str, column: int, epoch_interval: tuple, estimate: float
) -> None:
    lo, hi = np.percentile(builtin("epoch-2024").draws[:, column], [2.5, 97.5])
    assert lo < estimate < hi
    width = epoch_interval[1] - epoch_interval[0]
    assert width / 1.5 <= hi - lo <= width * 1.5


def test_default_answer_carries_intervals() -> None:
    result = allocate(builtin("epoch-2024"), 5.76e23)
    assert result.loss_interval is not None and result.params_interval is not None
    assert result.loss_interval[0] < result.loss < result.loss_interval[1]
    n_star = published(
        7.225e10,
        f"{BESIROGLU}'s estimates (docs/laws.md §3.3)",
        derived="Chinchilla Eq. 4 at 5.76e23 with A 482.01, B 2085.43, α 0.3478, β 0.3658",
    )
    assert result.params_interval[0] < n_star < result.params_interval[1]


@given(
    samples=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=300),
    level=st.floats(0.5, 0.99),
)
def test_interval_equals_numpy_percentile(samples: list[float], level: float) -> None:
    tail = 50 * (1 - level)
    expected = np.percentile(samples, [tail, 100 - tail])
    assert interval(np.array(samples), level) == pytest.approx(tuple(expected), rel=1e-9, abs=1e-9)
