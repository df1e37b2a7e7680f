"""A small mixture-of-experts family for calibration sweeps, built from a ``fitting``
:class:`~flopwise.fitting.moe.MoESpec` so the trainer's parameter count is the counter's.

Each MoE block's MLP becomes ``experts`` routed MLPs (``expert_ffn_size`` wide) plus
``shared_experts`` MLPs every token passes through. A linear router scores the experts,
each token goes to its ``top_k`` best by softmax probability with the top-k weights
renormalised (Shazeer et al. 2017, arXiv:1701.06538 §2.1; Lepikhin et al. 2020 GShard,
arXiv:2006.16668 §2.2; Mixtral's renormalised top-2, arXiv:2401.04088 Eq. 1), and the
Switch Transformer load-balancing loss ``alpha E sum_i f_i P_i`` (Fedus et al. 2022,
arXiv:2101.03961 §2.2 Eq. 4: f_i the fraction of routed slots sent to expert i, P_i its
mean router probability, alpha = 0.01) is added to the training loss. Tokens are never
dropped (no capacity factor): every expert runs on the tokens routed to it.

:func:`build_model` builds a job's model from its config (``ModelConfig.experts``: a
calibration sweep's MoE run, ``trainer.moe_sweep``, trained by the ordinary loop of
``trainer.train``). :func:`calibrate` trains a few such models on one token stream and returns their
evaluations as run records (``params`` the total non-embedding count the MoE laws use,
``active_params``, ``granularity``, ``sparsity``, ``flops = 6 N_active D``), ready for
``fitting.fit`` with the ``fine-grained-moe`` or ``moe-sparsity`` form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from flopwise.fitting.moe import MoESpec, moe_counts
from flopwise.trainer.model import MLP, Block, ModelConfig, Transformer

__all__ = [
    "BALANCE_WEIGHT",
    "MoEMLP",
    "MoETransformer",
    "build_model",
    "calibrate",
    "switch_balance_loss",
]

BALANCE_WEIGHT = 0.01
"""alpha of the load-balancing loss (Fedus et al. 2022 §2.2: 10^-2)."""


def switch_balance_loss(probs: torch.Tensor, chosen: torch.Tensor, experts: int) -> torch.Tensor:
    """Fedus et al. 2022 Eq. 4 (without alpha): ``E sum_i f_i P_i``, with ``probs``
    (tokens, E) the router's softmax and ``chosen`` (tokens, k) the experts picked. Equal
    to 1 when routing is uniform (each f_i = P_i = 1/E)."""
    counts = torch.zeros(experts, device=probs.device, dtype=probs.dtype)
    counts.scatter_add_(0, chosen.flatten(), torch.ones_like(chosen.flatten(), dtype=probs.dtype))
    fraction = counts / chosen.numel()
    return experts * torch.sum(fraction * probs.mean(dim=0))


class MoEMLP(nn.Module):
    """Top-k routed experts plus shared ones, in place of one block's MLP."""

    def __init__(self, config: ModelConfig, spec: MoESpec) -> None:
        super().__init__()
        routing = spec.routing
        self.top_k, self.n_experts = routing.top_k, routing.experts
        width = config.arch.width
        self.router = nn.Linear(width, routing.experts, bias=False)
        expert = ModelConfig(arch=_with_ffn(config, spec.expert_ffn_size), **_extras(config))
        self.experts = nn.ModuleList(MLP(expert) for _ in range(routing.experts))
        self.shared = nn.ModuleList(MLP(expert) for _ in range(routing.shared_experts))
        self.balance = torch.zeros(())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, x.shape[-1])  # (tokens, C)
        probs = F.softmax(self.router(flat).float(), dim=-1)  # (tokens, E)
        weight, chosen = probs.topk(self.top_k, dim=-1)  # (tokens, k)
        weight = (weight / weight.sum(dim=-1, keepdim=True)).to(flat.dtype)
        out = torch.zeros_like(flat)
        for i, expert in enumerate(self.experts):
            token, slot = torch.nonzero(chosen == i, as_tuple=True)
            if token.numel():
                out.index_add_(0, token, expert(flat[token]) * weight[token, slot, None])
        for shared in self.shared:
            out = out + shared(flat)
        self.balance = switch_balance_loss(probs, chosen, self.n_experts)
        return out.reshape(x.shape)


def _with_ffn(config: ModelConfig, ffn: int) -> Any:
    return replace(config.arch, ffn_size=ffn)


def _extras(config: ModelConfig) -> dict[str, Any]:
    return {"activation": config.activation, "norm_eps": config.norm_eps}


