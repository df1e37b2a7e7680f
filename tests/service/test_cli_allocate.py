"""The offline CLI (`flopwise laws | allocate | predict`) as a user runs it: a real process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from flopwise.fitting.catalogue import BUILTIN_LAWS


def flopwise(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flopwise.service", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_allocate_flops_json() -> None:
    result = flopwise("allocate", "--flops", "5.76e23", "--law", "epoch-2024", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["params"] == pytest.approx(7.225e10, rel=0.01)
    assert out["tokens"] == pytest.approx(1.329e12, rel=0.01)
    assert out["flops"] == 5.76e23
    assert out["loss"] == pytest.approx(1.9744, abs=1e-3)
    assert out["tokens_per_param"] == pytest.approx(18.4, rel=0.01)
    assert out["law"] == {"id": "epoch-2024", "version": 1}
    shape = out["shape"]
    assert {"width", "depth", "n_heads", "n_kv_heads", "params", "flops_per_token"} <= set(shape)
    assert shape["params"] == pytest.approx(out["params"], rel=0.02)


def test_allocate_gpu_hours_json() -> None:
    result = flopwise("allocate", "--gpu-hours", "1e5", "--gpu", "h100", "--mfu", "0.4", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["flops"] == pytest.approx(1e5 * 3600 * 989.4e12 * 0.4)
    assert out["cost"]["gpu_hours"] == pytest.approx(1e5)
    assert out["law"]["id"] == "epoch-2024"
    assert out["hyperparameters"]["batch_size_tokens"] > 0


def test_allocate_table_output() -> None:
    result = flopwise("allocate", "--flops", "1e21", "--law", "gemstones-2025")
    assert result.returncode == 0, result.stderr
    assert "width" in result.stdout and "gemstones-2025@1" in result.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--flops", "-1"], "flops"),
        (["--flops", "nan"], "flops"),
        (["--flops", "inf"], "flops"),
        (["--flops", "abc"], "--flops"),
        (["--flops", "1e20", "--law", "no-such-law"], "unknown law"),
        (["--gpu-hours", "10", "--gpu", "tpu9"], "unknown GPU"),
        (["--flops", "1e20", "--gpu-hours", "3", "--gpu", "h100"], "exactly one"),
        (["--flops", "1e20", "--max-width", "100"], "no width"),
        (["--flops", "1e20", "--min-depth", "9", "--max-depth", "3"], "--min-depth: 9 exceeds"),
        (["--dollars", "1e6", "--gpu", "h100"], "--price-per-gpu-hour"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], needle: str) -> None:
    result = flopwise("allocate", *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0]
    assert "Traceback" not in result.stderr


def test_laws_lists_the_catalogue() -> None:
    result = flopwise("laws", "--json")
    assert result.returncode == 0
    assert {law["id"] for law in json.loads(result.stdout)} == set(BUILTIN_LAWS)


def test_predict_width_depth() -> None:
    result = flopwise(
        "predict",
        "--law",
        "gemstones-2025",
        "--width",
        "1024",
        "--depth",
        "28",
        "--tokens",
        "3.5012e11",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["loss"] == pytest.approx(2.7081, abs=1e-4)
    missing = flopwise("predict", "--law", "gemstones-2025", "--params", "1e9", "--tokens", "1e10")
    assert missing.returncode == 2 and "width" in missing.stderr
