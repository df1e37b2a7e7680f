"""``flopwise serve`` warns loudly when other machines can write without an API key."""

from __future__ import annotations

import pytest

from flopwise.service.cli.serve_cmd import open_writes_warning
from flopwise.service.config import Settings


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "flopwise.internal"])
def test_reachable_without_key_warns(host: str) -> None:
    warning = open_writes_warning(Settings(host=host, port=8123, api_key=None))
    assert warning is not None
    assert "WRITES ARE OPEN" in warning and f"{host}:8123" in warning
    assert "FLOPWISE_API_KEY" in warning


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_only_is_quiet(host: str) -> None:
    assert open_writes_warning(Settings(host=host, api_key=None)) is None


def test_a_key_closes_writes() -> None:
    assert open_writes_warning(Settings(host="0.0.0.0", api_key="secret")) is None
