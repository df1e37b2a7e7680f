"""``service.executor.Executor``: the one bounded pool heavy answers run on (issue 24).

Jobs here block on events the test sets, so each case is decided by what the executor
admits, refuses and cancels, never by timing (the deadline cases use deadlines that a
blocked job cannot meet, and release it afterwards).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from flopwise.service.executor import Busy, Executor


def blocked(gate: threading.Event, started: threading.Event | None = None) -> Callable[[], str]:
    def job() -> str:
        if started is not None:
            started.set()
        assert gate.wait(timeout=30)
        return "done"

    return job


def test_a_full_pool_refuses_at_once_with_a_retry_after() -> None:
    async def scenario() -> None:
        pool = Executor(threads=1, max_pending=2, deadline_seconds=30)
        gate = threading.Event()
        first = asyncio.ensure_future(pool.run(blocked(gate)))
        second = asyncio.ensure_future(pool.run(blocked(gate)))
        await asyncio.sleep(0)  # let both be admitted
        assert pool.pending == 2
        with pytest.raises(Busy) as busy:
            await pool.run(blocked(gate))
        assert busy.value.retry_after >= 1
        gate.set()
        assert await first == await second == "done"
        assert pool.pending == 0
        pool.close()

    asyncio.run(scenario())


def test_past_its_deadline_a_request_is_busy_and_a_queued_job_never_runs() -> None:
    async def scenario() -> None:
        pool = Executor(threads=1, max_pending=8, deadline_seconds=0.05)
        gate, started = threading.Event(), threading.Event()
        ran: list[int] = []
        running = asyncio.ensure_future(pool.run(blocked(gate, started)))
        assert await asyncio.to_thread(started.wait, 30)  # the only thread is taken
        with pytest.raises(Busy, match="no answer within"):
            await pool.run(ran.append, 1)  # queued behind the blocked job
        with pytest.raises(Busy):
            await running  # started, but past its deadline too
        gate.set()
        pool.close()  # waits for nothing: the queued job was cancelled
        assert ran == []

    asyncio.run(scenario())


def test_errors_reach_the_caller_and_free_the_place() -> None:
    def fails() -> None:
        raise ValueError("bad input")

    async def scenario() -> None:
        pool = Executor(threads=2, max_pending=1, deadline_seconds=30)
        with pytest.raises(ValueError, match="bad input"):
            await pool.run(fails)
        assert await pool.run(sum, [1, 2]) == 3  # the place was given back
        assert pool.pending == 0
        pool.close()

    asyncio.run(scenario())
