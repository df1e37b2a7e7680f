"""When the client tries a request again, and how long it waits first.

Retried: connection errors and timeouts, and the answers that say "not now": 429,
502, 503 and 504. Never retried: any other 4xx (the request is wrong), a 500 (a bug
does not go away), and, for a request that is not safe to repeat (launching a
calibration, cancelling a job), anything after the request may have reached the
service: such a request is retried only when it never left (the connection failed)
or the service refused it unprocessed (429, 503).

The wait before try ``k + 1`` is the service's ``Retry-After`` when it sends one (in
seconds or as an HTTP date), else ``backoff * 2**(k - 1)`` capped at ``max_backoff``,
less a random part of up to ``jitter`` of it so that many clients do not come back in
step. A ``Retry-After`` beyond ``max_wait`` ends the retries at once.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from dataclasses import dataclass

__all__ = ["RETRY_STATUSES", "UNPROCESSED_STATUSES", "RetryPolicy", "parse_retry_after"]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
"""Answers that mean "try again later"."""
UNPROCESSED_STATUSES = frozenset({429, 503})
"""Answers after which even a request that is not safe to repeat is retried: the
service refused it before doing anything."""


@dataclass(frozen=True)
class RetryPolicy:
    """How many tries a request gets and how long the client waits between them."""

    attempts: int = 5
    """Tries in all, the first included (1: never retry)."""
    backoff: float = 0.5
    """Seconds before the second try; doubled for each later one."""
    max_backoff: float = 8.0
    """Longest wait the client chooses itself."""
    max_wait: float = 60.0
    """Longest ``Retry-After`` honoured; a longer one ends the retries."""
    jitter: float = 0.1
    """Up to this fraction of a chosen wait is taken off at random."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts: at least 1, got {self.attempts}")
        for name in ("backoff", "max_backoff", "max_wait", "jitter"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}: a finite number >= 0, got {value!r}")

    def wait(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait after failed try number ``attempt`` (1-based) before the
        next, or ``None`` when there is to be no next try."""
        if attempt >= self.attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_wait else None
        chosen = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return chosen * (1.0 - self.jitter * random.random())


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` in seconds from now: delay-seconds (``"3"``) or an HTTP date
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``, at least 0); ``None`` when absent or unreadable
    (RFC 9110 §10.2.3)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
