"""Fit McCandlish et al.'s critical batch to steps-to-target measurements.

For each group (a model size, say) of (batch, steps to reach a loss) pairs:
``ln S = ln S_min + ln(1 + B_noise / B)`` by least squares in log space (McCandlish et
al. 2018, §2.3; ``fitting.critical_batch``), solved by damped Gauss-Newton for the point
fit and every bootstrap draw at once (residuals resampled in log space). Then, across
groups, ``B_noise = k x^a`` in tokens by least squares in log-log, with ``x`` the data
size (``E_min = S_min B_noise`` tokens, as Zhang et al. 2024 find it scales) or the
model size; its bands come from the groups' draws, fitted draw by draw.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from flopwise.fitting.critical_batch import CriticalBatchLaw
from flopwise.fitting.datasets import DATA_DIR, read_table
from flopwise.fitting.errors import ArgumentError

__all__ = [
    "ZHANG_FILE",
    "ZHANG_SOURCE",
    "CriticalBatchFit",
    "GroupFit",
    "PowerLawFit",
    "fit_critical_batch",
    "fit_mccandlish",
    "fit_zhang",
    "parse_size",
    "zhang_columns",
]

ZHANG_FILE = DATA_DIR / "zhang2024_steps_to_target.csv"
ZHANG_SOURCE = (
    "Zhang et al. 2024, arXiv:2410.21676: hlzhang109/critical-batch-size @ c5b509d8, "
    "plots/chinchilla.ipynb (steps to a target C4 loss, 5 model sizes x 9 batches of "
    "512-token sequences)"
)
SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kKMBT])\s*$")
SCALE = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


def parse_size(label: str) -> float | None:
    """``"85M"`` -> 8.5e7, ``"1.2B"`` -> 1.2e9; ``None`` when the label is no size."""
    match = SIZE.match(label)
    return None if match is None else float(match[1]) * SCALE[match[2]]


def _start(batch: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """(ln S_min, ln B_noise) from the linear fit ``S = S_min + S_min B_noise / B``."""
    design = np.column_stack([np.ones_like(batch), 1.0 / batch])
    c0, c1 = np.linalg.lstsq(design, steps, rcond=None)[0]
    s_min = c0 if c0 > 0 else float(steps.min())
    b_noise = c1 / s_min if c1 > 0 else float(np.median(batch))
    return np.array([math.log(s_min), math.log(b_noise)])


def _solve(logb: np.ndarray, y: np.ndarray, theta: np.ndarray, iters: int = 200) -> np.ndarray:
    """Levenberg-Marquardt on ``y = u + ln(1 + exp(v - ln B))`` for every row of ``y``
    (``theta``: one (u, v) start per row); vectorised over rows."""
    theta = theta.copy()
    damping = np.full(len(y), 1e-3)

    def cost(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        z = t[:, 1:2] - logb
        r = y - (t[:, 0:1] + np.logaddexp(0.0, z))
        return (r**2).sum(axis=1), r, 1.0 / (1.0 + np.exp(-z))

    current, r, sig = cost(theta)
    n = float(logb.size)
    for _ in range(iters):
        a11, a12, a22 = n, sig.sum(axis=1), (sig**2).sum(axis=1)
        g1, g2 = r.sum(axis=1), (r * sig).sum(axis=1)
        d11, d22 = a11 * (1 + damping), a22 * (1 + damping) + 1e-12
        det = d11 * d22 - a12**2
        step = np.column_stack([(d22 * g1 - a12 * g2) / det, (d11 * g2 - a12 * g1) / det])
        trial = theta + step
        new, r_new, sig_new = cost(trial)
        better = new < current
        theta[better], current[better] = trial[better], new[better]
        r[better], sig[better] = r_new[better], sig_new[better]
        damping = np.where(better, damping / 3.0, damping * 4.0)
        if np.all(np.abs(step).max(axis=1) < 1e-10):
            break
    return theta


def fit_mccandlish(
    batch: ArrayLike, steps: ArrayLike, *, bootstrap: int = 0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, float]:
    """``((ln S_min, ln B_noise), bootstrap draws (n x 2), rms of the log residuals)``
    for one group; B_noise in the batch's unit."""
    b, s = np.asarray(batch, dtype=float), np.asarray(steps, dtype=float)
    logb, y = np.log(b), np.log(s)
    point = _solve(logb, y[None, :], _start(b, s)[None, :])[0]
    fitted = point[0] + np.logaddexp(0.0, point[1] - logb)
    residuals = y - fitted
    rms = float(np.sqrt(np.mean(residuals**2)))
    if bootstrap <= 0:
        return point, np.empty((0, 2)), rms
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, residuals.size, size=(bootstrap, residuals.size))
    draws = _solve(logb, fitted + residuals[picks], np.tile(point, (bootstrap, 1)))
    return point, draws, rms


