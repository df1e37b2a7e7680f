"""The container runs what the README tells people to run (no Docker engine needed)."""

from __future__ import annotations

import json
import re
import shlex

from tests.shared_data import REPO


def readme_command() -> list[str]:
    """The README's first fenced command, the part after the last ``&&``."""
    text = (REPO / "README.md").read_text()
    block = re.search(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M)
    assert block is not None, "README.md has no fenced block"
    first = next(line for line in block.group(1).splitlines() if line.strip())
    return shlex.split(first.split("&&")[-1])


def stages() -> dict[str, list[str]]:
    """Stage name -> its instructions (continuation lines joined)."""
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    out: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            current = line.split()[-1] if " AS " in line.upper() else line.split()[1]
            out[current] = []
        out[current].append(line)
    return out


def instruction(stage: list[str], name: str) -> list[str]:
    return [line[len(name) + 1 :].strip() for line in stage if line.upper().startswith(name + " ")]


def test_readme_starts_with_install_and_serve() -> None:
    assert readme_command() == ["flopwise", "serve"]


def test_every_stage_runs_the_readme_command() -> None:
    found = stages()
    assert set(found) == {"service", "trainer"}
    for name, stage in found.items():
        cmds = instruction(stage, "CMD")
        assert cmds, f"stage {name} has no CMD"
        assert json.loads(cmds[-1]) == readme_command(), name


def test_service_stage_is_slim_non_root_with_volume_and_healthcheck() -> None:
    stage = stages()["service"]
    assert stage[0].startswith("FROM python:3.11-slim")
    users = instruction(stage, "USER")
    assert users and users[-1] not in ("root", "0")
    assert "/data" in " ".join(instruction(stage, "VOLUME"))
    env = " ".join(instruction(stage, "ENV"))
    assert "FLOPWISE_HOST=0.0.0.0" in env and "FLOPWISE_DATA_DIR=/data" in env
    health = " ".join(instruction(stage, "HEALTHCHECK"))
    assert "/healthz" in health
    installs = " ".join(instruction(stage, "RUN"))
    assert "torch" not in installs and "[train" not in installs


def test_trainer_stage_adds_torch_on_cuda() -> None:
    stage = stages()["trainer"]
    assert "nvidia/cuda" in stage[0]
    assert "[train" in " ".join(instruction(stage, "RUN"))
