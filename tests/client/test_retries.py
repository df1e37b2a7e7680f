"""When the client tries again: on a real 503 with ``Retry-After`` from a saturated
``flopwise serve`` and on a server that is down and then comes up (both clients);
the policy's arithmetic without a server."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest

from flopwise.client import AsyncClient, Client, RetryPolicy, ServiceUnavailable
from flopwise.client.retry import parse_retry_after
from flopwise.fitting.allocation import allocate
from flopwise.fitting.catalogue import BUILTIN_LAWS
from flopwise.fitting.shape import ShapeConstraints
from tests.e2e.conftest import ServerProcess, _free_port
from tests.e2e.helpers import wait_until


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("3", now) == 3.0
    assert parse_retry_after(email.utils.formatdate(now + 7, usegmt=True), now) == 7.0
    assert parse_retry_after(email.utils.formatdate(now - 60, usegmt=True), now) == 0.0
    assert parse_retry_after(None) is None
    for unreadable in ("", "soon", "-1", "1.5", "Wed, 99 Foo 2015"):
        assert parse_retry_after(unreadable, now) is None, unreadable


def test_policy_waits_back_off_and_stop() -> None:
    policy = RetryPolicy(attempts=4, backoff=0.5, max_backoff=1.5, max_wait=10, jitter=0.1)
    for attempt, chosen in ((1, 0.5), (2, 1.0), (3, 1.5)):
        wait = policy.wait(attempt)
        assert wait is not None and chosen * 0.9 <= wait <= chosen
    assert policy.wait(4) is None  # the fourth try was the last
    assert policy.wait(1, retry_after=7.0) == 7.0  # the service's wait, exactly
    assert policy.wait(1, retry_after=11.0) is None  # too long: give up now
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)


@pytest.mark.slow
def test_a_saturated_server_answers_503_and_the_clients_retry(
    flopwise_server: Callable[..., ServerProcess], caplog: pytest.LogCaptureFixture
) -> None:
    # a deadline no shape search meets: a new set of constraints gets 503 + Retry-After
    # while its tables are built, and the answer once they are
    server = flopwise_server(env={"FLOPWISE_QUERY_DEADLINE_SECONDS": "0.001"}, workers=0)
    caplog.set_level(logging.INFO, logger="flopwise.client")
    law = BUILTIN_LAWS["epoch-2024"]

    def limits(head_dim: int) -> ShapeConstraints:
        return ShapeConstraints(min_width=64, max_width=65536, head_dim=head_dim)

    impatient = Client(server.url, retry=RetryPolicy(attempts=1))
    with impatient, pytest.raises(ServiceUnavailable) as busy:
        impatient.allocate(1e22, law="epoch-2024", constraints=limits(64))
    assert busy.value.status == 503 and busy.value.retry_after == 1.0

    with Client(server.url) as client:
        answer = client.allocate(1e22, law="epoch-2024", constraints=limits(128))
    assert answer.shape == allocate(law, 1e22, constraints=limits(128)).shape
    waits = [
        r.getMessage() for r in caplog.records if "retrying POST /v1/allocate" in r.getMessage()
    ]
    assert waits and all(" in 1.00 s " in w for w in waits)  # Retry-After: 1, honoured

    async def ask() -> Any:
        async with AsyncClient(server.url) as c:
            return await c.allocate(1e22, law="epoch-2024", constraints=limits(256))

    caplog.clear()
    assert asyncio.run(ask()).shape == allocate(law, 1e22, constraints=limits(256)).shape
    assert any("retrying POST /v1/allocate in 1.00 s" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_client_started_before_its_server_waits_for_it(
    kind: str, flopwise_server: Callable[..., ServerProcess], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flopwise.client")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    patient = RetryPolicy(attempts=400, backoff=0.05, max_backoff=0.25)
    outcome: dict[str, Any] = {}

    def ask() -> None:
        try:
            if kind == "sync":
                with Client(url, retry=patient) as client:
                    outcome["answer"] = client.allocate(1e21)
            else:

                async def run() -> Any:
                    async with AsyncClient(url, retry=patient) as client:
                        return await client.allocate(1e21)

                outcome["answer"] = asyncio.run(run())
        except Exception as exc:  # reported by the assertion below
            outcome["error"] = exc

    asker = threading.Thread(target=ask)
    asker.start()
    wait_until(
        "the client to find no server and retry",
        lambda: any("ConnectError" in r.getMessage() for r in caplog.records),
    )
    flopwise_server(port=port, workers=0)
    asker.join(timeout=120)
    assert not asker.is_alive() and "error" not in outcome, outcome
    assert outcome["answer"].params == allocate(BUILTIN_LAWS["epoch-2024"], 1e21).params
