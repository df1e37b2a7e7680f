"""Downstream links: from a loss to a benchmark score (docs/laws.md §20).

A link maps an intermediate loss ``x`` (a law's own loss, or a task's loss predicted by
a law of its own) to a metric ``y`` such as an accuracy. Two published links, one pure
function each:

- ``sigmoid`` (Bhagia et al. 2024, the OLMo model ladder, step 2):
  ``Acc(x) = a / (1 + exp(-k (x - x0))) + b``, fitted by least squares on every
  checkpoint of every run with the authors' bounds ``-1 <= a <= 0``, ``x0 >= 0``,
  ``k >= 0``, ``0 <= b <= 1`` (so ``b`` is the ceiling and ``a + b`` the floor);
- ``exponential`` (Gadre et al. 2024): top-1 error ``Err(x) = eps - k exp(-gamma x)``
  of an accuracy ``y = 1 - Err``, fitted by least squares on each run's final value,
  without bounds, as the authors fit it.

A :class:`LinkKind` says everything about one link that fitting and answering need:
its constants in storage order, their bounds and starts, which rows it is fitted on,
and how it predicts. The row treatment of the ladder (skip each run's first 10% of
checkpoints, then a trailing 5-checkpoint mean of x and y; step 1 reads the mean of a
run's last 5 checkpoints) is :func:`early_mask` and :func:`trailing_mean`. Numpy only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from flopwise.fitting.errors import ArgumentError

__all__ = [
    "LADDER_SKIP",
    "LADDER_WINDOW",
    "LINKS",
    "LinkKind",
    "early_mask",
    "gadre_accuracy",
    "gadre_error",
    "ladder_accuracy",
    "link_kind",
    "trailing_mean",
]

Num = Any  # float or numpy array

LADDER_SKIP = 0.1
"""Share of each run's first checkpoints step 2 leaves out (Bhagia et al. 2024, the
authors' ``--skip_perc 0.1``, ``src/scripts/paper/README.md``)."""
LADDER_WINDOW = 5
"""Checkpoints in the trailing mean of x and y (the authors' ``--moving_avg 5``), and
the last checkpoints whose mean is a run's final task loss in step 1."""


def ladder_accuracy(x: Num, *, a: Num, x0: Num, k: Num, b: Num) -> Num:
    """Bhagia et al. 2024 (arXiv:2412.04403), step 2: accuracy from a task loss,
    ``Acc(x) = a / (1 + exp(-k (x - x0))) + b`` (``sigmoid`` in the authors'
    ``src/scaling/fitting_functions.py``). With ``a <= 0`` and ``k >= 0`` accuracy falls
    from ``b`` (loss 0) to ``a + b`` (a useless model) as the loss grows; at ``x0`` it is
    midway.

    >>> round(float(ladder_accuracy(1.2, a=-0.75, x0=1.0, k=5.0, b=1.0)), 4)
    0.4517
    """
    z = -np.asarray(k) * (np.asarray(x, dtype=float) - x0)
    return a / (1.0 + np.exp(np.minimum(z, 700.0))) + b


def gadre_error(loss: Num, *, epsilon: Num, k: Num, gamma: Num) -> Num:
    """Gadre et al. 2024 (arXiv:2403.08540) §2: average top-1 error from loss,
    ``Err(L) = eps - k exp(-gamma L)`` (``decay_ours`` in the authors'
    ``scaling/laws.py``): error approaches ``eps`` as the loss grows.

    >>> round(float(gadre_error(3.0, epsilon=0.9, k=2.0, gamma=0.8)), 5)
    0.71856
    """
    g = -np.asarray(gamma) * np.asarray(loss, dtype=float)
    return epsilon - k * np.exp(np.minimum(g, 700.0))


def gadre_accuracy(loss: Num, *, epsilon: Num, k: Num, gamma: Num) -> Num:
    """The accuracy behind :func:`gadre_error`, ``1 - Err(L)``.

    >>> round(float(gadre_accuracy(3.0, epsilon=0.9, k=2.0, gamma=0.8)), 5)
    0.28144
    """
    return 1.0 - gadre_error(loss, epsilon=epsilon, k=k, gamma=gamma)


