"""Trainer throughput: the flopwise training loop against a plain PyTorch loop, same run.

CPU: tokens/s of the tiny calibration models (the ones a CPU sweep trains) through
``trainer.train.train`` and through a plain loop (forward, backward, AdamW step on
random windows of the same corpus; no schedule, clipping, timing or checkpoints). The
ratio shows what the trainer's bookkeeping costs; the FLOP/s figure uses Gemstones'
counter (``fitting.counting.gemstones_flops_per_token``).

GPU (when CUDA is present): MFU of a GPT-2-small-geometry model (768 x 12, Gemstones
family: head 128, GQA 2:1, gated MLP 4x, untied, vocab 50304, seq 2048) in bf16 with
flash attention, torch.compile and fused AdamW, through the trainer and through the
plain loop with the same settings. Goal: MFU >= 45% on an H100.
MFU = FLOPs/token x tokens/s / peak (PaLM App. B), peak from ``fitting.hardware``.

Run: ``python bench/bench_trainer.py`` (``--help`` for options). Prints figures and a
Markdown section for bench/RESULTS.md; not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from flopwise.fitting.counting import ArchSpec, count
from flopwise.trainer.config import Job, TrainConfig
from flopwise.trainer.corpus import CorpusConfig, build_corpus, stdlib_root
from flopwise.trainer.data import TokenData, gather
from flopwise.trainer.metrics import device_gpu_name, flops_per_token, peak_flops
from flopwise.trainer.model import ModelConfig, Transformer
from flopwise.trainer.train import train

CPU_SHAPES = ((32, 2), (64, 2), (64, 4), (128, 4), (96, 8))


@dataclass(frozen=True)
class Case:
    """One model to time, and how."""

    spec: ArchSpec
    batch: int
    micro: int
    steps: int
    device: str
    bf16: bool
    compile: bool


def plain_loop(case: Case, data: TokenData) -> float:
    """Seconds per step of a bare training loop (after warm-up steps)."""
    device = torch.device(case.device)
    torch.manual_seed(0)
    model = Transformer(ModelConfig(arch=case.spec)).to(device)
    if case.compile:
        model.compile()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.1,
                            fused=True)  # fmt: skip
    rng = np.random.default_rng(0)
    seq = case.spec.seq_len

    def step() -> None:
        for _ in range(case.batch // case.micro):
            offsets = rng.integers(0, data.train.size - seq - 1, size=case.micro)
            x, y = gather(data.train, offsets, seq, device)
            with torch.autocast(device.type, torch.bfloat16, enabled=case.bf16):
                loss = model(x, y) / (case.batch // case.micro)
            loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(3 if case.compile else 1):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(case.steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / case.steps


def trainer_loop(case: Case, data_dir: Path, work: Path) -> float:
    """Seconds per step measured by the trainer itself (first step and evaluation excluded)."""
    tokens = (case.steps + 1) * case.batch * case.spec.seq_len
    config = TrainConfig(data_dir=str(data_dir), run_dir=str(work / f"run-{time.time_ns()}"),
                         tokens=tokens, batch_size=case.batch, micro_batch_size=case.micro,
                         lr=1e-4, eval_sequences=max(case.micro, 8), device=case.device,
                         precision="bfloat16" if case.bf16 else "float32",
                         compile=case.compile, log_every=10_000)  # fmt: skip
    result = train(Job(model=ModelConfig(arch=case.spec), train=config))
    return float(result.observations[-1]["seconds_per_step"])


def measure(
    case: Case, data: TokenData, data_dir: Path, work: Path, repeats: int = 2
) -> dict[str, float]:
    tokens_per_step = case.batch * case.spec.seq_len
    fpt = flops_per_token(case.spec)
    plain = min(plain_loop(case, data) for _ in range(repeats))  # best of: a shared machine
    ours = min(trainer_loop(case, data_dir, work) for _ in range(repeats))
    return {
        "params": count(case.spec).total,
        "plain_tps": tokens_per_step / plain,
        "trainer_tps": tokens_per_step / ours,
        "plain_flops": fpt * tokens_per_step / plain,
        "trainer_flops": fpt * tokens_per_step / ours,
    }


def cpu_section(data: TokenData, data_dir: Path, work: Path, steps: int, threads: int) -> str:
    torch.set_num_threads(threads)
    rows = []
    for width, depth in CPU_SHAPES:
        spec = ArchSpec(width=width, depth=depth, head_dim=16, vocab_size=256, seq_len=128)
        case = Case(spec, batch=16, micro=16, steps=steps, device="cpu", bf16=False,
                    compile=False)  # fmt: skip
        m = measure(case, data, data_dir, work)
        row = (f"| {width}x{depth} | {m['params']:,} | {m['plain_tps']:,.0f} | "
               f"{m['trainer_tps']:,.0f} | {m['trainer_tps'] / m['plain_tps']:.2f} | "
               f"{m['trainer_flops'] / 1e9:.1f} |")  # fmt: skip
        print(row, flush=True)
        rows.append(row)
    head = ("| model | params | plain loop tok/s | trainer tok/s | trainer / plain | "
            "trainer GFLOP/s |\n|---|---|---|---|---|---|")  # fmt: skip
    return (f"CPU, {threads} thread(s), batch 16 x 128 tokens, fp32, {steps} timed steps "
            f"each, best of 2 (tiny family: head 16, GQA 2:1, gated MLP 4x, bytes vocab 256)\n\n"
            + head + "\n" + "\n".join(rows))  # fmt: skip


def gpu_section(data: TokenData, data_dir: Path, work: Path, steps: int, shape: str) -> str:
    width, depth = (int(v) for v in shape.split("x"))
    spec = ArchSpec(width=width, depth=depth, vocab_size=50304, seq_len=2048)  # Gemstones
    device = torch.device("cuda")
    name = device_gpu_name(device)
    peak = peak_flops(name)
    case = Case(spec, batch=32, micro=8, steps=steps, device="cuda", bf16=True, compile=True)
    m = measure(case, data, data_dir, work, repeats=1)
    mfu = {k: m[f"{k}_flops"] / peak if peak else float("nan") for k in ("plain", "trainer")}
    text = (f"GPU {torch.cuda.get_device_name(device)} ({name}, peak {peak or 0:.4g} FLOP/s), "
            f"{width}x{depth} Gemstones family, {m['params']:,} params, bf16, compile, flash "
            f"SDPA, fused AdamW, batch 32 x 2048 (micro 8), {steps} timed steps\n\n"
            f"| loop | tok/s | MFU |\n|---|---|---|\n"
            f"| plain | {m['plain_tps']:,.0f} | {mfu['plain']:.1%} |\n"
            f"| trainer | {m['trainer_tps']:,.0f} | {mfu['trainer']:.1%} |\n\n"
            f"trainer / plain: {m['trainer_tps'] / m['plain_tps']:.2f}; goal MFU >= 45% "
            f"on H100: {'met' if mfu['trainer'] >= 0.45 else 'not met'}")  # fmt: skip
    print(text, flush=True)
    return text


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else what platform knows."""
    info = Path("/proc/cpuinfo")
    if info.exists():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="timed CPU steps per model")
    parser.add_argument("--gpu-steps", type=int, default=30, help="timed GPU steps")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads")
    parser.add_argument("--gpu-shape", default="768x12", help="WIDTHxDEPTH of the GPU model")
    parser.add_argument("--skip-cpu", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data_dir = work / "corpus"
        build_corpus(CorpusConfig(sources=(str(stdlib_root()),), max_bytes=8_000_000), data_dir)
        data = TokenData.open(data_dir)
        load = os.getloadavg()[0]
        sections = [f"## Trainer throughput (bench/bench_trainer.py, {time.strftime('%Y-%m-%d %H:%M')})",
                    f"machine: {os.cpu_count()} CPU(s), {cpu_name()}, "
                    f"Python {platform.python_version()}, torch {torch.__version__}; "
                    f"load average {load:.2f} at the start"]  # fmt: skip
        if not args.skip_cpu:
            sections.append(cpu_section(data, data_dir, work, args.steps, args.threads))
        if torch.cuda.is_available():
            sections.append(gpu_section(data, data_dir, work, args.gpu_steps, args.gpu_shape))
        else:
            sections.append(
                "GPU: no CUDA device on this machine; the GPU figures are not measured."
            )
        sections.append(f"load average {os.getloadavg()[0]:.2f} at the end")
    print("\n\n".join(sections))


if __name__ == "__main__":
    main()
