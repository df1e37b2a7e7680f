"""Gemstones' LR rule, warmup-stable-decay, and where weight decay applies."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from flopwise.fitting.counting import ArchSpec
from flopwise.trainer.config import TrainConfig
from flopwise.trainer.model import ModelConfig, Transformer
from flopwise.trainer.optim import gemstones_lr, lr_multiplier, make_optimizer, schedule_steps


def test_gemstones_lr() -> None:
    # docs/laws.md §8.2: lr_eff = 5 / (width sqrt(depth))
    assert gemstones_lr(1024, 28) == pytest.approx(5 / (1024 * math.sqrt(28)))
    assert gemstones_lr(256, 80, lr_base=2.5) == pytest.approx(2.5 / (256 * math.sqrt(80)))
    # stability patch: width/depth > 256 scales as if depth = ceil(width / 100)
    assert gemstones_lr(3072, 3) == pytest.approx(5 / (3072 * math.sqrt(31)))


def test_schedule_warmup_constant_cooldown() -> None:
    total, warmup, cooldown = 100, 10, 20
    mults = [lr_multiplier(s, total, warmup, cooldown, "linear") for s in range(total)]
    assert mults[0] == pytest.approx(0.1)
    assert mults[9] == 1.0 and mults[50] == 1.0 and mults[79] == 1.0
    assert mults[80] == pytest.approx(1 - 1 / 20)
    assert mults[-1] == 0.0
    assert all(a >= b for a, b in itertools.pairwise(mults[10:]))
    sqrt = lr_multiplier(89, total, warmup, cooldown, "1-sqrt")
    assert sqrt == pytest.approx(1 - math.sqrt(0.5))


def test_constant_lr_without_cooldown() -> None:
    assert [lr_multiplier(s, 50, 0, 0, "linear") for s in range(50)] == [1.0] * 50


def test_schedule_steps() -> None:
    cfg = TrainConfig(data_dir="d", run_dir="r", tokens=1, warmup_tokens=1000,
                      cooldown_fraction=0.1)  # fmt: skip
    assert schedule_steps(cfg, total_steps=200, tokens_per_step=128) == (8, 20)


def test_no_weight_decay_on_norms_and_biases() -> None:
    arch = ArchSpec(width=32, depth=2, head_dim=16, vocab_size=256, seq_len=8, bias=True,
                    norm="layernorm")  # fmt: skip
    model = Transformer(ModelConfig(arch=arch))
    cfg = TrainConfig(data_dir="d", run_dir="r", tokens=1)
    opt = make_optimizer(model, cfg, lr=1e-3, device=torch.device("cpu"))
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    names = {id(p): n for n, p in model.named_parameters()}
    assert all(p.dim() >= 2 for p in decay["params"])
    no_decay_names = {names[id(p)] for p in no_decay["params"]}
    assert any("norm" in n for n in no_decay_names) and any("bias" in n for n in no_decay_names)
    assert "tok_emb.weight" in {names[id(p)] for p in decay["params"]}
    assert opt.defaults["betas"] == (0.9, 0.95) and opt.defaults["fused"] is True
    total = sum(p.numel() for g in opt.param_groups for p in g["params"])
    assert total == model.num_params()
