"""The built-in ranked-classification task (docs/laws.md §20.4): fixed items from the
held-out split, scored as a direct computation scores them, recorded with every
evaluation of a run."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from flopwise.fitting.counting import ArchSpec
from flopwise.trainer.config import ModelConfig
from flopwise.trainer.data import TokenData
from flopwise.trainer.ddp import DistContext
from flopwise.trainer.model import Transformer
from flopwise.trainer.tasks import build_tasks, score_tasks, task_set
from flopwise.trainer.train import train
from tests.trainer.helpers import tiny_job

CPU = DistContext(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"))


def test_items_are_fixed_and_share_their_context(corpus_dir: Path) -> None:
    val = TokenData.open(corpus_dir).val
    tasks = build_tasks(val, items=32, seq_len=64)
    again = build_tasks(val, items=32, seq_len=64)
    np.testing.assert_array_equal(tasks.sequences, again.sequences)
    assert tasks.sequences.shape == (32, 4, 64) and tasks.context == 48
    for seqs, answer in zip(tasks.sequences, tasks.answer, strict=True):
        assert (seqs[:, :48] == seqs[0, :48]).all()  # every choice follows the same context
        windows = np.lib.stride_tricks.sliding_window_view(np.asarray(val, dtype=np.int64), 64)
        assert (windows == seqs[answer]).all(axis=1).any()  # the true one continues it in val
    assert task_set(val, 0, 64) is None and task_set(val[:1000], 128, 64) is None


def test_scores_are_summed_log_probabilities_of_the_continuations(corpus_dir: Path) -> None:
    torch.manual_seed(0)
    model = Transformer(ModelConfig(arch=ArchSpec(width=32, depth=2, head_dim=16,
                                                  vocab_size=256, seq_len=64)))  # fmt: skip
    tasks = build_tasks(TokenData.open(corpus_dir).val, items=8, seq_len=64)
    out = score_tasks(model, tasks, micro_batch=4, ctx=CPU, bf16=False, tokenizer="bytes-utf8")
    seqs = torch.from_numpy(tasks.sequences.reshape(-1, 64))
    with torch.no_grad():
        logp = F.log_softmax(model(seqs[:, :-1]).float(), dim=-1)
    picked = logp.gather(-1, seqs[:, 1:, None])[..., 0][:, 47:].sum(dim=1).view(8, 4)
    correct = (picked.argmax(dim=1).numpy() == tasks.answer).mean()
    truth = -picked[np.arange(8), tasks.answer].sum().item() / (8 * 16)
    assert out["continuation_acc"] == correct
    assert out["continuation_bpb"] == pytest.approx(truth / math.log(2), rel=1e-6)
    other = score_tasks(model, tasks, micro_batch=4, ctx=CPU, bf16=False, tokenizer="gpt2")
    assert set(other) == {"continuation_acc", "continuation_loss"}


def test_every_evaluation_records_the_task_metrics(corpus_dir: Path, tmp_path: Path) -> None:
    result = train(tiny_job(corpus_dir, tmp_path / "run", task_items=64))
    metrics = [r["metrics"] for r in result.observations]
    assert all(set(m) == {"continuation_acc", "continuation_bpb"} for m in metrics)
    assert all(0.0 <= m["continuation_acc"] <= 1.0 for m in metrics)
    assert metrics[-1]["continuation_bpb"] < metrics[0]["continuation_bpb"]  # it learns
    none = train(tiny_job(corpus_dir, tmp_path / "none", task_items=0))
    assert all(r["metrics"] == {} for r in none.observations)
