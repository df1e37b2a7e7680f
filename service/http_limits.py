"""What keeps slow or numerous connections from starving the server (issue 24).

uvicorn times a keep-alive connection out between requests but not a request whose
headers trickle in: 1,000 connections sending headers a byte at a time held as many file
descriptors for as long as they liked, and at the common 1,024-descriptor limit
``/healthz`` stopped answering. :func:`header_timeout_protocol` closes a connection
whose request headers are not complete within a deadline of the request's first byte
(or of the connection's opening); :func:`raise_descriptor_limit` lifts the soft limit on
open files to the hard one; ``flopwise serve`` also caps concurrent connections
(uvicorn's ``limit_concurrency``: 503 beyond it).
"""

from __future__ import annotations

import asyncio
import resource

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["header_timeout_protocol", "raise_descriptor_limit"]


class _HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline on reading a request's headers."""

    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        self._disarm()  # the keep-alive timeout takes over until the next request
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def header_timeout_protocol(seconds: float) -> type[HttpToolsProtocol]:
    """The httptools protocol closing a connection whose request headers take longer
    than ``seconds``."""
    return type("HeaderTimeoutProtocol", (_HeaderTimeoutProtocol,), {"header_timeout": seconds})


def raise_descriptor_limit() -> int:
    """Lift the soft limit on open files to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return int(hard)
    return int(soft)
