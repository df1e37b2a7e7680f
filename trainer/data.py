"""Token files in the nanoGPT convention, random training batches and a fixed val set.

``train.bin`` / ``val.bin`` are flat arrays of token ids (uint16, or uint32 for large
vocabularies), read through ``np.memmap`` so a corpus larger than memory costs nothing.
``meta.json`` (or nanoGPT's defaults: uint16) gives the dtype and vocabulary.

Batches are a pure function of ``(seed, step)``: the whole *global* batch of a step is
drawn from ``np.random.default_rng([seed, step])`` and each process (DDP rank) and
micro-step takes its slice. A resumed run therefore sees exactly the batches it would
have seen, and a run on 2 processes sees the same data as one process with the whole
batch, without any data-loader state in the checkpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

__all__ = ["TokenData", "batch_offsets", "val_offsets"]

_DTYPES = {"uint16": np.uint16, "uint32": np.uint32}


@dataclass(frozen=True)
class TokenData:
    """A corpus directory: memory-mapped train and val token arrays."""

    train: np.ndarray
    val: np.ndarray
    vocab_size: int
    tokenizer: str

    @classmethod
    def open(cls, data_dir: str | Path) -> TokenData:
        """Open ``data_dir``; ``ValueError`` names a missing or unreadable file."""
        root = Path(data_dir)
        meta_path = root / "meta.json"
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        dtype_name = meta.get("dtype", "uint16")
        if dtype_name not in _DTYPES:
            raise ValueError(f"data: {meta_path} has dtype {dtype_name!r}; use uint16 or uint32")
        arrays = {}
        for split in ("train", "val"):
            path = root / f"{split}.bin"
            if not path.exists():
                raise ValueError(f"data: {path} is missing (build one with `trainer corpus`)")
            arrays[split] = np.memmap(path, dtype=_DTYPES[dtype_name], mode="r")
        vocab = int(meta.get("vocab_size", 1 + max(int(a.max()) for a in arrays.values())))
        return cls(
            train=arrays["train"],
            val=arrays["val"],
            vocab_size=vocab,
            tokenizer=str(meta.get("tokenizer", "unknown")),
        )

    def check(self, seq_len: int, vocab_size: int) -> None:
        """Refuse a model the data cannot feed (too-small vocabulary, too-short split)."""
        if self.vocab_size > vocab_size:
            raise ValueError(
                f"vocab_size: the data has {self.vocab_size} token ids, the model {vocab_size}"
            )
        for split, arr in (("train", self.train), ("val", self.val)):
            if arr.size < seq_len + 2:
                raise ValueError(f"data: {split}.bin has {arr.size} tokens, fewer than seq_len")


def batch_offsets(n_tokens: int, seq_len: int, batch_size: int, seed: int, step: int) -> np.ndarray:
    """Start positions of the ``batch_size`` sequences of global step ``step``."""
    rng = np.random.default_rng([seed, step])
    return rng.integers(0, n_tokens - seq_len - 1, size=batch_size)


def val_offsets(n_tokens: int, seq_len: int, n_sequences: int) -> np.ndarray:
    """The fixed held-out set: ``n_sequences`` windows spread evenly over ``val.bin``."""
    last = n_tokens - seq_len - 1
    n = min(n_sequences, max(1, last // seq_len + 1))
    return np.linspace(0, last, num=n).astype(np.int64)


def gather(
    tokens: np.ndarray, offsets: np.ndarray, seq_len: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and next-token targets, each (B, T) int64, on ``device``."""
    rows = np.stack([np.asarray(tokens[o : o + seq_len + 1], dtype=np.int64) for o in offsets])
    batch = torch.from_numpy(rows)  # (B, T+1)
    if device.type == "cuda":
        batch = batch.pin_memory().to(device, non_blocking=True)
    return batch[:, :-1], batch[:, 1:]
