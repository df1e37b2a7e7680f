"""Constraints as data (the lmfit idea): a tied or fixed constant is a fact about the
parameter vector, not a special case in the solver.

:class:`ParamMap` maps the free parameters of an LSE fit to the full ``theta`` once
(``theta = fixed + P free``) and pulls gradients back (``g_free = g P``); the solver,
the objectives and the polish see only free parameters. ``tie={"beta": "alpha"}``
makes beta equal alpha; ``fix={"E": 1.8}`` holds E at 1.8 (exponents as given,
coefficients and E through their logs). A form's own repeated exponent names
(Gadre et al.'s ``eta``) are ties too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms import LseSpec

__all__ = ["ParamMap", "param_map"]


@dataclass(frozen=True, eq=False)
class ParamMap:
    """Free parameters <-> full theta. ``source[i]`` is the free index theta[i] reads,
    or -1 when theta[i] is fixed at ``fixed[i]``."""

    source: np.ndarray
    fixed: np.ndarray

    @property
    def n_free(self) -> int:
        return int(self.source.max()) + 1 if (self.source >= 0).any() else 0

    @property
    def identity(self) -> bool:
        return bool(np.array_equal(self.source, np.arange(len(self.source))))

    @property
    def free_index(self) -> np.ndarray:
        """The theta index that stands for each free parameter (its first occurrence)."""
        return np.array([int(np.flatnonzero(self.source == j)[0]) for j in range(self.n_free)])

    def expand(self, free: np.ndarray) -> np.ndarray:
        """Full theta ``(S, n)`` from free parameters ``(S, m)``."""
        if self.identity:
            return free
        free = np.atleast_2d(free)
        out = np.broadcast_to(self.fixed, (len(free), len(self.source))).astype(free.dtype)
        tied = self.source >= 0
        out[:, tied] = free[:, self.source[tied]]
        return out

    def reduce(self, theta: np.ndarray) -> np.ndarray:
        """Free parameters of full theta rows (the representative of each tie)."""
        if self.identity:
            return theta
        return np.atleast_2d(theta)[:, self.free_index]

    def pull_back(self, grad: np.ndarray) -> np.ndarray:
        """Gradient in free parameters from the full gradient: tied entries summed."""
        if self.identity:
            return grad
        out = np.zeros((len(grad), self.n_free), dtype=grad.dtype)
        for i, j in enumerate(self.source):
            if j >= 0:
                out[:, j] += grad[:, i]
        return out


def _index(spec: LseSpec) -> dict[str, int]:
    """Constant name -> theta index (a tied exponent name -> its first index)."""
    k = spec.k
    out: dict[str, int] = {"E": 2 * k}
    for j in range(k):
        out.setdefault(spec.exponents[j], j)
        out[spec.coefficients[j]] = k + j
    return out


def _root(name: str, tie: Mapping[str, str]) -> str:
    seen = [name]
    while name in tie:
        name = tie[name]
        if name in seen:
            raise ArgumentError("tie", f"ties form a cycle: {' = '.join([*seen, name])}")
        seen.append(name)
    return name


def param_map(
    spec: LseSpec, tie: Mapping[str, str] | None = None, fix: Mapping[str, float] | None = None
) -> ParamMap:
    """The map for ``spec`` under ``tie`` (constant -> constant it equals) and ``fix``
    (constant -> value). Unknown names, cycles, ties between an exponent and a
    coefficient, and fixing a tied constant raise ``ArgumentError`` naming ``tie``/``fix``."""
    tie, fix = dict(tie or {}), dict(fix or {})
    index = _index(spec)
    exps = set(spec.exponents)
    for name, other in tie.items():
        for each in (name, other):
            if each not in index:
                raise ArgumentError("tie", f"{each!r} is not a constant of {spec.form}")
        if (name in exps) != (other in exps):
            raise ArgumentError(
                "tie", f"cannot tie {name} to {other}: an exponent to a coefficient"
            )
    for name, value in fix.items():
        if name not in index:
            raise ArgumentError("fix", f"{name!r} is not a constant of {spec.form}")
        if name in tie or name in tie.values():
            raise ArgumentError("fix", f"{name} is tied; fix the constant it is tied to")
        if not math.isfinite(value) or (name not in exps and value <= 0):
            raise ArgumentError("fix", f"{name} must be finite (and positive unless an exponent)")
    n = 2 * spec.k + 1
    root_of = [spec.exponents[i] if i < spec.k else None for i in range(n)]
    names = {i: name for name, i in index.items()}
    source = np.full(n, -1)
    fixed = np.zeros(n)
    free: dict[int, int] = {}
    for i in range(n):
        name = root_of[i] or names[i]
        root = index[_root(name, tie)]
        if _root(name, tie) in fix:
            v = fix[_root(name, tie)]
            fixed[i] = v if i < spec.k else math.log(v)
        else:
            source[i] = free.setdefault(root, len(free))
    return ParamMap(source, fixed)
