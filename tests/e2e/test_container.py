"""The container as operators meet it: the service image built from the Dockerfile and run.

Built with podman, offline from a wheelhouse (``.ci/prepare-container`` prepares podman,
the base image and the wheelhouse); run as its non-root user on the host network with a
named volume for ``/data``. It skips where containers cannot run at all, and fails there
when ``FLOPWISE_REQUIRE_CONTAINER=1`` (CI). Timings are printed (``pytest -s``) and
recorded in bench/RESULTS.md, never asserted, except the 10 s a clean shutdown may take.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.data import gemstones_hot
from tests.e2e.helpers import all_runs, wait_job
from tests.e2e.podman import (
    Container,
    Podman,
    build_context,
    build_image,
    package_index,
    podman_or_skip,
    remove_volume,
)
from tests.pg import fresh_postgres_database
from tests.shared_data import REPO

pytestmark = pytest.mark.slow

# Own tags, so runs of this test in parallel (other checkouts) never use each other's image.
IMAGE = f"localhost/flopwise-test/service:{uuid.uuid4().hex[:10]}"
README_URL = "http://127.0.0.1:8000"
# The image must stay free of torch: even its CPU build would add most of a gigabyte.
MAX_IMAGE_BYTES = 1_000_000_000
QUICK = {"FLOPWISE_JOB_POLL_SECONDS": "0.1", "FLOPWISE_LAW_POLL_SECONDS": "0.5"}


@pytest.fixture(scope="module")
def podman() -> Podman:
    return podman_or_skip()


@pytest.fixture(scope="module")
def context(podman: Podman, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_context(podman, tmp_path_factory.mktemp("container") / "context")


@pytest.fixture(scope="module")
def image(podman: Podman, context: Path) -> Iterator[str]:
    """The Dockerfile's default target (the service), built offline as the README says.

    Its tags are removed at the end; the layers stay cached for the next run.
    """
    yield build_image(podman, context, IMAGE)
    podman.run("image", "rm", "--force", "--ignore", IMAGE, IMAGE + "-index", check=False)


@pytest.fixture
def containers(podman: Podman) -> Iterator[list[Container]]:
    """Containers (and their volumes) a test started, removed at teardown."""
    started: list[Container] = []
    yield started
    for container in started:
        container.remove()
    remove_volume(podman, [c.volume for c in started if c.volume])


def readme_curls() -> list[str]:
    """The curl lines of the README's "Asking it" section, in order."""
    text = (REPO / "README.md").read_text()
    section = text.split("## Asking it", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", section, flags=re.S | re.M)
    return [line for block in blocks for line in block.splitlines() if line.startswith("curl ")]


def run_curl(line: str, url: str, cwd: Path) -> str:
    """One README line against ``url``; fails on an HTTP error (``--fail-with-body``)."""
    assert README_URL in line, line
    command = "curl -sS --fail-with-body " + line.removeprefix("curl ").replace(README_URL, url)
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{command}\n-> {done.returncode}: {done.stdout} {done.stderr}"
    return done.stdout


def wait_jobs_of(answer: str, url: str) -> int:
    """Wait for the jobs a write queued (``refit_jobs`` of /v1/runs, ``job_id`` of /v1/fits)."""
    try:
        body: Any = json.loads(answer)
    except json.JSONDecodeError:
        return 0
    if not isinstance(body, dict):
        return 0
    jobs = list(body.get("refit_jobs", {}).values())
    if "job_id" in body:
        jobs.append(body["job_id"])
    for job_id in jobs:
        assert wait_job(url, str(job_id))["status"] == "succeeded"
    return len(jobs)


def law_version(url: str, law_id: str) -> dict[str, Any]:
    """One law version as served, less the list of versions (it grows)."""
    answer = httpx.get(f"{url}/v1/laws/{law_id}", timeout=30)
    assert answer.status_code == 200, answer.text
    return {k: v for k, v in answer.json().items() if k != "versions"}


def test_image_is_slim_and_runs_as_non_root_without_torch(podman: Podman, image: str) -> None:
    size = int(podman.run("image", "inspect", "--format", "{{.Size}}", image).stdout)
    print(f"\nservice image: {size / 1e6:.0f} MB")
    assert size < MAX_IMAGE_BYTES
    user = podman.run("image", "inspect", "--format", "{{.Config.User}}", image).stdout.strip()
    assert user not in ("", "root", "0")
    probe = "import importlib.util as u; print(u.find_spec('torch') is None, u.find_spec('flopwise') is not None)"
    found = podman.run("run", "--rm", "--network=none", image, "python", "-c", probe).stdout
    assert found.split() == ["True", "True"]


def test_readme_examples_volume_restart_and_sigterm(
    podman: Podman, image: str, containers: list[Container], tmp_path: Path
) -> None:
    volume = f"flopwise-test-{uuid.uuid4().hex[:10]}"
    podman.run("volume", "create", volume)
    container = Container(podman, image, env=dict(QUICK), volume=volume)
    containers.append(container)
    cold = container.start()
    print(f"\ncold start to healthy: {cold:.2f} s")
    assert container.exec("id", "-u").strip() != "0"
    assert "WRITES ARE OPEN" in container.logs()

    curls = readme_curls()
    assert len(curls) >= 10 and any("/v1/runs" in line for line in curls)
    waited = [
        wait_jobs_of(run_curl(line, container.url, tmp_path), container.url) for line in curls
    ]
    assert sum(waited) == 2  # the refit the runs queued, the bootstrap fit
    assert (tmp_path / "epoch-2024.png").read_bytes().startswith(b"\x89PNG")
    first = law_version(container.url, "mydata-chinchilla@1")

    print(f"restart to healthy: {container.restart():.2f} s")
    assert len(all_runs(container.url, "mydata")) == 12
    assert law_version(container.url, "mydata-chinchilla@1") == first
    latest = httpx.get(f"{container.url}/v1/laws/mydata-chinchilla", timeout=30).json()
    assert latest["versions"] == [1, 2] and latest["has_draws"]  # the bootstrap fit's

    status, seconds = container.terminate()
    print(f"SIGTERM to exit: {seconds:.2f} s")
    assert status == 0 and seconds < 10, container.logs()
    assert "Application shutdown complete" in container.logs()


def test_the_default_build_installs_the_tree_from_the_package_index(
    podman: Podman, image: str, context: Path, tmp_path: Path
) -> None:
    """No WHEELS: pip builds the source tree and takes its dependencies from the index.

    The index is a local one serving the wheelhouse (none is reachable here), named as a
    mirror would be, by ``PIP_INDEX_URL``. The image answers as the offline one does.
    """
    with package_index(context / "wheels", tmp_path) as (url, log):
        built = build_image(podman, context, IMAGE + "-index", f"PIP_INDEX_URL={url}")
    assert "GET /simple/numpy/" in log.read_text()
    ask = ("run", "--rm", "--network=none")
    question = ("flopwise", "allocate", "--flops", "5.76e23", "--law", "epoch-2024", "--json")
    answer = json.loads(podman.run(*ask, built, *question).stdout)
    assert answer == json.loads(podman.run(*ask, image, *question).stdout)
    assert answer["params"] > 1e10


@pytest.mark.postgres
def test_postgres_by_database_url_with_an_api_key(
    podman: Podman, image: str, containers: list[Container]
) -> None:
    with fresh_postgres_database() as database_url:
        env = {**QUICK, "FLOPWISE_DATABASE_URL": database_url, "FLOPWISE_API_KEY": "k3y"}
        container = Container(podman, image, env=env)
        containers.append(container)
        container.start()
        assert "WRITES ARE OPEN" not in container.logs()
        runs = gemstones_hot("pgdata")
        refused = httpx.post(f"{container.url}/v1/runs", json={"runs": runs}, timeout=30)
        assert refused.status_code == 401
        headers = {"Authorization": "Bearer k3y"}
        answer = httpx.post(
            f"{container.url}/v1/runs", json={"runs": runs}, headers=headers, timeout=60
        )
        assert answer.status_code == 200, answer.text
        assert wait_jobs_of(answer.text, container.url) == 1
        assert count_rows(database_url, "pgdata") == len(runs)
        assert httpx.get(f"{container.url}/v1/laws/pgdata-chinchilla", timeout=30).is_success
        status, seconds = container.terminate()
        assert status == 0 and seconds < 10, container.logs()


def count_rows(database_url: str, dataset: str) -> int:
    """Runs of ``dataset`` in the PostgreSQL database itself, not through the service."""
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM runs WHERE dataset = %s", (dataset,)).fetchone()
    assert row is not None
    return int(row[0])