@dataclass(frozen=True)
class GroupFit:
    """One group's S_min and B_noise (batch units), and both in tokens."""

    group: str
    s_min: float
    b_noise: float
    """In the batch column's unit (sequences, for Zhang et al.'s table)."""
    s_min_interval: tuple[float, float] | None
    b_noise_interval: tuple[float, float] | None
    b_noise_tokens: float
    e_min_tokens: float
    """The fewest tokens that reach the group's loss: S_min x B_noise x sequence length."""
    params: float | None
    points: int
    rms_log_steps: float


@dataclass(frozen=True)
class PowerLawFit:
    """``B_noise = k x^a`` tokens across groups."""

    variable: str
    k: float
    a: float
    k_interval: tuple[float, float] | None
    a_interval: tuple[float, float] | None
    r2: float
    domain: tuple[float, float]
    groups: int
    draws: tuple[tuple[float, float], ...] = field(default=(), repr=False)
    """Bootstrap draws of (ln k, a), one per draw of every group's fit."""

    def law(self, law_id: str, source: str) -> CriticalBatchLaw:
        """As a :class:`~fitting.critical_batch.CriticalBatchLaw`."""
        return CriticalBatchLaw(
            id=law_id,
            k=self.k,
            a=self.a,
            variable=self.variable,
            domain=self.domain,
            source=source,
            k_interval=self.k_interval,
            a_interval=self.a_interval,
            draws=self.draws or None,
        )


@dataclass(frozen=True)
class CriticalBatchFit:
    groups: tuple[GroupFit, ...]
    data_law: PowerLawFit | None
    """B_noise against E_min tokens (Zhang et al. 2024's finding)."""
    params_law: PowerLawFit | None
    """B_noise against model size, where the groups have one."""
    level: float
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (``flopwise fit-critical-batch --json``), draws left out."""
        out = asdict(self)
        for key in ("data_law", "params_law"):
            if out[key] is not None:
                out[key].pop("draws")
        return out


def _band(values: np.ndarray, level: float) -> tuple[float, float] | None:
    if values.size < 2:
        return None
    lo, hi = np.percentile(values, (100 * (1 - level) / 2, 100 * (1 + level) / 2))
    return float(lo), float(hi)


def _power_law(
    variable: str, x: np.ndarray, y: np.ndarray, xd: np.ndarray, yd: np.ndarray, level: float
) -> PowerLawFit:
    """OLS of ln y on ln x (point), and of every draw's ln y on ln x (bands)."""
    lx, ly = np.log(x), np.log(y)
    a, lk = np.polyfit(lx, ly, 1)
    r2 = 1.0 - np.sum((ly - lk - a * lx) ** 2) / np.sum((ly - ly.mean()) ** 2)
    k_band = a_band = None
    draws: tuple[tuple[float, float], ...] = ()
    if xd.size:
        lxd, lyd = np.log(xd), np.log(yd)
        mx, my = lxd.mean(axis=1, keepdims=True), lyd.mean(axis=1, keepdims=True)
        slopes = ((lxd - mx) * (lyd - my)).sum(axis=1) / ((lxd - mx) ** 2).sum(axis=1)
        a_band = _band(slopes, level)
        log_k = my[:, 0] - slopes * mx[:, 0]
        k_band = _band(np.exp(log_k), level)
        draws = tuple(zip(log_k.tolist(), slopes.tolist(), strict=True))
    return PowerLawFit(
        variable=variable,
        k=float(math.exp(lk)),
        a=float(a),
        k_interval=k_band,
        a_interval=a_band,
        r2=float(r2),
        domain=(float(x.min()), float(x.max())),
        groups=int(x.size),
        draws=draws,
    )


def _check(batch: np.ndarray, steps: np.ndarray, seq: np.ndarray) -> None:
    for name, values in (("batch", batch), ("steps", steps), ("sequence_length", seq)):
        if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values <= 0):
            raise ArgumentError(name, "every value must be a positive finite number")


