"""Corpus building, the byte tokenizer, and deterministic batches."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from flopwise.trainer.corpus import CorpusConfig, CorpusInfo, build_corpus, docstrings, stdlib_root
from flopwise.trainer.data import TokenData, batch_offsets, val_offsets
from flopwise.trainer.tokenizer import ByteTokenizer


def test_byte_tokenizer_round_trip() -> None:
    tok = ByteTokenizer()
    text = "def f(x):\n    return 'héllo' ∑"
    ids = tok.encode(text)
    assert ids.dtype == np.uint16 and ids.max() < 256
    assert tok.decode(ids) == text
    assert tok.eot not in tok.encode("a\x00b")


def test_corpus_from_real_text(corpus_dir: Path) -> None:
    info = CorpusInfo.load(corpus_dir)
    data = TokenData.open(corpus_dir)
    assert info.vocab_size == data.vocab_size == 256 and info.tokenizer == "bytes-utf8"
    assert data.train.size == info.train_tokens > 1_000_000
    assert 0 < data.val.size == info.val_tokens < data.train.size
    text = ByteTokenizer().decode(data.train[:20_000])
    assert "def " in text or "class " in text  # Python sources
    assert info.val_documents >= 1 and info.documents > info.val_documents


def test_corpus_is_reproducible_and_reused(tmp_path: Path) -> None:
    config = CorpusConfig(sources=(str(stdlib_root() / "json"),), max_bytes=200_000,
                          val_fraction=0.3)  # fmt: skip
    a = build_corpus(config, tmp_path / "a")
    b = build_corpus(config, tmp_path / "b")
    assert a == b
    assert (tmp_path / "a" / "train.bin").read_bytes() == (
        tmp_path / "b" / "train.bin"
    ).read_bytes()
    stamp = (tmp_path / "a" / "train.bin").stat().st_mtime_ns
    build_corpus(config, tmp_path / "a")  # same config: reused, not rebuilt
    assert (tmp_path / "a" / "train.bin").stat().st_mtime_ns == stamp


def test_docstrings_only(tmp_path: Path) -> None:
    source = '"""Module doc."""\n\ndef f():\n    """Function doc."""\n    return 1\n'
    assert docstrings(source) == "Module doc.\n\nFunction doc."
    for i in range(20):
        (tmp_path / f"m{i}.py").write_text(source.replace("Module", f"Module {i}"))
    config = CorpusConfig(sources=(str(tmp_path),), max_bytes=1024, val_fraction=0.3,
                          docstrings_only=True)  # fmt: skip
    build_corpus(config, tmp_path / "out")
    text = ByteTokenizer().decode(TokenData.open(tmp_path / "out").train)
    assert "Function doc." in text and "return" not in text


def test_corpus_refuses_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sources"):
        CorpusConfig(sources=(str(tmp_path / "missing"),))
    with pytest.raises(ValueError, match="val_fraction"):
        CorpusConfig(sources=(str(tmp_path),), val_fraction=0.0)
    (tmp_path / "one.txt").write_text("only one document")
    with pytest.raises(ValueError, match="too little text"):
        build_corpus(CorpusConfig(sources=(str(tmp_path),)), tmp_path / "out")


def test_token_data_errors(tmp_path: Path, corpus_dir: Path) -> None:
    with pytest.raises(ValueError, match="missing"):
        TokenData.open(tmp_path)
    (tmp_path / "meta.json").write_text(json.dumps({"dtype": "int8"}))
    with pytest.raises(ValueError, match="dtype"):
        TokenData.open(tmp_path)
    with pytest.raises(ValueError, match="vocab_size"):
        TokenData.open(corpus_dir).check(seq_len=8, vocab_size=100)


def test_nanogpt_files_without_meta(tmp_path: Path) -> None:
    np.arange(1000, dtype=np.uint16).tofile(tmp_path / "train.bin")
    np.arange(500, dtype=np.uint16).tofile(tmp_path / "val.bin")
    data = TokenData.open(tmp_path)
    assert data.vocab_size == 1000 and data.val.size == 500


def test_batches_are_a_function_of_seed_and_step() -> None:
    a = batch_offsets(10_000, 64, 8, seed=3, step=17)
    assert np.array_equal(a, batch_offsets(10_000, 64, 8, seed=3, step=17))
    assert not np.array_equal(a, batch_offsets(10_000, 64, 8, seed=3, step=18))
    assert a.min() >= 0 and a.max() <= 10_000 - 65


def test_val_set_is_fixed_and_spread() -> None:
    offsets = val_offsets(100_000, 64, 32)
    assert len(offsets) == 32 and offsets[0] == 0 and offsets[-1] == 100_000 - 65
    assert np.array_equal(offsets, val_offsets(100_000, 64, 32))
