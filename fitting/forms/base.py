"""The base every law form subclasses, in the scipy.stats style.

A form module defines a handful of members (its constant names, how it predicts loss,
its compute-optimal point, optionally an LSE layout for Approach 3 and shape terms)
and inherits the rest: checks of a law against the form, prediction from width/depth,
bootstrap bands. A form describes itself and never imports the fit engine or the
prediction layer above it: which method fits which form is the fit engine's table
(``fitting.fit.methods``). Nothing outside ``fitting/forms/`` branches on which form a
law has; it asks the form (:func:`fitting.forms.law_form`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms.numeric import NumericSpec
from flopwise.fitting.laws import CDefinition, Law, NDefinition
from flopwise.fitting.runs import Runs
from flopwise.fitting.shape import Shape, ShapeConstraints, law_params
from flopwise.fitting.stats import Band, interval, intervals

__all__ = ["Band", "LawForm", "LseSpec", "Optimum", "tokens_for"]

Num = Any  # float or numpy array
Optimum = tuple[np.ndarray, np.ndarray, np.ndarray | None, tuple[np.ndarray, np.ndarray] | None]
"""(N*, D*, loss or None, (width, depth) when the form chooses the shape itself)."""


@dataclass(frozen=True)
class LseSpec:
    """A form as an LSE power law ``L = exp(e) + sum_j exp(c_j) x_j^-a_j`` (Approach 3).

    ``theta = (a_1..a_k, c_1..c_k, e)``; see :mod:`fitting.fit.lse`. An exponent
    name that repeats (``("eta", "eta")``) ties those exponents: the form has one
    constant for them and the solver one free parameter.
    """

    form: str
    inputs: tuple[str, ...]
    """Runs columns, in theta order (``params``, ``tokens``, ``width``, ``depth``)."""
    exponents: tuple[str, ...]
    """Constant names of a_1..a_k."""
    coefficients: tuple[str, ...]
    """Constant names of exp(c_1)..exp(c_k)."""
    names: tuple[str, ...]
    """The form's constants, in the order laws store them and their draws."""

    @property
    def k(self) -> int:
        return len(self.inputs)

    @property
    def theta_names(self) -> tuple[str, ...]:
        """Parameter names in theta order, log coefficients written ``log_A`` etc."""
        exps = tuple(
            a if self.exponents.count(a) == 1 else f"{a}[{j}]" for j, a in enumerate(self.exponents)
        )
        return (*exps, *(f"log_{c}" for c in self.coefficients), "log_E")

    def log_inputs(self, runs: Runs) -> np.ndarray:
        """``(n, k)`` logs of the input columns; ``ArgumentError`` if a column is absent."""
        cols = []
        for name in self.inputs:
            col = getattr(runs, name)
            if col is None:
                raise ArgumentError(name, f"the {self.form} form needs a {name} column")
            cols.append(np.log(np.asarray(col, dtype=float)))
        return np.stack(cols, axis=1)

    def constants(self, theta: np.ndarray) -> dict[str, float]:
        """Named constants of one theta, in the form's order."""
        row = self.draws(np.asarray(theta, dtype=float)[None, :])[0]
        return {name: float(v) for name, v in zip(self.names, row, strict=True)}

    def draws(self, thetas: np.ndarray) -> np.ndarray:
        """Rows of theta as rows of constants in the form's order."""
        k = self.k
        cols = {"E": np.exp(thetas[:, 2 * k])}
        for j in range(k):
            cols[self.exponents[j]] = thetas[:, j]
            cols[self.coefficients[j]] = np.exp(thetas[:, k + j])
        return np.stack([cols[name] for name in self.names], axis=1)

    def theta(self, constants: Mapping[str, float]) -> np.ndarray:
        """Inverse of :meth:`constants`."""
        return np.array(
            [constants[a] for a in self.exponents]
            + [math.log(constants[c]) for c in self.coefficients]
            + [math.log(constants["E"])]
        )


