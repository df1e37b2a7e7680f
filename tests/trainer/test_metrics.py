"""FLOPs per token and MFU come from the project's counter and GPU table."""

from __future__ import annotations

import pytest
import torch

from flopwise.fitting.counting import ArchSpec
from flopwise.fitting.flops import flops_per_token as all_counts
from flopwise.trainer.metrics import device_gpu_name, flops_per_token, gpu_name, mfu, peak_flops


def test_flops_per_token_is_gemstones() -> None:
    spec = ArchSpec.gemstones(1024, 28)
    assert flops_per_token(spec) == pytest.approx(3.578e9, rel=1e-3)  # docs/laws.md §8.4
    assert flops_per_token(spec) == all_counts(spec)["gemstones"]


def test_mfu() -> None:
    # PaLM App. B: achieved model FLOP/s over peak
    assert mfu(1e9, 400_000.0, 989.4e12, 1) == pytest.approx(4e14 / 989.4e12)
    assert mfu(1e9, 400_000.0, 989.4e12, 2) == pytest.approx(2e14 / 989.4e12)
    assert mfu(1e9, 1.0, None, 1) is None
    assert peak_flops("h100") == 989.4e12 and peak_flops("cpu") is None


def test_cpu_device_name() -> None:
    assert device_gpu_name(torch.device("cpu")) == "cpu"


@pytest.mark.parametrize(
    ("device_name", "name", "peak"),
    [("NVIDIA H100 80GB HBM3", "h100", 989.4e12), ("NVIDIA H100 PCIe", "h100-pcie", 756e12),
     ("NVIDIA H100 NVL", "h100-nvl", 835.5e12), ("NVIDIA A100-SXM4-80GB", "a100", 312e12)],
)  # fmt: skip
def test_h100_variants_get_their_own_datasheet_peak(
    device_name: str, name: str, peak: float
) -> None:
    assert gpu_name(device_name) == name and peak_flops(name) == peak
