"""The calibration MoE family (``trainer.moe``): its parameter count is the counter's, its
routing is top-k with the Switch load-balancing loss, and a CPU sweep of tiny MoE models
fits the fine-grained MoE law end to end (docs/laws.md §14)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from flopwise.fitting.counting import ArchSpec
from flopwise.fitting.fit import fit
from flopwise.fitting.forms import law_form
from flopwise.fitting.moe import MoESpec, Routing, moe_counts
from flopwise.fitting.runs import Runs
from flopwise.trainer.model import ModelConfig
from flopwise.trainer.moe import Calibration, MoETransformer, calibrate, switch_balance_loss

VOCAB, SEQ = 64, 32


def spec(width: int, granularity: int, *, shared: int = 0, dense: int = 0) -> MoESpec:
    base = ArchSpec(
        width=width, depth=2, head_dim=16, ffn_size=4 * width, vocab_size=VOCAB, seq_len=SEQ
    )
    routing = Routing(
        experts=4 * granularity, top_k=granularity, shared_experts=shared, dense_layers=dense
    )
    return MoESpec(base=base, routing=routing, expert_ffn_size=4 * width // granularity)


@pytest.mark.parametrize("kwargs", [{}, {"shared": 1}, {"dense": 1}])
def test_trainer_counts_what_the_counter_counts(kwargs: dict[str, int]) -> None:
    s = spec(32, 2, **kwargs)
    model = MoETransformer(ModelConfig(arch=s.base), s)
    assert model.num_params() == moe_counts(s).total


def test_balance_loss_is_one_when_routing_is_uniform() -> None:
    probs = torch.full((8, 4), 0.25)
    chosen = torch.arange(8).remainder(4)[:, None]
    assert switch_balance_loss(probs, chosen, 4).item() == pytest.approx(1.0)
    skewed = torch.zeros((8, 1), dtype=torch.long)
    assert switch_balance_loss(torch.tensor([[0.7, 0.1, 0.1, 0.1]] * 8), skewed, 4) > 1


def test_forward_routes_top_k_and_adds_the_balance_loss() -> None:
    s = spec(32, 2)
    model = MoETransformer(ModelConfig(arch=s.base), s)
    idx = torch.randint(0, VOCAB, (2, SEQ))
    logits = model(idx)
    assert logits.shape == (2, SEQ, VOCAB)
    loss = model(idx, idx)
    loss.backward()
    router = model.blocks[0].mlp.router  # type: ignore[union-attr]
    assert router.weight.grad is not None and torch.isfinite(loss)


def _stream(n: int, seed: int) -> torch.Tensor:
    """A learnable token stream: a random sparse bigram chain over VOCAB tokens."""
    gen = torch.Generator().manual_seed(7)
    table = torch.softmax(3.0 * torch.randn(VOCAB, VOCAB, generator=gen), dim=-1)
    out = torch.empty(n, dtype=torch.long)
    state = torch.Generator().manual_seed(seed)
    out[0] = 0
    draws = torch.rand(n, generator=state)
    cdf = table.cumsum(dim=-1)
    for i in range(1, n):
        out[i] = torch.searchsorted(cdf[out[i - 1]], draws[i]).clamp(max=VOCAB - 1)
    return out


def test_cpu_moe_sweep_fits_the_fine_grained_law() -> None:
    torch.set_num_threads(1)
    specs = [spec(w, g) for w in (16, 32, 48) for g in (1, 2)]
    plan = Calibration(steps=60, batch_size=8, lr=3e-3, evals=(20, 40, 60), eval_batches=2)
    records = calibrate(specs, _stream(20_000, 1), _stream(4_000, 2), plan)
    assert len(records) == len(specs) * 3
    runs = Runs.from_records(records)
    assert runs.active_params is not None and np.all(runs.active_params < runs.params)
    report = fit(runs, form="fine-grained-moe", law_id="cpu-moe", workers=1)
    assert report.success, report.message
    law = report.law
    assert law is not None and law.form == "fine-grained-moe"
    assert law.constants["granularity"] == 1.5
    assert 0 < law.constants["active_ratio"] < 1
    # the fitted law reproduces the sweep it was fitted on
    form = law_form(law)
    predicted = form.loss(
        law.constants, params=runs.params, tokens=runs.tokens, granularity=runs.granularity
    )
    assert np.median(np.abs(np.asarray(predicted) / runs.loss - 1)) < 0.05