def tokens_for(law: Law, flops: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Tokens that spend ``flops`` at size ``n`` under the law's C (Gemstones-counted
    laws: a 6N stand-in, replaced by the chosen shape's exact count once it is known)."""
    if law.c_definition is CDefinition.MD:
        return flops / n
    return flops / (6.0 * n)


class LawForm:
    """One functional form. Subclasses set the class attributes and override
    :meth:`loss` and :meth:`frontier` (at least); everything else has a default.
    A form that honours repeated data or inference demand overrides
    :meth:`refuse_extras` and :meth:`repeated_optimum` / :meth:`inference_optimum`;
    one fitted by another method than Approach 3 lists it in :attr:`methods` (the fit
    engine's table says how each method fits a form)."""

    name: ClassVar[str] = ""
    """The form's name, as laws, the API and the CLI spell it."""
    constants: ClassVar[tuple[str, ...]] = ()
    """Required constants, in the order bootstrap draws are stored."""
    optional: ClassVar[tuple[str, ...]] = ()
    """Constants a law may carry besides the required ones."""
    lse: ClassVar[LseSpec | None] = None
    """The LSE layout Approach 3 fits, or ``None`` when it fits the form otherwise."""
    numeric: ClassVar[NumericSpec | None] = None
    """What Approach 3 fits when the form has no LSE layout (``fitting.forms.numeric``)."""
    methods: ClassVar[tuple[str, ...]] = ("approach3",)
    """Fitting methods that produce this form."""
    c_definition: ClassVar[CDefinition] = CDefinition.SIX_ND
    """How a fit of this form counts C unless told."""
    shape_aware: ClassVar[bool] = False
    """The law has width/depth terms: it predicts from a shape and chooses the shape."""
    repeated_data: ClassVar[bool] = False
    """The form models repeated data (it reads unique tokens)."""
    loss_draws: ClassVar[bool] = True
    """Bootstrap draws move the loss frontier (a power law's draws leave it fixed)."""
    allocates: ClassVar[bool] = True
    """The form has a compute-optimal frontier (a loss-curve form answers only losses
    of given runs, ``fitting.forms.curve``)."""
    reads_schedule: ClassVar[bool] = False
    """The form predicts from a learning-rate schedule (``schedule=``)."""
    loss_params: ClassVar[NDefinition | None] = None
    """How :meth:`loss` counts ``params`` derived from a shape (``None``: as the law
    counts N)."""

    # -- laws -------------------------------------------------------------------
    def validate(self, law: Law) -> None:
        """Raise :class:`ArgumentError` unless ``law`` fits this form: its required
        constants present, none unknown, draws one column per required constant, and
        :meth:`check`."""
        missing = [k for k in self.constants if k not in law.constants]
        if missing:
            raise ArgumentError(
                "constants", f"law {law.id!r} ({law.form}) lacks {', '.join(missing)}"
            )
        unknown = sorted(set(law.constants) - set(self.constants) - set(self.optional))
        if unknown:
            raise ArgumentError(
                "constants", f"law {law.id!r} ({law.form}) has unknown {', '.join(unknown)}"
            )
        if law.draws is not None and law.draws.shape[1] != len(self.constants):
            raise ArgumentError(
                "draws",
                f"expected (n, {len(self.constants)}) for {law.form}, got {law.draws.shape}",
            )
        self.check(law)

    def check(self, law: Law) -> None:
        """Form-specific checks on a law beyond its constants (default: none)."""

    def draw_constants(self, law: Law) -> dict[str, np.ndarray] | None:
        """The law's bootstrap draws as one array per constant name, or ``None``."""
        if law.draws is None:
            return None
        return {name: law.draws[:, i] for i, name in enumerate(self.constants)}

    def chinchilla_constants(self, law: Law) -> dict[str, float] | None:
        """E, A, B, alpha, beta when the law has a Chinchilla core, else ``None``."""
        return None

    def allocation_notes(self, law: Law) -> list[str]:
        """Warnings every allocation under this form carries (default: none)."""
        return []

    # -- prediction -------------------------------------------------------------
    def loss(self, k: Mapping[str, Any], *, params: Num, tokens: Num, **inputs: Num) -> Num:
        """Loss at ``params`` and ``tokens`` (plus ``width``, ``depth``, ``unique_tokens``
        for forms that read them) from constants ``k``."""
        raise ArgumentError("law", f"the {self.name} form predicts loss only on its frontier")

    def predict(
        self,
        law: Law,
        k: Mapping[str, Any],
        *,
        params: Num,
        tokens: Num,
        width: Num,
        depth: Num,
        unique_tokens: Num,
        schedule: Any = None,
    ) -> Num:
        """:meth:`loss` after deriving ``params`` from width and depth when absent
        (counted as :attr:`loss_params` says); shape-aware forms need the shape, and
        forms that :attr:`reads_schedule` the run's schedule."""
        if self.shape_aware and (width is None or depth is None):
            raise ArgumentError(
                "width", f"law {law.id} ({law.form}) needs the model's width and depth"
            )
        if params is None:
            if width is None or depth is None:
                raise ArgumentError("params", f"law {law.id} needs params (or width and depth)")
            counted = law.n_definition if self.loss_params is None else self.loss_params
            params = law_params(counted, law.family, width, depth)
        extra = {"schedule": schedule} if self.reads_schedule else {}
        return self.loss(
            k,
            params=params,
            tokens=tokens,
            width=width,
            depth=depth,
            unique_tokens=unique_tokens,
            **extra,
        )

    def shape_terms(self, k: Mapping[str, Any], width: Num, depth: Num, params: Num) -> Num:
        """The loss terms that depend on shape alone (shape-aware forms)."""
        raise ArgumentError("law", f"the {self.name} form has no width/depth terms")

    # -- allocation -------------------------------------------------------------
    def optimum(
        self,
        law: Law,
        flops: np.ndarray,
        constraints: ShapeConstraints,
        unique_tokens: float | None,
        inference_tokens: float | None,
    ) -> Optimum:
        """(N*, D*, loss or None, shape or None) at each budget in ``flops``: after
        :meth:`refuse_extras`, :meth:`repeated_optimum` when ``unique_tokens`` caps the
        data, :meth:`inference_optimum` when ``inference_tokens`` are to be served, else
        :meth:`frontier`."""
        self.refuse_extras(law, unique_tokens, inference_tokens)
        if unique_tokens is not None:
            return self.repeated_optimum(law, flops, unique_tokens)
        if inference_tokens is not None:
            return self.inference_optimum(law, flops, inference_tokens)
        return self.frontier(law, flops, constraints)

    def frontier(self, law: Law, flops: np.ndarray, constraints: ShapeConstraints) -> Optimum:
        """The compute-optimal point at each budget, with no repeated data or inference."""
        raise NotImplementedError

    def repeated_optimum(self, law: Law, flops: np.ndarray, unique_tokens: float) -> Optimum:
        """The optimum when only ``unique_tokens`` distinct tokens exist."""
        raise NotImplementedError(f"the {self.name} form lets unique_tokens through")

    def inference_optimum(self, law: Law, flops: np.ndarray, inference_tokens: float) -> Optimum:
        """The optimum when the budget also pays for serving ``inference_tokens``."""
        raise NotImplementedError(f"the {self.name} form lets inference_tokens through")

    def refuse_extras(self, law: Law, unique_tokens: Any, inference_tokens: Any) -> None:
        """Raise for the repeated-data / inference options a form cannot honour
        (default: both)."""
        if unique_tokens is not None:
            raise ArgumentError(
                "unique_tokens", f"law {law.id} ({law.form}) cannot model repeated data"
            )
        if inference_tokens is not None:
            raise ArgumentError(
                "inference_tokens", f"law {law.id} ({law.form}) is not a Chinchilla-form law"
            )

    def draw_bands(
        self,
        law: Law,
        draws: Mapping[str, np.ndarray],
        *,
        flops: float,
        n: float,
        d: float,
        shape: Shape | None,
        unique_tokens: float | None,
        level: float,
    ) -> tuple[Band, Band, Band]:
        """Loss, N* and D* intervals at an allocation from the law's bootstrap draws:
        from :meth:`closed_form_draws` where the form has them, else a loss interval
        only, predicted from ``draws`` at the chosen point."""
        closed = self.closed_form_draws(law, flops, n, d)
        if closed is None:
            width = depth = None
            params: Any = n
            if shape is not None and self.shape_aware:
                width, depth, params = shape.width, shape.depth, shape.params
            losses = self.predict(
                law,
                draws,
                params=params,
                tokens=d,
                width=width,
                depth=depth,
                unique_tokens=None if self.shape_aware else unique_tokens,
            )
            return interval(losses, level), None, None
        loss_band, log_n_band = intervals(np.stack(closed), level)
        if log_n_band is None:
            return loss_band, None, None
        lo, hi = float(np.exp(log_n_band[0])), float(np.exp(log_n_band[1]))
        return loss_band, (lo, hi), (flops / (6.0 * hi), flops / (6.0 * lo))

    def closed_form_draws(
        self, law: Law, flops: float, n: float, d: float
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Per bootstrap draw, the loss at (``n``, ``d``) and log N* at ``flops``, for
        forms whose optimum has a closed form in ``C = 6ND`` (D* = C / 6N*); ``None``
        (the default) when N* has no closed form per draw."""
        return None
