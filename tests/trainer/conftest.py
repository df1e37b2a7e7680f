"""Shared fixtures of the trainer tests: a small real corpus and modest threads.

The corpus is built once per session from the running interpreter's standard library
(sources and docstrings: real text, present on every machine with Python).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from flopwise.trainer.corpus import CorpusConfig, build_corpus, stdlib_root

torch.set_num_threads(1)  # the test machine's cores are shared

CORPUS_BYTES = 2_000_000


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    build_corpus(CorpusConfig(sources=(str(stdlib_root()),), max_bytes=CORPUS_BYTES), out)
    return out
