"""Where the shared reference data lives: ``../shared`` beside the repository
(override with ``FLOPWISE_SHARED``)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FLOPWISE_SHARED", REPO.parent / "shared"))
DATA = SHARED / "data"
