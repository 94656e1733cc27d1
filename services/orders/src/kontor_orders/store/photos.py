"""Complaint photos: the bytes in GridFS (bucket ``complaint_photos``) of the orders DB.

A photo is uploaded before the complaint that refers to it (the customer attaches
photos while filling in the form); filing checks that every referenced id exists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from gridfs import AsyncGridFSBucket, NoFile
from pymongo.asynchronous.database import AsyncDatabase

BUCKET = "complaint_photos"


def bucket(db: AsyncDatabase[dict[str, Any]]) -> AsyncGridFSBucket:
    return AsyncGridFSBucket(db, bucket_name=BUCKET)


async def store_photo(
    db: AsyncDatabase[dict[str, Any]],
    *,
    data: bytes,
    content_type: str,
    filename: str,
    now: datetime,
) -> str:
    file_id = await bucket(db).upload_from_stream(
        filename, data, metadata={"content_type": content_type, "uploaded_at": now}
    )
    return str(file_id)


def _object_id(photo_id: str) -> ObjectId | None:
    try:
        return ObjectId(photo_id)
    except (InvalidId, TypeError):
        return None


async def missing_photos(db: AsyncDatabase[dict[str, Any]], photo_ids: list[str]) -> list[int]:
    """Positions in ``photo_ids`` of ids that name no stored photo."""
    wanted = {i: _object_id(p) for i, p in enumerate(photo_ids)}
    known = {
        doc["_id"]
        for doc in await db[f"{BUCKET}.files"]
        .find({"_id": {"$in": [o for o in wanted.values() if o is not None]}}, {"_id": 1})
        .to_list(None)
    }
    return [i for i, oid in wanted.items() if oid is None or oid not in known]


async def photo_bytes(db: AsyncDatabase[dict[str, Any]], photo_id: str) -> tuple[str, bytes] | None:
    oid = _object_id(photo_id)
    if oid is None:
        return None
    try:
        stream = await bucket(db).open_download_stream(oid)
    except NoFile:
        return None
    data = await stream.read()
    metadata = stream.metadata or {}
    return str(metadata.get("content_type", "application/octet-stream")), data
