"""The Slurm job script of a run: resources from the plan, options from the request,
srun + torchrun with a c10d rendezvous across nodes; checked by bash itself."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from flopwise.protocol.sweep import SweepRequest
from flopwise.trainer.executor import JobSpec
from flopwise.trainer.slurm import job_script

REQUEST = SweepRequest(dataset="d", flops=1e18, time_cap_hours=4, executor="slurm",
                       slurm_partition="gpu", slurm_account="team", slurm_qos="high",
                       slurm_options=("--constraint=h100",), slurm_gpus_per_node=8)  # fmt: skip


def script(tmp_path: Path, n_devices: int, *, gpus: bool = True) -> str:
    job = JobSpec("r1", tmp_path / "r1", n_devices, est_seconds=3600.0)
    text = job_script(job, REQUEST, gpus=gpus, threads=2)
    path = tmp_path / f"s{n_devices}.sh"
    path.write_text(text)
    subprocess.run(["bash", "-n", str(path)], check=True)  # valid shell
    return text


@pytest.mark.parametrize(
    ("n_devices", "nodes", "gres", "launch"),
    [(1, 1, 1, "srun "), (4, 1, 4, "--standalone --nproc-per-node=4"),
     (16, 2, 8, "--nnodes=2 --nproc-per-node=8 --rdzv-id=$SLURM_JOB_ID --rdzv-backend=c10d")],
)  # fmt: skip
def test_resources_and_launch_follow_the_plan(
    tmp_path: Path, n_devices: int, nodes: int, gres: int, launch: str
) -> None:
    text = script(tmp_path, n_devices)
    assert f"#SBATCH --nodes={nodes}\n" in text and f"#SBATCH --gres=gpu:{gres}\n" in text
    assert "#SBATCH --ntasks-per-node=1\n" in text and "#SBATCH --time=180\n" in text
    assert launch in text and "flopwise.trainer train --job" in text
    for line in ("--partition=gpu", "--account=team", "--qos=high", "--constraint=h100",
                 "--requeue", "--job-name=flopwise-r1"):  # fmt: skip
        assert f"#SBATCH {line}\n" in text


def test_a_cpu_run_asks_for_cores_not_gpus(tmp_path: Path) -> None:
    text = script(tmp_path, 1, gpus=False)
    assert "--gres" not in text and "#SBATCH --cpus-per-task=2\n" in text
    assert "export OMP_NUM_THREADS=2\n" in text
