"""Where the client connects and how it says who it is.

The base URL is ``url``, else ``$FLOPWISE_URL``, else ``http://127.0.0.1:8000`` (where
``flopwise serve`` listens); the API key is ``api_key``, else ``$FLOPWISE_API_KEY``,
sent as ``Authorization: Bearer <key>`` on every request (the service asks for it on
writes, and on reads with ``FLOPWISE_PROTECT_READS``).
"""

from __future__ import annotations

import os

from flopwise import __version__
from flopwise.fitting.errors import ArgumentError

__all__ = ["DEFAULT_TIMEOUT", "DEFAULT_URL", "connection"]

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 30.0
"""Seconds to connect, and between bytes of an answer."""


def connection(url: str | None, api_key: str | None) -> tuple[str, dict[str, str]]:
    """The base URL and the headers of every request."""
    base = (url or os.environ.get("FLOPWISE_URL") or DEFAULT_URL).rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ArgumentError("url", f"must start with http:// or https://, got {base!r}")
    key = api_key if api_key is not None else os.environ.get("FLOPWISE_API_KEY")
    headers = {"User-Agent": f"flopwise-client/{__version__}"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return base, headers
