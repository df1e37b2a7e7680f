"""ASGI middleware: request metrics, the body-size limit and read timeout, and ``Allow``
headers (plain ASGI, no per-request task or buffering)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from typing import Any

from fastapi import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flopwise.service.metrics import Metrics

__all__ = [
    "AllowMiddleware",
    "BodyLimitMiddleware",
    "HostMiddleware",
    "MetricsMiddleware",
    "loopback_hosts",
]


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"request body larger than {limit} bytes")


class BodyTimeout(HTTPException):
    def __init__(self, timeout: float) -> None:
        super().__init__(408, detail=f"request body not received within {timeout:g} s")


class BodyLimitMiddleware:
    """Refuse bodies over ``limit`` bytes: by ``Content-Length`` up front, else while
    streaming (the endpoint sees a 413 raised from ``receive``); a body whose next part
    does not arrive within ``timeout`` seconds gets a 408 (a half-sent body never holds
    a connection open for ever)."""

    def __init__(self, app: ASGIApp, limit: int, timeout: float = 30.0) -> None:
        self.app, self.limit, self.timeout = app, limit, timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = False
                if too_big:
                    await _reply(send, 413, f"request body larger than {self.limit} bytes")
                    return
        seen, complete = 0, False

        async def limited() -> Message:
            nonlocal seen, complete
            if complete:  # waiting for a disconnect: no deadline
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except TimeoutError:
                raise BodyTimeout(self.timeout) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, limited, send)


async def _reply(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed(scope: Scope) -> list[str]:
    """Every method some route serves at this path, asked of each route by matching the
    request with each method in turn: a route fully matches only a method it serves,
    whatever kind of route it is (FastAPI's included routers carry no ``methods``)."""
    methods: set[str] = set()
    routes = getattr(scope.get("app"), "routes", ())
    for method in METHODS:
        probe = {**scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            methods.add(method)
    return sorted(methods | {"OPTIONS"}) if methods else []


class AllowMiddleware:
    """``OPTIONS`` answers 204 with ``Allow``; a 405 names every allowed method."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope.get("method") == "OPTIONS":
            allowed = _allowed(scope)
            if allowed:
                headers = [(b"allow", ", ".join(allowed).encode()), (b"content-length", b"0")]
                await send({"type": "http.response.start", "status": 204, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
                return

        async def fix_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                allow = ", ".join(_allowed(scope)).encode()
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", allow)]}
            await send(message)

        await self.app(scope, receive, fix_allow)


class MetricsMiddleware:
    """Count requests and time them per route template (``unmatched`` for unknown paths)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route: Any = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(method=method, route=path, status=str(status[0])).inc()
            self.metrics.latency.labels(method=method, route=path).observe(
                time.perf_counter() - start
            )


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def loopback_hosts(host: str, extra: tuple[str, ...] = ()) -> frozenset[str] | None:
    """The host names (``Host`` without its port) a server bound to ``host`` answers: for
    a loopback bind only loopback names, plus ``extra``; ``None`` (any) otherwise."""
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        return None
    return frozenset({*LOOPBACK_NAMES, *(_name(h.encode()) for h in extra)})


def _name(host: bytes) -> str:
    """A ``Host`` header's name, lowered, without its port (``[::1]:8000`` -> ``[::1]``)."""
    text = host.decode("latin-1").strip().lower()
    if text.startswith("["):
        return text[: text.find("]") + 1] if "]" in text else text
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


class HostMiddleware:
    """Refuse a request whose ``Host`` header names another host than the loopback one
    this server is bound to (421): a page on another site that resolves its own name to
    127.0.0.1 (DNS rebinding) cannot read or write a default server."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str] | None) -> None:
        self.app, self.allowed = app, allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.allowed is None:
            await self.app(scope, receive, send)
            return
        host = next((v for k, v in scope.get("headers", ()) if k == b"host"), b"")
        if _name(host) not in self.allowed:
            await _reply(send, 421, "Host not served here: this server answers on loopback "
                         "names only (127.0.0.1, localhost, [::1]); FLOPWISE_ALLOWED_HOSTS "
                         "adds others")  # fmt: skip
            return
        await self.app(scope, receive, send)
