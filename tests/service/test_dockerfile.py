"""The Dockerfile read as text; tests/e2e/test_container.py builds and runs the image."""

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


def own_stages() -> dict[str, list[str]]:
    """Stage name -> its own instructions (continuation lines joined), in file order."""
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


def stages() -> dict[str, list[str]]:
    """Stage name -> what it holds: a stage built ``FROM`` an earlier stage has that
    stage's instructions (after its own ``FROM``) before its own, so its first line is
    the ``FROM`` of the image it ultimately starts from."""
    own = own_stages()
    out: dict[str, list[str]] = {}
    for name, lines in own.items():
        parent = lines[0].split()[1]
        out[name] = [*out[parent], *lines[1:]] if parent in out else lines
    return out


def instruction(stage: list[str], name: str) -> list[str]:
    return [line[len(name) + 1 :].strip() for line in stage if line.upper().startswith(name + " ")]


def test_readme_starts_with_install_and_serve() -> None:
    assert readme_command() == ["flopwise", "serve"]


def test_every_image_runs_the_readme_command() -> None:
    found = stages()
    assert list(found) == [
        "build",
        "runtime",
        "trainer-build",
        "trainer",
        "service-build",
        "service",
    ]
    for name in ("service", "trainer"):
        cmds = instruction(found[name], "CMD")
        assert cmds, f"stage {name} has no CMD"
        assert json.loads(cmds[-1]) == readme_command(), name


def test_the_default_target_is_the_service() -> None:
    """``docker build .`` builds the last stage: it must be the service, not the trainer."""
    assert list(stages())[-1] == "service"


def test_service_stage_is_slim_non_root_with_volume_and_healthcheck() -> None:
    found = stages()
    stage = found["service"]
    assert stage[0].startswith("FROM python:3.11-slim")
    users = instruction(stage, "USER")
    assert users and users[-1] not in ("root", "0")
    assert "/data" in " ".join(instruction(stage, "VOLUME"))
    env = " ".join(instruction(stage, "ENV"))
    assert "FLOPWISE_HOST=0.0.0.0" in env and "FLOPWISE_DATA_DIR=/data" in env
    health = " ".join(instruction(stage, "HEALTHCHECK"))
    assert "/healthz" in health
    assert instruction(stage, "STOPSIGNAL") == ["SIGTERM"]
    installs = " ".join(instruction(found["service-build"], "RUN"))
    assert "torch" not in installs and "[train" not in installs
    assert "NVIDIA" not in " ".join(found["service"])


def test_images_copy_only_the_environment_from_their_build_stage() -> None:
    """No source tree or wheelhouse in the image: only the built virtual environment."""
    found = stages()
    for name in ("service", "trainer"):
        assert instruction(found[name], "COPY") == [f"--from={name}-build /opt/venv /opt/venv"]


def test_both_build_from_the_index_or_offline_from_a_wheelhouse() -> None:
    for name in ("service-build", "trainer-build"):
        stage = own_stages()[name]  # ARG does not carry over from a parent stage
        assert "WHEELS=" in instruction(stage, "ARG")
        run = " ".join(instruction(stage, "RUN"))
        assert '--no-index --find-links "$WHEELS"' in run, name
        assert 'pip install ".[' in run, name


def test_no_frontend_image_to_pull() -> None:
    """A ``# syntax=`` line makes BuildKit pull a frontend image: air-gapped builds fail."""
    assert "# syntax=" not in (REPO / "Dockerfile").read_text()


def test_trainer_adds_torch_on_the_same_base_with_the_gpus_visible() -> None:
    """torch's Linux wheels carry CUDA: no CUDA base, no apt step, so it builds offline too."""
    found = stages()
    for name in ("trainer-build", "trainer"):
        assert found[name][0].startswith("FROM python:3.11-slim"), name
    assert "[train" in " ".join(instruction(found["trainer-build"], "RUN"))
    assert "apt-get" not in " ".join(line for stage in found.values() for line in stage)
    assert "NVIDIA_VISIBLE_DEVICES=all" in " ".join(instruction(found["trainer"], "ENV"))
