"""``fitting.caches.BytesCache``: bounded in bytes, and a key is built once at a time."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from flopwise.fitting.caches import BytesCache, nbytes


@dataclass(frozen=True)
class Inner:
    values: np.ndarray


@dataclass(frozen=True)
class Table:
    values: np.ndarray
    inner: Inner
    label: str = ""


def table(n: int) -> Table:
    return Table(np.zeros(n), Inner(np.zeros(n, dtype=np.int32)))


def test_nbytes_counts_nested_dataclasses() -> None:
    assert nbytes(table(100)) == 100 * 8 + 100 * 4


def test_least_recently_used_tables_leave_past_the_byte_bound() -> None:
    cache: BytesCache[int, Table] = BytesCache(max_bytes=3 * 1200)
    for key in range(5):
        cache.get(key, lambda: table(100))  # 1,200 bytes each
    assert [k in cache for k in range(5)] == [False, False, True, True, True]
    cache.get(2, lambda: table(1))  # a hit: 2 becomes the most recent
    cache.get(5, lambda: table(100))
    assert [k in cache for k in range(6)] == [False, False, True, False, True, True]
    cache.clear()
    assert 5 not in cache


def test_threads_missing_one_key_share_one_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight threads miss one key at once: the first builds it while the other seven,
    which have looked it up and missed, wait for that build instead of repeating it."""
    cache: BytesCache[str, Table] = BytesCache(max_bytes=1 << 20)
    looked = threading.Semaphore(0)
    lookup = cache._hit

    def counted(key: str) -> Any:
        found = lookup(key)
        looked.release()
        return found

    monkeypatch.setattr(cache, "_hit", counted)
    builds: list[int] = []

    def make() -> Table:
        builds.append(1)
        for _ in range(2 + 7):  # the builder's two lookups, one by each other thread
            assert looked.acquire(timeout=30)
        return table(10)

    got: list[Table] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("k", make))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1 and len(got) == 8
    assert all(t is got[0] for t in got)
