"""The built-in tokenizer: UTF-8 bytes, so a sweep needs no vocabulary file and no download.

Token ids are the bytes themselves (0-255, vocabulary 256). Documents are joined by
:data:`EOT`, the NUL byte, which never occurs in text files, so the model sees where
one document ends without a 257th token (the vocabulary stays a multiple of 64).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["EOT", "ByteTokenizer"]

EOT = 0
"""End-of-text id between documents (the NUL byte)."""


@dataclass(frozen=True)
class ByteTokenizer:
    """Byte-level tokenizer: ``encode`` text to uint16 ids, ``decode`` them back."""

    name: str = "bytes-utf8"
    vocab_size: int = 256
    eot: int = EOT

    def encode(self, text: str) -> np.ndarray:
        """Text -> token ids (uint16, one per UTF-8 byte); NUL bytes are dropped."""
        data = text.encode("utf-8", errors="replace").replace(b"\x00", b"")
        return np.frombuffer(data, dtype=np.uint8).astype(np.uint16)

    def decode(self, ids: np.ndarray | list[int]) -> str:
        """Token ids -> text (EOT shown as a newline; invalid UTF-8 replaced)."""
        raw = bytes(int(i) for i in np.asarray(ids).ravel())
        return raw.replace(b"\x00", b"\n").decode("utf-8", errors="replace")