@dataclass(frozen=True)
class LinkKind:
    """One link: its formula, constants, bounds, starts and the rows it is fitted on."""

    name: str
    source: str
    constants: tuple[str, ...]
    """Constant names, in the order draws store them."""
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    rows: str
    """``every`` checkpoint (after :func:`early_mask` and :func:`trailing_mean`) or each
    run's ``final`` one."""
    formula: Callable[..., Num]
    helper: tuple[float, float] | None = None
    """A point every fit and resample includes (the ladder's ``(0, 1)``: a perfect
    model's loss is zero and its accuracy one, the authors' ``use_helper_points``)."""

    def predict(self, x: Num, k: Mapping[str, Any]) -> Num:
        """The metric at intermediate loss ``x`` from constants ``k`` (arrays broadcast)."""
        return self.formula(x, **{name: k[name] for name in self.constants})

    def starts(self, floor: float) -> np.ndarray:
        """Start points ``(S, p)`` for the least-squares fit; ``floor`` is the metric's
        chance level (the ladder starts ``a`` at ``floor - 1``)."""
        if self.name == "sigmoid":
            rows = [
                [floor - 1.0, 0.9, 3.0, 1.0],  # the authors' first start, b at task maximum 1
                [-0.7, 0.6, 7.0, 1.0],
                [-0.7, 1.4, 3.2, 1.0],
                [-0.09, 0.6, 6.5, 0.1],
                [-0.64, 0.0, 12.7, 1.0],
            ]  # the authors' starts (src/fitting/step2.py) clipped into the bounds
        else:
            rows = [[1.0, 1.0, 1.0], [1.0, 10.0, 1.0], [0.8, 1.0, 0.5]]  # curve_fit's p0 first
        return np.clip(np.array(rows, dtype=float), self.lower, self.upper)

    def values(self, theta: np.ndarray) -> dict[str, float]:
        """Named constants of one parameter vector."""
        return {name: float(v) for name, v in zip(self.constants, theta, strict=True)}


_INF = math.inf
LINKS: dict[str, LinkKind] = {
    "sigmoid": LinkKind(
        "sigmoid",
        "Bhagia et al. 2024 (arXiv:2412.04403), step 2",
        ("a", "x0", "k", "b"),
        (-1.0, 0.0, 0.0, 0.0),
        (0.0, _INF, _INF, 1.0),
        "every",
        lambda x, a, x0, k, b: ladder_accuracy(x, a=a, x0=x0, k=k, b=b),
        helper=(0.0, 1.0),
    ),
    "exponential": LinkKind(
        "exponential",
        "Gadre et al. 2024 (arXiv:2403.08540)",
        ("epsilon", "k", "gamma"),
        (-_INF, -_INF, -_INF),
        (_INF, _INF, _INF),
        "final",
        lambda x, epsilon, k, gamma: gadre_accuracy(x, epsilon=epsilon, k=k, gamma=gamma),
    ),
}
"""The links by name."""


def link_kind(name: str) -> LinkKind:
    """The link named ``name``; :class:`ArgumentError` naming ``link`` otherwise."""
    try:
        return LINKS[str(name)]
    except KeyError:
        raise ArgumentError("link", f"expected one of {', '.join(LINKS)}, got {name!r}") from None


def early_mask(run: np.ndarray, skip: float = LADDER_SKIP) -> np.ndarray:
    """True for the checkpoints step 2 keeps: all but the first ``ceil(skip n)`` of each
    run's ``n`` checkpoints, in the order given (the authors' ``skip_perc``).

    >>> int(early_mask(np.array(["a"] * 10 + ["b"] * 3)).sum())
    11
    """
    run = np.asarray(run).astype(str)
    keep = np.ones(len(run), dtype=bool)
    for name in np.unique(run):
        where = np.flatnonzero(run == name)
        keep[where[: math.ceil(skip * len(where))]] = False
    return keep


def trailing_mean(values: np.ndarray, run: np.ndarray, window: int = LADDER_WINDOW) -> np.ndarray:
    """Each value replaced by the mean of it and the ``window - 1`` before it in its run
    (fewer at a run's start), in the order given: the authors' ``moving_average``.

    >>> trailing_mean(np.array([1.0, 2.0, 3.0, 4.0]), np.array(["r"] * 4), 2).tolist()
    [1.0, 1.5, 2.5, 3.5]
    """
    values = np.asarray(values, dtype=float)
    run = np.asarray(run).astype(str)
    out = np.empty_like(values)
    for name in np.unique(run):
        where = np.flatnonzero(run == name)
        sums = np.cumsum(values[where])
        lagged = np.concatenate([np.zeros(window), sums])[: len(where)]
        counts = np.minimum(np.arange(1, len(where) + 1), window)
        out[where] = (sums - lagged) / counts
    return out
