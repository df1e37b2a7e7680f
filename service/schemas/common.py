"""Field types shared by the request schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Name", "Positive", "Request"]

Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
"""A positive finite number."""

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
"""A dataset name: letters, digits, ``.``, ``_``, ``-``."""


class Request(BaseModel):
    """Request bodies refuse unknown fields (a typo is an error, not a silent default)."""

    model_config = ConfigDict(extra="forbid")
