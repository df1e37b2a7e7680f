"""The client's tests run against a real ``flopwise serve`` (the e2e fixtures)."""

from __future__ import annotations

from tests.e2e.conftest import e2e_store, flopwise_server, flopwise_server_module

__all__ = ["e2e_store", "flopwise_server", "flopwise_server_module"]
