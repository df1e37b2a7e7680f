"""Where an expected number comes from: a published reference, or a regression pin.

A test that compares flopwise's answer with a number says which kind of number it is by
wrapping it in one of the two functions below. Both return the value unchanged, so the
assertion reads as before::

    assert result.params == pytest.approx(published(4.04e10, HOFFMANN + ", Fig. 4"), rel=0.01)
    assert stored == regression_pin(value, how="python -m ...", why="...")

- :func:`published`: the number comes from outside flopwise: a paper (table, figure,
  equation, page or section), an author's released file, or a standard table. Where the
  number itself is not printed but follows from printed inputs by arithmetic (what
  ``docs/laws.md`` marks [C]), ``derived=`` states that arithmetic; it never means "what
  flopwise computes". A failure means flopwise disagrees with the source.
- :func:`regression_pin`: the number is what flopwise itself produced (a stored fit, a
  bundled file of draws, a value printed by our own fit or search). ``how=`` says how to
  regenerate it, ``why=`` what pinning it guards. A failure means the code's output moved:
  regenerate the value deliberately, or find what changed.

See ``tests/README.md``.
"""

from __future__ import annotations

from typing import TypeVar

__all__ = [
    "BESIROGLU",
    "BHAGIA",
    "BROWN",
    "DEEPSEEK",
    "EPOCH_REPO",
    "GADRE",
    "GEMSTONES_REPO",
    "HOFFMANN",
    "KAPLAN",
    "MCLEISH",
    "MUENNIGHOFF",
    "OLMO_LADDER_REPO",
    "PEARCE_SONG",
    "PORIAN",
    "PORIAN_REPO",
    "RADFORD",
    "SARDANA",
    "published",
    "regression_pin",
]

T = TypeVar("T")

# The papers and repositories cited (docs/laws.md §0 lists them with titles).
KAPLAN = "Kaplan et al. 2020 (arXiv:2001.08361)"
HOFFMANN = "Hoffmann et al. 2022 (arXiv:2203.15556)"
BESIROGLU = "Besiroglu et al. 2024 (arXiv:2404.10102)"
EPOCH_REPO = "epoch-research/analyzing-chinchilla"
PORIAN = "Porian et al. 2024 (arXiv:2406.19146)"
PORIAN_REPO = "formll/resolving-scaling-law-discrepancies"
DEEPSEEK = "DeepSeek-AI 2024 (arXiv:2401.02954)"
SARDANA = "Sardana et al. 2024 (arXiv:2401.00448)"
MUENNIGHOFF = "Muennighoff et al. 2023 (arXiv:2305.16264)"
MCLEISH = "McLeish et al. 2025 (arXiv:2502.06857)"
GEMSTONES_REPO = "mcleish7/gemstone-scaling-laws"
PEARCE_SONG = "Pearce & Song 2024 (arXiv:2406.12907)"
BHAGIA = "Bhagia et al. 2024 (arXiv:2412.04403)"
OLMO_LADDER_REPO = "allenai/OLMo-ladder"
GADRE = "Gadre et al. 2024 (arXiv:2403.08540)"
RADFORD = "Radford et al. 2019 (GPT-2)"
BROWN = "Brown et al. 2020 (arXiv:2005.14165)"


def _said(kind: str, **texts: str | None) -> None:
    for name, text in texts.items():
        if text is not None and not text.strip():
            raise ValueError(f"{kind}: {name} must say something")


def published(value: T, source: str, *, derived: str | None = None) -> T:
    """``value``, a reference from ``source`` (where in it: table, figure, equation, page,
    section or file); ``derived`` the arithmetic when the source prints the inputs, not
    the number."""
    _said("published", source=source, derived=derived)
    return value


def regression_pin(value: T, *, how: str, why: str) -> T:
    """``value``, flopwise's own output as of when it was pinned; ``how`` regenerates it,
    ``why`` says what a change would reveal."""
    _said("regression_pin", how=how, why=why)
    return value
