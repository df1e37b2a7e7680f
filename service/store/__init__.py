"""The durable store: training runs, published law versions and the job queue."""

from flopwise.service.store.db import Database, open_database

__all__ = ["Database", "open_database"]
