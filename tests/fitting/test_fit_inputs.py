"""Bad input gives a clear error (or a warning in the result), never a bogus law."""

from __future__ import annotations

import numpy as np
import pytest

from flopwise.fitting.datasets import load_dataset
from flopwise.fitting.fit import fit
from flopwise.fitting.runs import Runs


def _epoch_subset(n: int = 60) -> Runs:
    runs = load_dataset("epoch-chinchilla").runs
    return runs.subset(np.arange(0, len(runs), max(1, len(runs) // n)))


def _with(runs: Runs, **cols: np.ndarray) -> Runs:
    base = {
        k: getattr(runs, k) for k in ("params", "tokens", "loss", "run", "width", "depth", "flops")
    }
    base.update(cols)
    return Runs(**base)


@pytest.mark.parametrize("column", ["params", "tokens", "loss"])
@pytest.mark.parametrize(
    ("bad", "words"),
    [
        (np.nan, "NaN or infinite"),
        (np.inf, "NaN or infinite"),
        (0.0, "zero or negative"),
        (-1.0, "zero or negative"),
    ],
)
def test_bad_values_are_errors_naming_the_column(column: str, bad: float, words: str) -> None:
    runs = _epoch_subset()
    col = getattr(runs, column).copy()
    col[3] = bad
    with pytest.raises(ValueError, match=f"{column}: 1 value\\(s\\) are {words}"):
        fit(_with(runs, **{column: col}), form="chinchilla")


def test_duplicate_rows_are_dropped_with_a_warning() -> None:
    runs = _epoch_subset(40)
    doubled = runs.subset(np.concatenate([np.arange(len(runs)), [0, 1, 2]]))
    report = fit(doubled, form="chinchilla", extrapolation=False)
    assert report.n_runs == len(runs)
    assert any("dropped 3 duplicate" in w for w in report.warnings)


def test_fewer_points_than_parameters() -> None:
    runs = _epoch_subset().subset(np.arange(4))
    with pytest.raises(
        ValueError, match="4 distinct observation\\(s\\) cannot determine 5 parameters"
    ):
        fit(runs, form="chinchilla")


def test_every_run_at_one_size() -> None:
    runs = _epoch_subset()
    one = _with(runs, params=np.full(len(runs), 1e9))
    with pytest.raises(ValueError, match="every run has the same size"):
        fit(one, form="chinchilla")


def test_few_sizes_warn() -> None:
    runs = load_dataset("epoch-chinchilla").runs
    sizes, counts = np.unique(runs.params, return_counts=True)
    keep = np.isin(runs.params, sizes[np.argsort(counts)[-3:]])
    assert keep.sum() > 5
    report = fit(runs.subset(keep), form="chinchilla", extrapolation=False)
    assert any("only 3 distinct model sizes" in w for w in report.warnings)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"form": "cubic"}, "form: expected one of"),
        ({"form": "chinchilla", "method": "approach9"}, "method: expected one of"),
        ({"form": "chinchilla", "delta": 0.0}, "delta: expected a positive"),
        ({"form": "chinchilla", "delta": float("nan")}, "delta: expected a positive"),
        ({"form": "chinchilla", "bootstrap": -1}, "bootstrap: expected a non-negative"),
        ({"form": "chinchilla", "seed": 1.5}, "seed: expected a non-negative"),
        ({"form": "chinchilla", "colour": "red"}, "colour: unknown fit option"),
        ({"form": "chinchilla", "search": "psychic"}, "search: expected one of"),
        (
            {"form": "chinchilla", "method": "approach2"},
            "form: approach2 fits power-law laws, not chinchilla",
        ),
        ({"form": "width-depth"}, "width: this fit needs a width value"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fit(_epoch_subset(), **kwargs)


def test_runs_must_be_runs() -> None:
    with pytest.raises(ValueError, match=r"runs: expected fitting\.runs\.Runs"):
        fit([{"params": 1e9, "tokens": 2e10, "loss": 2.5}], form="chinchilla")  # type: ignore[arg-type]


def test_constant_loss_is_an_error() -> None:
    runs = _epoch_subset()
    with pytest.raises(ValueError, match="loss: every observation has the same loss"):
        fit(_with(runs, loss=np.full(len(runs), 3.0)), form="chinchilla")


def test_loss_that_ignores_scale_is_a_failed_fit_not_a_law() -> None:
    # real sizes and token counts, but losses that do not fall with either
    runs = _epoch_subset()
    noise = np.random.default_rng(0).uniform(2.0, 4.0, len(runs))
    report = fit(_with(runs, loss=noise), form="chinchilla", extrapolation=False)
    assert report.success is False and report.law is None
    assert "the fit converged but" in report.message
    assert any("is at a bound" in w for w in report.warnings)


@pytest.mark.parametrize(
    ("dataset", "kwargs"),
    [
        ("epoch-chinchilla", {"form": "chinchilla", "bootstrap": 4}),
        ("porian-2024", {"form": "power-law", "method": "approach2", "bootstrap": 4}),
        ("gemstones-hot-477", {"form": "power-law", "method": "approach1", "bootstrap": 4}),
    ],
)
def test_reports_are_json_ready(dataset: str, kwargs: dict) -> None:
    import json

    from flopwise.fitting.laws import from_dict, to_dict

    report = fit(load_dataset(dataset).runs, workers=1, **kwargs)
    json.dumps(report.diagnostics, allow_nan=False)
    again = from_dict(json.loads(json.dumps(to_dict(report.law), allow_nan=False)))
    assert again.constants == report.law.constants


def test_progress_is_reported_per_chunk() -> None:
    runs = load_dataset("epoch-chinchilla").runs
    seen: list[tuple[int, int]] = []
    fit(
        runs,
        form="chinchilla",
        bootstrap=4,
        workers=1,
        extrapolation=False,
        progress=lambda done, total: seen.append((done, total)),
        grid=np.array([[0.35, 0.37, 6.0, 7.5, 0.6]]),
    )
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    with pytest.raises(ValueError, match="progress: expected a callable"):
        fit(runs, form="chinchilla", progress=True)