def fit_critical_batch(
    batch: ArrayLike,
    steps: ArrayLike,
    groups: Sequence[str] | np.ndarray | None = None,
    *,
    sequence_length: ArrayLike = 1.0,
    params: ArrayLike | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    level: float = 0.9,
) -> CriticalBatchFit:
    """S_min and B_noise per group, and B_noise as a power law in data size (E_min
    tokens) and in model size (``params``, or sizes read off group labels like "85M").

    ``sequence_length`` turns the batch's unit into tokens (1 when the batch is in tokens).
    Raises ``ArgumentError`` naming the bad column (a group with fewer than three
    distinct batches cannot be fitted).
    """
    b, s = np.asarray(batch, dtype=float), np.asarray(steps, dtype=float)
    seq = np.broadcast_to(np.asarray(sequence_length, dtype=float), b.shape)
    labels = np.asarray(["all"] * b.size if groups is None else [str(g) for g in groups])
    if not (b.shape == s.shape == labels.shape):
        raise ArgumentError("steps", "batch, steps and groups must have one value per row")
    _check(b, s, seq)
    sizes = None if params is None else np.asarray(params, dtype=float)
    fits, warnings, draws = [], [], []
    for i, name in enumerate(dict.fromkeys(labels.tolist())):
        rows = labels == name
        size = float(sizes[rows][0]) if sizes is not None else parse_size(name)
        tokens = float(seq[rows][0])
        group, d = _fit_group(name, b[rows], s[rows], tokens, size, bootstrap, seed + i, level)
        fits.append(group)
        draws.append((np.exp(d[:, 1]) * tokens, np.exp(d.sum(axis=1)) * tokens))
        if not b[rows].min() <= group.b_noise <= b[rows].max():
            warnings.append(
                f"group {name}: B_noise {group.b_noise:.4g} lies outside the batches swept "
                f"({b[rows].min():.4g} to {b[rows].max():.4g}): an extrapolation"
            )
    return _across(fits, draws, level, warnings)


def _fit_group(
    name: str,
    batch: np.ndarray,
    steps: np.ndarray,
    tokens: float,
    size: float | None,
    bootstrap: int,
    seed: int,
    level: float,
) -> tuple[GroupFit, np.ndarray]:
    """One group's fit, and its bootstrap draws of (ln S_min, ln B_noise)."""
    if np.unique(batch).size < 3:
        raise ArgumentError("batch", f"group {name}: needs at least 3 distinct batch sizes")
    point, d, rms = fit_mccandlish(batch, steps, bootstrap=bootstrap, seed=seed)
    s_min, b_noise = np.exp(point)
    group = GroupFit(
        group=name,
        s_min=float(s_min),
        b_noise=float(b_noise),
        s_min_interval=_band(np.exp(d[:, 0]), level),
        b_noise_interval=_band(np.exp(d[:, 1]), level),
        b_noise_tokens=float(b_noise * tokens),
        e_min_tokens=float(s_min * b_noise * tokens),
        params=size,
        points=int(batch.size),
        rms_log_steps=rms,
    )
    return group, d


def _across(
    fits: list[GroupFit],
    draws: list[tuple[np.ndarray, np.ndarray]],
    level: float,
    warnings: list[str],
) -> CriticalBatchFit:
    if len(fits) < 3:
        warnings.append("fewer than 3 groups: no power law of B_noise across them")
        return CriticalBatchFit(tuple(fits), None, None, level, tuple(warnings))
    y = np.array([f.b_noise_tokens for f in fits])
    yd = np.stack([d[0] for d in draws], axis=1)
    data_x = np.array([f.e_min_tokens for f in fits])
    data_law = _power_law("tokens", data_x, y, np.stack([d[1] for d in draws], axis=1), yd, level)
    params_law = None
    if all(f.params is not None for f in fits):
        n = np.array([f.params for f in fits], dtype=float)
        params_law = _power_law("params", n, y, np.broadcast_to(n, yd.shape), yd, level)
    else:
        warnings.append("the groups carry no model size: no power law in model size")
    return CriticalBatchFit(tuple(fits), data_law, params_law, level, tuple(warnings))


def fit_zhang(bootstrap: int = 1000, seed: int = 0) -> CriticalBatchFit:
    """:func:`fit_critical_batch` on Zhang et al.'s bundled table (batches in sequences
    of 512 tokens, grouped by model size)."""
    table = zhang_columns()
    return fit_critical_batch(
        table["batch_size_sequences"],
        table["steps_to_target"],
        table["model"],
        sequence_length=table["sequence_length"],
        bootstrap=bootstrap,
        seed=seed,
    )


def zhang_columns() -> dict[str, np.ndarray]:
    """Zhang et al. 2024's table, bundled (``fitting/datasets/PROVENANCE.md``)."""
    rows = read_table(ZHANG_FILE)
    out = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    for key in ("batch_size_sequences", "sequence_length", "target_loss", "steps_to_target"):
        out[key] = out[key].astype(float)
    return out
