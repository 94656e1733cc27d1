"""Complaint photos: the bytes in GridFS (bucket ``complaint_photos``) of the orders DB.

A photo is uploaded before the complaint that refers to it (the customer attaches
photos while filling in the form); filing checks that every referenced id exists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kontor_servicekit.blobs import Blob, BlobStore, Upload
from kontor_servicekit.store import Transaction
from pymongo.asynchronous.database import AsyncDatabase

from kontor_orders.store.complaints import COMPLAINTS

BUCKET = "complaint_photos"


class ComplaintPhotos:
    """The photo store the routes upload to and serve from."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.blobs = BlobStore(db, BUCKET)

    async def put(self, upload: Upload, *, now: datetime) -> str:
        """Store an upload checked by ``read_image_upload``; its id."""
        return await self.blobs.put(
            upload.data,
            filename=upload.filename,
            content_type=upload.content_type,
            metadata={"uploaded_at": now},
        )

    async def get(self, photo_id: str) -> Blob | None:
        return await self.blobs.get(photo_id)


class MongoPhotoIndex:
    """``PhotoIndex`` for a unit of work. GridFS files are written outside any
    transaction (when uploaded), so the lookup needs no session."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def exists(self, photo_ids: list[str]) -> list[bool]:
        if not photo_ids:
            return []
        return await BlobStore(self.tx.db, BUCKET).exists(photo_ids)


async def delete_orphaned_photos(
    db: AsyncDatabase[dict[str, Any]], *, uploaded_before: datetime
) -> int:
    """Delete the photos uploaded before ``uploaded_before`` that no complaint refers to
    (never filed, or their complaint's retention ended: ADR 0076); how many. GridFS
    files carry no TTL (their chunks would stay), so a sweep does it."""
    referenced = set(await db[COMPLAINTS].distinct("photo_ids"))
    blobs = BlobStore(db, BUCKET)
    old = db[f"{BUCKET}.files"].find({"uploadDate": {"$lt": uploaded_before}}, {"_id": 1})
    orphans = [str(doc["_id"]) async for doc in old if str(doc["_id"]) not in referenced]
    for photo_id in orphans:
        await blobs.delete(photo_id)
    return len(orphans)