class MoETransformer(Transformer):
    """:class:`~flopwise.trainer.model.Transformer` with MoE blocks after the first
    ``dense_layers``; with targets, ``forward`` adds the load-balancing loss. ``spec``
    defaults to the config's own (``ModelConfig.moe``: a sweep's job)."""

    def __init__(self, config: ModelConfig, spec: MoESpec | None = None) -> None:
        spec = spec or config.moe
        if spec is None:
            raise ValueError("experts: an MoE model needs experts > 0")
        if spec.base != config.arch:
            raise ValueError("spec.base must be the model's arch")
        if spec.mla is not None:
            raise ValueError("the calibration MoE family uses grouped-query attention, not MLA")
        super().__init__(config)
        for block in self.blocks[spec.routing.dense_layers :]:
            assert isinstance(block, Block)
            block.mlp = MoEMLP(config, spec)  # type: ignore[assignment]
        self.spec = spec
        self._init_experts()

    @torch.no_grad()
    def _init_experts(self) -> None:
        """Gemstones' initialisation of the experts (as the dense MLP's, with the expert's
        width in the output projection's σ) and of the router (σ = 1/√width)."""
        std = self.config.std

        def trunc(weight: torch.Tensor, sigma: float) -> None:
            nn.init.trunc_normal_(weight, mean=0.0, std=sigma, a=-3 * sigma, b=3 * sigma)

        for block in self.blocks:
            assert isinstance(block, Block)
            if not isinstance(block.mlp, MoEMLP):
                continue
            trunc(block.mlp.router.weight, std)
            out_std = 1.0 / math.sqrt(2.0 * (block.layer + 1) * self.spec.expert_ffn_size)
            for mlp in (*block.mlp.experts, *block.mlp.shared):
                assert isinstance(mlp, MLP)
                trunc(mlp.up.weight, std)
                trunc(mlp.down.weight, out_std)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        out = super().forward(idx, targets)
        if targets is None:
            return out
        moe = [m for m in self.modules() if isinstance(m, MoEMLP)]
        return out + BALANCE_WEIGHT * torch.stack([m.balance for m in moe]).mean()


def build_model(config: ModelConfig) -> Transformer:
    """The model a job's config describes: an :class:`MoETransformer` when it has experts
    (``ModelConfig.moe``), else the dense :class:`~flopwise.trainer.model.Transformer`."""
    return Transformer(config) if config.moe is None else MoETransformer(config)


@dataclass(frozen=True)
class Calibration:
    """How :func:`calibrate` trains each model."""

    steps: int = 60
    batch_size: int = 8
    lr: float = 3e-3
    evals: tuple[int, ...] = (20, 40, 60)
    """Steps after which the model is evaluated (one observation each)."""
    eval_batches: int = 4
    seed: int = 0


def _batch(stream: torch.Tensor, size: int, seq: int, gen: torch.Generator) -> torch.Tensor:
    start = torch.randint(0, stream.numel() - seq - 1, (size,), generator=gen)
    return torch.stack([stream[s : s + seq + 1] for s in start.tolist()])


@torch.no_grad()
def _evaluate(model: MoETransformer, held_out: torch.Tensor, seq: int, batches: int) -> float:
    model.eval()
    gen = torch.Generator().manual_seed(1234)
    losses = []
    for _ in range(batches):
        b = _batch(held_out, 8, seq, gen)
        logits = model(b[:, :-1])
        losses.append(F.cross_entropy(logits.flatten(0, 1), b[:, 1:].flatten()).item())
    model.train()
    return sum(losses) / len(losses)


def calibrate(
    specs: list[MoESpec], train: torch.Tensor, held_out: torch.Tensor, plan: Calibration
) -> list[dict[str, Any]]:
    """Train every spec on ``train`` (a 1-D token stream) with AdamW and a constant
    learning rate; at each of ``plan.evals`` record the held-out loss as a run record."""
    records = []
    for spec in specs:
        torch.manual_seed(plan.seed)
        model = MoETransformer(ModelConfig(arch=spec.base), spec)
        optimizer = torch.optim.AdamW(model.parameters(), lr=plan.lr, weight_decay=0.0)
        counts = moe_counts(spec)
        gen = torch.Generator().manual_seed(plan.seed)
        seq = spec.base.seq_len
        name = (
            f"moe-{spec.base.width}x{spec.base.depth}-e{spec.routing.experts}-g{spec.granularity:g}"
        )
        for step in range(1, plan.steps + 1):
            b = _batch(train, plan.batch_size, seq, gen)
            loss = model(b[:, :-1], b[:, 1:])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if step in plan.evals:
                tokens = float(step * plan.batch_size * seq)
                loss_value = _evaluate(model, held_out, seq, plan.eval_batches)
                if not math.isfinite(loss_value):
                    raise FloatingPointError(f"{name}: loss is {loss_value} at step {step}")
                records.append(
                    {
                        "run": name,
                        "params": float(counts.total_non_embedding),
                        "active_params": float(counts.active_non_embedding),
                        "granularity": spec.granularity,
                        "sparsity": spec.routing.sparsity,
                        "tokens": tokens,
                        "flops": 6.0 * counts.active_non_embedding * tokens,
                        "loss": loss_value,
                    }
                )
    return records
