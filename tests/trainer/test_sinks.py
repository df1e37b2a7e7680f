"""Where the trainer's observations go: a JSON-lines file, or the service through
``flopwise.client`` (a real server in a thread: tests/service/conftest.py's ``live_app``),
and the refit it asks for at the end of a sweep."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flopwise.client import Client
from flopwise.service.config import Settings
from flopwise.trainer.refit import fit_via_service
from flopwise.trainer.sinks import JsonlSink, ServiceSink
from tests.service.conftest import live_app

KEY = "sink-key"


def record(tokens: float, run: str = "r", params: float = 1e8, loss: float = 3.0) -> dict[str, Any]:
    return {"dataset": "d", "run": run, "tokens": tokens, "params": params, "loss": loss}


@pytest.fixture
def service(tmp_path: Path) -> Iterator[str]:
    settings = Settings(data_dir=tmp_path, api_key=KEY, refit_debounce_seconds=3600)
    with live_app(settings) as url:
        yield url


def stored(url: str) -> list[float]:
    page = httpx.get(f"{url}/v1/runs", params={"dataset": "d", "limit": 1000}).json()
    return sorted(r["tokens"] for r in page["data"])


def test_jsonl_sink_is_idempotent(tmp_path: Path) -> None:
    sink = JsonlSink(tmp_path / "out" / "runs.jsonl")
    for tokens in (1, 2, 1):
        sink(record(tokens))
    again = JsonlSink(tmp_path / "out" / "runs.jsonl")
    again(record(2))
    again(record(3))
    assert [r["tokens"] for r in again.records()] == [1, 2, 3]


def test_service_sink_batches_skips_what_it_sent_and_needs_the_key(service: str) -> None:
    with Client(service, api_key=KEY) as client:
        sink = ServiceSink(client, interval=3600.0, refit=False)
        sink(record(1e9))
        sink(record(2e9))
        assert stored(service) == []  # buffered until the interval passes or a flush
        sink.flush()
        assert stored(service) == [1e9, 2e9]
        sink.send_all([record(1e9), record(2e9), record(3e9), record(3e9)])
        assert stored(service) == [1e9, 2e9, 3e9]
        eager = ServiceSink(client, interval=0.0, refit=False)
        eager(record(4e9))
        assert stored(service) == [1e9, 2e9, 3e9, 4e9]
    with Client(service, api_key="wrong") as client:
        from flopwise.client import RequestRejected

        with pytest.raises(RequestRejected):
            ServiceSink(client, interval=0.0)(record(5e9))


def test_fit_via_service_follows_the_job(service: str) -> None:
    # Hoffmann et al. 2022 Eq. 10 over four sizes and four lengths: a fit that succeeds
    runs = [
        record(d, run=f"{n:g}", params=n,
               loss=1.69 + 406.4 / n**0.34 + 410.7 / d**0.28)
        for n in (5e7, 1e8, 2e8, 4e8) for d in (1e9, 2e9, 4e9, 1.6e10)
    ]  # fmt: skip
    with Client(service, api_key=KEY) as client:
        client.runs.post(runs, refit=False)
        outcome = fit_via_service(client, "d", timeout=300)
        assert outcome.success, outcome.message
        assert (outcome.law_id, outcome.version, outcome.where) == ("d-chinchilla", 1, "service")
        assert outcome.constants is not None and 0.2 < outcome.constants["alpha"] < 0.5


def test_fit_via_service_reports_a_failed_job(service: str) -> None:
    with Client(service, api_key=KEY) as client:
        client.runs.post([record(1e9, run="only")], refit=False)  # one run: nothing to fit
        outcome = fit_via_service(client, "d", timeout=300)
        assert not outcome.success and outcome.law_id is None
        assert outcome.message


def test_fit_via_service_fits_an_moe_sweeps_form(service: str) -> None:
    # Krajewski et al. 2024 Eq. 9 (Table 1's MoE row) over sizes, lengths and two
    # granularities, which the runs carry in their tags as an MoE sweep's do
    k = {"c": 0.47, "a": 18.1, "alpha": 0.115, "b": 30.8, "beta": 0.147}
    runs = [
        {**record(d, run=f"{n:g}-g{g}", params=n,
                  loss=k["c"] + (2.1 / g**0.58 + k["a"]) / n ** k["alpha"] + k["b"] / d ** k["beta"]),
         "tags": {"granularity": str(g), "active_params": f"{n / 8:g}"}}
        for n in (5e7, 1e8, 2e8, 4e8) for d in (1e9, 4e9, 1.6e10) for g in (1, 4)
    ]  # fmt: skip
    with Client(service, api_key=KEY) as client:
        client.runs.post(runs, refit=False)
        outcome = fit_via_service(client, "d", timeout=300, form="fine-grained-moe")
        assert outcome.success, outcome.message
        assert outcome.law_id == "d-fine-grained-moe" and outcome.constants is not None
        assert outcome.constants["granularity"] == 2.5
