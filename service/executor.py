"""One bounded pool for every heavy answer, so none can stall the event loop (issue 24).

Batch predictions, time-optimal and MoE plans, frontiers, overspends and their plots,
law plots and the sweep fits run on :class:`Executor`'s threads (``answer_threads``,
default 2), never on the loop that answers ``/healthz`` and every cheap query. At most
``answer_queue`` heavy requests (default 32) are admitted at once, running or waiting;
one more gets :class:`Busy` (503 with ``Retry-After``) at once rather than a place in a
queue it would time out in. Each admitted request has a deadline
(``query_deadline_seconds``, default 20 s) from its arrival: past it the client gets a
503, and a job that has not started yet never runs. A started job cannot be stopped
from outside, so it keeps its place in the bound until it ends (the long ones check the
deadline themselves). Pictures (matplotlib) are drawn one at a time besides
(``service.plot``'s lock): a render holds tens of MB while it draws, and nothing after.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["Busy", "Executor"]

T = TypeVar("T")


class Busy(Exception):
    """The server cannot answer within its deadline now (sent as 503 with Retry-After)."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Executor:
    """The pool, its admission bound and its deadline (module docstring)."""

    def __init__(
        self, *, threads: int = 2, max_pending: int = 32, deadline_seconds: float = 20.0
    ) -> None:
        self.threads, self.max_pending = threads, max_pending
        self.deadline_seconds = deadline_seconds
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="flopwise-heavy")
        self._lock = threading.Lock()
        self._pending = 0
        self._mean_seconds = 0.5
        """Running mean of a job's run time, for ``Retry-After``."""

    @property
    def pending(self) -> int:
        """Heavy requests admitted and not yet finished (running or waiting)."""
        return self._pending

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def deadline(self) -> float:
        """The ``time.monotonic()`` by which a request arriving now must be answered (for
        jobs that check it as they go)."""
        return time.monotonic() + self.deadline_seconds

    def retry_after(self) -> int:
        """Seconds until the queue has likely drained by one thread's share: the
        ``Retry-After`` of a 503 (at least 1, at most the deadline)."""
        wait = self._pending * self._mean_seconds / self.threads
        return max(1, min(math.ceil(wait), math.ceil(self.deadline_seconds)))

    def _admit(self) -> None:
        with self._lock:
            if self._pending >= self.max_pending:
                raise Busy(
                    f"{self._pending} heavy answers are in progress (the most at once: "
                    f"{self.max_pending}); retry shortly",
                    self.retry_after(),
                )
            self._pending += 1

    def _release(self, _: object = None) -> None:
        with self._lock:
            self._pending -= 1

    def _timed(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        start = time.monotonic()
        try:
            return fn(*args)
        finally:
            took = time.monotonic() - start
            with self._lock:
                self._mean_seconds = 0.8 * self._mean_seconds + 0.2 * took

    def _overdue(self) -> Busy:
        return Busy(
            f"no answer within {self.deadline_seconds:g} s; retry shortly", self.retry_after()
        )

    async def run(self, fn: Callable[..., T], /, *args: Any) -> T:
        """``fn(*args)`` on the pool within the deadline; :class:`Busy` when the pool is
        full or the answer is late."""
        loop = asyncio.get_running_loop()
        ends = loop.time() + self.deadline_seconds
        self._admit()
        try:
            future: Future[T] = self._pool.submit(self._timed, fn, args)
        except RuntimeError:  # shut down
            self._release()
            raise Busy("the server is stopping") from None
        future.add_done_callback(self._release)  # once it has run, or been cancelled
        try:  # wrap_future cancels a job that has not started when its waiter gives up
            return await asyncio.wait_for(asyncio.wrap_future(future), ends - loop.time())
        except TimeoutError:
            raise self._overdue() from None
