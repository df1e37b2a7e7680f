"""Auth on writes, body-size limits, Prometheus metrics and settings."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from flopwise.service.config import Settings
from flopwise.service.main import create_app
from tests.service.conftest import live_app, scrape_until_published, wait_for_job
from tests.service.synthetic import synthetic_runs

WRITES = [
    ("/v1/runs", {"runs": synthetic_runs("auth")[:2]}),
    ("/v1/fits", {"dataset": "auth"}),
    ("/v1/calibrations", {"dataset": "auth", "flops": 1e17, "time_cap_hours": 1}),
]


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> httpx.Client:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("auth"), api_key="k3y-with-entropy", workers=0
    )
    with live_app(settings, start_workers=False) as url, httpx.Client(base_url=url) as http:
        yield http  # type: ignore[misc]


@pytest.mark.parametrize(("path", "body"), WRITES)
@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer wrong",
        "k3y-with-entropy",
        "Basic k3y-with-entropy",
        "Bearer",
        "Bearer k3y-with-entropyX",
        "Bearer ключ".encode(),
    ],
)
def test_writes_need_the_key(
    locked: httpx.Client, path: str, body: dict[str, object], header: str | bytes | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    r = locked.post(path, json=body, headers=headers)
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"] == "Bearer"


def test_the_key_opens_writes_and_reads_stay_open(locked: httpx.Client) -> None:
    auth = {"Authorization": "Bearer k3y-with-entropy"}
    assert locked.post("/v1/runs", json=WRITES[0][1], headers=auth).status_code == 200
    assert locked.post("/v1/fits", json={"dataset": "auth"}, headers=auth).status_code == 202
    assert locked.get("/v1/runs").status_code == 200
    assert locked.get("/v1/laws").status_code == 200
    assert (
        locked.post("/v1/allocate", json={"flops": 1e21}).status_code == 200
    )  # a query, not a write


@pytest.mark.parametrize(
    ("key", "protect_reads", "guarded"),
    [
        (None, False, set()),
        ("k3y", False, {"/v1/runs", "/v1/fits"}),
        ("k3y", True, {"/v1/runs", "/v1/fits", "/v1/allocate", "/v1/laws"}),
    ],
)
def test_openapi_lists_the_key_where_this_server_asks_for_it(
    tmp_path: Path, key: str | None, protect_reads: bool, guarded: set[str]
) -> None:
    """Clients and fuzzers generated from OpenAPI learn the key from a bearer security
    scheme on exactly the operations that need it here, not from a header parameter."""
    settings = Settings(data_dir=tmp_path, api_key=key, protect_reads=protect_reads, workers=0)
    spec = create_app(settings, start_workers=False).openapi()
    schemes = spec.get("components", {}).get("securitySchemes", {})
    assert (schemes != {}) is bool(guarded)
    if guarded:
        assert schemes["FLOPWISE_API_KEY"] == {
            "type": "http",
            "scheme": "bearer",
            "description": schemes["FLOPWISE_API_KEY"]["description"],
        }
    ops = {
        ("/v1/allocate", "post"),
        ("/v1/laws", "get"),
        ("/v1/runs", "post"),
        ("/v1/fits", "post"),
    }
    for path, method in ops:
        op = spec["paths"][path][method]
        assert op.get("security") == ([{"FLOPWISE_API_KEY": []}] if path in guarded else None)
        assert all(p["name"].lower() != "authorization" for p in op.get("parameters", []))


def test_body_size_limit(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, max_body_bytes=2048, max_runs_per_request=3)
    with live_app(settings, start_workers=False) as url, httpx.Client(base_url=url) as http:
        big = {"runs": synthetic_runs("big")}
        r = http.post("/v1/runs", json=big)
        assert r.status_code == 413
        # no Content-Length: the limit holds while streaming
        chunks = iter([b'{"runs": [', b" " * 5000, b"]}"])
        r = http.post("/v1/runs", content=chunks, headers={"content-type": "application/json"})
        assert r.status_code == 413
        r = http.post("/v1/runs", json={"runs": synthetic_runs("big")[:4]})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "runs"]
        assert http.post("/v1/runs", json={"runs": synthetic_runs("big")[:3]}).status_code == 200


def sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} {labels} not in metrics")


def test_metrics(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, refit_debounce_seconds=0.1, job_poll_seconds=0.1)
    with live_app(settings) as url, httpx.Client(base_url=url) as http:
        for _ in range(3):
            http.post("/v1/allocate", json={"flops": 1e21})
        http.post("/v1/allocate", json={"flops": -1})
        http.get("/no/such/path/123")
        job = http.post("/v1/runs", json={"runs": synthetic_runs("m")}).json()["refit_jobs"]["m"]
        assert wait_for_job(http, job)["status"] == "succeeded"
        text = scrape_until_published(http)
    assert sample(text, "flopwise_http_requests_total", route="/v1/allocate", status="200") == 3
    assert sample(text, "flopwise_http_requests_total", route="/v1/allocate", status="422") == 1
    assert sample(text, "flopwise_http_requests_total", route="unmatched", status="404") == 1
    assert "/no/such/path" not in text  # raw paths never become labels
    assert sample(text, "flopwise_http_request_duration_seconds_count", route="/v1/allocate") == 4
    assert sample(text, "flopwise_fits_total", outcome="published") == 1
    assert sample(text, "flopwise_runs_ingested_total") == 25
    assert sample(text, "flopwise_queue_depth", kind="refit", status="queued") == 0
    assert sample(text, "flopwise_laws_loaded") >= 18


def test_queue_depth_counts_waiting_jobs(tmp_path: Path) -> None:
    with (
        live_app(Settings(data_dir=tmp_path), start_workers=False) as url,
        httpx.Client(base_url=url) as http,
    ):
        http.post("/v1/runs", json={"runs": synthetic_runs("q1") + synthetic_runs("q2")})
        text = http.get("/metrics").text
    assert sample(text, "flopwise_queue_depth", kind="refit", status="queued") == 2


def test_settings() -> None:
    with pytest.raises(ValueError, match="API_KEY"):
        Settings(environment="production")
    assert Settings(environment="production", api_key="x").api_key == "x"
    url = Settings(database_url="postgresql://u@h/db").sqlalchemy_url
    assert url == "postgresql+psycopg://u@h/db"
    assert Settings(data_dir=Path("/tmp/x")).sqlalchemy_url == "sqlite:////tmp/x/flopwise.db"
    assert Settings(host="0.0.0.0", port=9000).base_url == "http://127.0.0.1:9000"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOPWISE_API_KEY", "from-env")
    monkeypatch.setenv("FLOPWISE_PORT", "9999")
    monkeypatch.setenv("FLOPWISE_REFIT_OPTIONS", '{"search": "staged"}')
    settings = Settings()
    assert (settings.api_key, settings.port, settings.refit_options) == (
        "from-env",
        9999,
        {"search": "staged"},
    )
