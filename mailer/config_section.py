"""The base of every settings section: unknown keys refused, values frozen, no inf or nan,
no NUL in any text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class Section(BaseModel):
    # No inf or nan: every number here reaches a sleep, a timedelta or an int().
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # A NUL (TOML can hold one, "\u0000") ends a path or a URL early in C, and no file
        # name, address or header may hold one.
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str | Path) and "\x00" in str(text) for text in texts):
            raise ValueError("holds a NUL character (\\u0000)")
        return value
