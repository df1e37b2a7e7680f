"""Build a training corpus from text files already on the machine: no download needed.

The output is the nanoGPT convention: ``train.bin`` and ``val.bin`` hold token ids as a
flat little-endian uint16 (or uint32) array, and ``meta.json`` says which (dtype,
vocabulary, tokenizer, counts). Documents are assigned to the validation split by a
stable hash of their path, so the held-out set is the same on every build and no
document is split across train and val.

Any Python installation carries a real corpus: the standard library's sources and
docstrings (:func:`stdlib_root`), several megabytes of code and English prose.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import sysconfig
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from flopwise.trainer.tokenizer import ByteTokenizer

__all__ = ["CorpusConfig", "CorpusInfo", "build_corpus", "docstrings", "stdlib_root"]


def stdlib_root() -> Path:
    """The running interpreter's standard-library directory."""
    return Path(sysconfig.get_paths()["stdlib"])


@dataclass(frozen=True, kw_only=True)
class CorpusConfig:
    """Which text files become a corpus, and how they are split."""

    sources: tuple[str, ...]
    """Files or directories (searched recursively) to read."""
    suffixes: tuple[str, ...] = (".py", ".txt", ".md", ".rst")
    """File name endings to read inside directories."""
    exclude: tuple[str, ...] = ("site-packages", "__pycache__", "dist-packages")
    """Directory names skipped while walking."""
    max_bytes: int = 16_000_000
    """Stop adding documents once this many bytes are collected."""
    val_fraction: float = 0.05
    """Share of documents (by stable path hash) held out for validation."""
    docstrings_only: bool = False
    """Keep only the docstrings of Python files (prose rather than code)."""

    def __post_init__(self) -> None:
        if not self.sources:
            raise ValueError("sources: give at least one file or directory")
        if isinstance(self.max_bytes, bool) or self.max_bytes < 1024:
            raise ValueError(f"max_bytes must be at least 1024, got {self.max_bytes!r}")
        if not 0.0 < self.val_fraction < 0.5:
            raise ValueError(f"val_fraction must be in (0, 0.5), got {self.val_fraction!r}")
        for source in self.sources:
            if not Path(source).exists():
                raise ValueError(f"sources: {source} does not exist")


@dataclass(frozen=True, kw_only=True)
class CorpusInfo:
    """What ``meta.json`` records about a built corpus."""

    vocab_size: int
    dtype: str
    tokenizer: str
    train_tokens: int
    val_tokens: int
    documents: int
    val_documents: int
    config: dict[str, object]

    @classmethod
    def load(cls, data_dir: str | Path) -> CorpusInfo:
        """Read ``meta.json`` from a corpus directory."""
        return cls(**json.loads((Path(data_dir) / "meta.json").read_text()))


def docstrings(source: str) -> str:
    """The module, class and function docstrings of Python source, blank-line separated."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ""
    nodes = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    found = (ast.get_docstring(n) for n in ast.walk(tree) if isinstance(n, nodes))
    return "\n\n".join(d for d in found if d)


def _files(config: CorpusConfig) -> Iterator[tuple[str, Path]]:
    """(stable key, path) of every candidate file, in a hash order that mixes directories."""
    found: list[tuple[str, Path]] = []
    for source in map(Path, config.sources):
        if source.is_file():
            found.append((source.name, source))
            continue
        for root, dirs, names in os.walk(source):
            dirs[:] = sorted(d for d in dirs if d not in config.exclude)
            for name in names:
                if name.endswith(config.suffixes):
                    path = Path(root) / name
                    found.append((str(path.relative_to(source)), path))
    found.sort(key=lambda kp: hashlib.sha1(kp[0].encode()).hexdigest())
    yield from found


def _read(path: Path, docstrings_only: bool) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return ""
    if docstrings_only and path.suffix == ".py":
        text = docstrings(text)
    return text.strip()


def _is_val(key: str, fraction: float) -> bool:
    bucket = int(hashlib.sha1(b"val:" + key.encode()).hexdigest()[:8], 16)
    return bucket < fraction * 0xFFFFFFFF


def build_corpus(config: CorpusConfig, out_dir: str | Path) -> CorpusInfo:
    """Tokenise ``config``'s files into ``out_dir/{train,val}.bin`` and ``meta.json``.

    A directory already holding a corpus built from the same config is reused.
    """
    out = Path(out_dir)
    wanted = json.loads(json.dumps(asdict(config)))
    if (out / "meta.json").exists():
        info = CorpusInfo.load(out)
        if info.config == wanted:
            return info
    tokenizer = ByteTokenizer()
    parts: dict[bool, list[np.ndarray]] = {False: [], True: []}
    total = 0
    eot = np.array([tokenizer.eot], dtype=np.uint16)
    for key, path in _files(config):
        text = _read(path, config.docstrings_only)
        if not text:
            continue
        ids = tokenizer.encode(text)
        parts[_is_val(key, config.val_fraction)].extend((ids, eot))
        total += ids.size
        if total >= config.max_bytes:
            break
    if not parts[False] or not parts[True]:
        raise ValueError("sources: too little text for both a train and a val split")
    out.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for is_val, name in ((False, "train"), (True, "val")):
        tokens = np.concatenate(parts[is_val])
        tmp = out / f"{name}.bin.tmp"
        tokens.tofile(tmp)
        os.replace(tmp, out / f"{name}.bin")
        sizes[name] = int(tokens.size)
    info = CorpusInfo(
        vocab_size=tokenizer.vocab_size,
        dtype="uint16",
        tokenizer=tokenizer.name,
        train_tokens=sizes["train"],
        val_tokens=sizes["val"],
        documents=len(parts[False]) // 2 + len(parts[True]) // 2,
        val_documents=len(parts[True]) // 2,
        config=wanted,
    )
    (out / "meta.json").write_text(json.dumps(asdict(info), indent=1))
    return info
