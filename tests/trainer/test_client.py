"""The HTTP client and the sinks, against httpx.MockTransport."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from flopwise.trainer.client import ServiceClient, ServiceError
from flopwise.trainer.refit import fit_via_service
from flopwise.trainer.sinks import JsonlSink, ServiceSink


def record(tokens: int, run: str = "r") -> dict[str, Any]:
    return {"dataset": "d", "run": run, "tokens": tokens, "params": 1e5, "loss": 3.0}


def client_with(handler: Any, **kwargs: Any) -> ServiceClient:
    return ServiceClient("http://flopwise.test", transport=httpx.MockTransport(handler),
                         **kwargs)  # fmt: skip


def test_posts_runs_with_the_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"received": 1, "inserted": 1})

    client_with(handler, api_key="secret").post_runs([record(1)])
    assert seen[0].url.path == "/v1/runs" and seen[0].method == "POST"
    assert seen[0].headers["authorization"] == "Bearer secret"
    assert json.loads(seen[0].content) == {"runs": [record(1)], "refit": True}


def test_retries_server_errors_and_refuses_client_errors() -> None:
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return httpx.Response(503 if calls["n"] < 3 else 200, json={})

    client_with(flaky, retries=3, backoff=0.01).post_runs([record(1)])
    assert calls["n"] == 3

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"detail": "runs.0.loss: must be positive"})

    with pytest.raises(ServiceError, match=r"422.*loss"):
        client_with(refuse).post_runs([record(1)])


def test_fit_via_service_follows_the_job() -> None:
    states = iter(["queued", "running", "succeeded"])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/fits":
            body = json.loads(request.content)
            assert body == {"dataset": "d", "form": "chinchilla", "method": "approach3",
                            "options": {}}  # fmt: skip
            return httpx.Response(202, json={"job_id": "j1", "status": "queued"})
        if request.url.path == "/v1/laws/d-chinchilla":
            return httpx.Response(200, json={"id": "d-chinchilla", "constants": {"alpha": 0.3}})
        status = next(states)
        result = {"law_id": "d-chinchilla", "version": 3} if status == "succeeded" else None
        return httpx.Response(200, json={"status": status, "result": result, "error": None})

    outcome = fit_via_service(client_with(handler), "d")
    assert outcome.success and (outcome.law_id, outcome.version) == ("d-chinchilla", 3)
    assert outcome.constants == {"alpha": 0.3} and outcome.where == "service"


def test_fit_via_service_reports_a_failed_job() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/fits":
            return httpx.Response(202, json={"job_id": "j1", "status": "queued"})
        return httpx.Response(200, json={"status": "failed", "result": None, "error": "too few"})

    outcome = fit_via_service(client_with(handler), "d")
    assert not outcome.success and "too few" in outcome.message


def test_bad_url() -> None:
    with pytest.raises(ValueError, match="service_url"):
        ServiceClient("flopwise.test")


def test_jsonl_sink_is_idempotent(tmp_path: Path) -> None:
    sink = JsonlSink(tmp_path / "out" / "runs.jsonl")
    for tokens in (1, 2, 1):
        sink(record(tokens))
    again = JsonlSink(tmp_path / "out" / "runs.jsonl")
    again(record(2))
    again(record(3))
    assert [r["tokens"] for r in again.records()] == [1, 2, 3]


def test_service_sink_batches_and_skips_sent() -> None:
    bodies: list[list[dict[str, Any]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content)["runs"])
        return httpx.Response(200, json={})

    sink = ServiceSink(client_with(handler), interval=3600.0)
    sink(record(1))
    sink(record(2))
    assert bodies == []  # buffered until the interval passes or a flush
    sink.flush()
    sink.send_all([record(1), record(2), record(3), record(3)])
    sink(record(3))
    sink.flush()
    assert [[r["tokens"] for r in body] for body in bodies] == [[1, 2], [3]]
    eager = ServiceSink(client_with(handler), interval=0.0)
    eager(record(4))
    assert [r["tokens"] for r in bodies[-1]] == [4]
