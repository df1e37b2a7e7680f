"""A cache of computed arrays bounded in the bytes it holds (``fitting`` keeps its shape
tables in them: ``shape``, ``throughput.grid``). numpy and the standard library only."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import fields
from typing import Any, Generic, TypeVar

import numpy as np

__all__ = ["BytesCache", "nbytes"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def nbytes(value: Any) -> int:
    """Bytes held by the arrays of a dataclass value (and of its dataclass fields)."""
    total = 0
    for f in fields(value):
        item = getattr(value, f.name)
        if isinstance(item, np.ndarray):
            total += item.nbytes
        elif hasattr(item, "__dataclass_fields__"):
            total += nbytes(item)
    return total


class BytesCache(Generic[K, V]):
    """Thread-safe LRU of computed values, bounded in the bytes their arrays hold. A
    key is built once at a time: threads that miss it while another builds it wait for
    that build rather than repeat it (and hold its memory twice)."""

    def __init__(self, max_bytes: int) -> None:
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._max_bytes, self._bytes = max_bytes, 0
        self._lock = threading.Lock()
        self._building: dict[K, threading.Lock] = {}

    def __contains__(self, key: K) -> bool:
        with self._lock:
            return key in self._items

    def _hit(self, key: K) -> tuple[V, int] | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def get(self, key: K, make: Callable[[], V]) -> V:
        """The cached value of ``key``, computed by ``make`` on a miss."""
        hit = self._hit(key)
        if hit is not None:
            return hit[0]
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:
            hit = self._hit(key)  # built while this thread waited
            if hit is not None:
                return hit[0]
            try:
                value = make()
                self._store(key, value)
            finally:
                with self._lock:
                    self._building.pop(key, None)
        return value

    def _store(self, key: K, value: V) -> None:
        size = nbytes(value)
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes += size - (old[1] if old is not None else 0)
            self._items[key] = (value, size)
            while len(self._items) > 1 and self._bytes > self._max_bytes:
                self._bytes -= self._items.popitem(last=False)[1][1]

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._items.clear()
            self._bytes = 0
