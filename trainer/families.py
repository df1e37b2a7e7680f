"""Model families a sweep draws its shapes from, with their training defaults.

A family fixes everything but width and depth (``fitting.counting.ArchFamily``) and
the training settings that go with that scale. ``gemstones`` is the recipe of
McLeish et al. 2025 (docs/laws.md §8.1: head 128, GQA 2:1, gated MLP 4x, untied, seq 2048);
``small`` and ``tiny`` shrink head size and context so that models of a few million
and a few hundred thousand parameters are still sensible transformers, for
calibration on one GPU or on a CPU.

Learning rates keep Gemstones' shape rule ``lr_base / (width sqrt(depth))``; ``lr_base``
is lowered with the batch (Gemstones' 5 is for 4M-token batches): tiny's 0.5 at
2k-token batches was the best of {0.3, 0.6, 1.25, 2.5, 5, 10} on the standard-library
corpus for 64x2 and 128x4 models. Tiny widths come in steps of 32 and depths of one, so
its wide and deep shapes are 2x off the standard aspect, not 4x: at 4x the deep shapes
are 32-wide stacks of ten or more blocks, and a Chinchilla fit over such a sweep loses
the parameter term (alpha of 5 and more in our runs, against 0.4-0.7 at 2x).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flopwise.fitting.counting import ArchFamily

__all__ = ["FAMILIES", "Family", "family"]


@dataclass(frozen=True, kw_only=True)
class Family:
    """One family of calibration models and its training defaults."""

    name: str
    arch: ArchFamily
    """Head size, grouping, MLP, context; vocabulary is replaced by the data's."""
    standard_aspect: float
    """Width/depth of the 'standard' shape; 'wide' and 'deep' multiply/divide it."""
    aspect_spread: float
    """By how much 'wide' and 'deep' multiply/divide the standard width/depth."""
    batch_size: int
    """Sequences per optimizer step."""
    lr_base: float
    """Gemstones LR rule numerator at this batch size."""
    max_width: int
    max_depth: int
    warmup_steps: int
    """Linear warmup length (Gemstones: 80M tokens at 4M per step, i.e. 20 steps)."""

    @property
    def tokens_per_step(self) -> int:
        return self.batch_size * self.arch.seq_len

    def with_vocab(self, vocab_size: int) -> Family:
        """The family for data with ``vocab_size`` token ids."""
        return replace(self, arch=replace(self.arch, vocab_size=vocab_size))


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            name="tiny",
            arch=ArchFamily(head_dim=16, kv_group=2, vocab_size=256, seq_len=128),
            standard_aspect=16.0,
            aspect_spread=2.0,
            batch_size=16,
            lr_base=0.5,
            max_width=512,
            max_depth=12,
            warmup_steps=10,
        ),
        Family(
            name="small",
            arch=ArchFamily(head_dim=64, kv_group=2, vocab_size=256, seq_len=512),
            standard_aspect=32.0,
            aspect_spread=4.0,
            batch_size=64,
            lr_base=1.5,
            max_width=2048,
            max_depth=48,
            warmup_steps=50,
        ),
        Family(
            name="gemstones",
            arch=ArchFamily(head_dim=128, kv_group=2, vocab_size=256, seq_len=2048),
            standard_aspect=64.0,
            aspect_spread=4.0,
            batch_size=256,
            lr_base=2.5,
            max_width=8192,
            max_depth=96,
            warmup_steps=100,
        ),
    )
}


def family(name: str) -> Family:
    """A family by name; ``ValueError`` names the unknown one."""
    if name not in FAMILIES:
        raise ValueError(f"family: unknown {name!r}; known: {', '.join(FAMILIES)}")
    return FAMILIES[name]
