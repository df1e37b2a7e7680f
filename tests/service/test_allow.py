"""``OPTIONS`` and 405 answers name the methods a path serves (issue 24): on the pinned
FastAPI range, whose included routers carry no ``methods``, the ``Allow`` header was
empty."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import fastapi
import httpx
import pytest
from packaging.version import Version

from flopwise.service.config import Settings
from tests.service.conftest import live_app

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def test_the_installed_fastapi_is_in_the_pinned_range() -> None:
    assert Version("0.115") <= Version(fastapi.__version__) < Version("0.166")


@pytest.fixture
def http(tmp_path: Path) -> Iterator[httpx.Client]:
    with (
        live_app(Settings(data_dir=tmp_path, workers=0), start_workers=False) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        yield client


def _concrete(path: str) -> str:
    return (
        path.replace("{law_id}", "epoch-2024")
        .replace("{job_id}", "x")
        .replace("{model_id}", "gemstones-mi250x")
    )


def test_every_path_answers_options_with_its_methods(http: httpx.Client) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    assert len(paths) >= 15
    for path, operations in paths.items():
        expected = sorted({m.upper() for m in operations if m in HTTP_METHODS} | {"OPTIONS"})
        r = http.options(_concrete(path))
        assert r.status_code == 204, (path, r.status_code)
        assert r.headers["allow"].split(", ") == expected, path


def test_a_wrong_method_is_405_naming_the_right_ones(http: httpx.Client) -> None:
    r = http.get("/v1/allocate")
    assert r.status_code == 405
    assert r.headers["allow"] == "OPTIONS, POST"
    r = http.delete("/v1/laws/epoch-2024")
    assert r.status_code == 405 and r.headers["allow"] == "GET, OPTIONS"
    assert http.options("/v1/no-such-thing").status_code == 404
