"""The durable store: training runs, published versions of every kind (laws, throughput
models...) and the job queue; and the in-memory registry class over published versions."""

from flopwise.service.store.db import Database, open_database

__all__ = ["Database", "open_database"]
