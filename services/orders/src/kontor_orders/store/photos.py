"""Complaint photos: the bytes in GridFS (bucket ``complaint_photos``) of the orders DB.

A photo is uploaded before the complaint that refers to it (the customer attaches
photos while filling in the form); filing checks that every referenced id exists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kontor_servicekit.blobs import Blob, BlobStore, Upload
from pymongo.asynchronous.database import AsyncDatabase

BUCKET = "complaint_photos"


def blobs(db: AsyncDatabase[dict[str, Any]]) -> BlobStore:
    return BlobStore(db, BUCKET)


async def store_photo(db: AsyncDatabase[dict[str, Any]], upload: Upload, *, now: datetime) -> str:
    return await blobs(db).put(
        upload.data,
        filename=upload.filename,
        content_type=upload.content_type,
        metadata={"uploaded_at": now},
    )


async def missing_photos(db: AsyncDatabase[dict[str, Any]], photo_ids: list[str]) -> list[int]:
    """Positions in ``photo_ids`` of ids that name no stored photo."""
    return [i for i, known in enumerate(await blobs(db).exists(photo_ids)) if not known]


async def get_photo(db: AsyncDatabase[dict[str, Any]], photo_id: str) -> Blob | None:
    return await blobs(db).get(photo_id)
