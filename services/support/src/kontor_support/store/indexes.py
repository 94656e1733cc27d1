"""Support's indexes (created at start; nothing else happens here)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    """None yet: each collection brings its indexes with the feature that adds it."""
