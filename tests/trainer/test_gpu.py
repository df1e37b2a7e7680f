"""The GPU path: bf16 autocast, flash attention, torch.compile, fused AdamW, NCCL DDP.

Marked ``gpu`` and skipped where there is no CUDA device.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from flopwise.fitting.counting import ArchSpec
from flopwise.trainer.checkpoint import read_observations
from flopwise.trainer.config import TrainConfig
from flopwise.trainer.model import ModelConfig, Transformer
from flopwise.trainer.optim import make_optimizer
from flopwise.trainer.train import train
from tests.shared_data import REPO
from tests.trainer.helpers import tiny_job, trainer_env, write_job

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def test_flash_attention_bf16_forward_backward() -> None:
    from torch.nn.attention import SDPBackend, sdpa_kernel

    spec = ArchSpec(width=256, depth=2, head_dim=64, vocab_size=256, seq_len=256)
    model = Transformer(ModelConfig(arch=spec)).cuda()
    idx = torch.randint(0, 256, (4, 256), device="cuda")
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION]), torch.autocast("cuda", torch.bfloat16):
        loss = model(idx, idx)  # GQA (4 query heads on 2 kv heads) on the flash kernel
    loss.backward()
    assert torch.isfinite(loss)


def test_fused_adamw_on_cuda() -> None:  # (fused on CPU too, tested in test_optim)
    spec = ArchSpec(width=64, depth=1, head_dim=16, vocab_size=256, seq_len=8)
    model = Transformer(ModelConfig(arch=spec)).cuda()
    cfg = TrainConfig(data_dir="d", run_dir="r", tokens=1)
    assert make_optimizer(model, cfg, 1e-3, torch.device("cuda")).defaults["fused"] is True


@pytest.mark.parametrize("compile_model", [False, True])
def test_bf16_run_reports_mfu(corpus_dir: Path, tmp_path: Path, compile_model: bool) -> None:
    job = tiny_job(corpus_dir, tmp_path / "run", device="cuda", compile=compile_model)
    result = train(job)
    losses = [r["loss"] for r in result.observations]
    assert result.status == "finished" and losses[-1] < losses[0]
    record = result.observations[-1]
    assert record["gpu"] != "cpu" and record["n_gpus"] == 1
    if record["gpu"] in ("h100", "h200", "a100", "b200"):
        assert 0 < float(record["tags"]["mfu"]) < 1


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA devices")
def test_nccl_ddp(corpus_dir: Path, tmp_path: Path) -> None:
    job_file = write_job(tiny_job(corpus_dir, tmp_path / "ddp", device="cuda"), tmp_path / "j.json")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc-per-node=2", "-m", "flopwise.trainer", "train", "--job", str(job_file),
               "--progress", "none"]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, env=trainer_env(), capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert {r["n_gpus"] for r in read_observations(tmp_path / "ddp")} == {2}
