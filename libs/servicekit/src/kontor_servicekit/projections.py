"""Read models fed by events: the newest event wins, whatever order events arrive in.

Events of one aggregate arrive in order on its partition, but a replay, a second
topic or a rebuild can deliver an older event after a newer one. A projection
document therefore remembers the time of the last event applied, as microseconds
since the epoch in ``as_of_us`` (BSON dates keep only milliseconds, too coarse to
order two changes of one aggregate made in the same millisecond) and as a date in
``as_of``; an event older than that changes nothing.

Call :func:`upsert_if_newer` inside the consumer's transaction (pass its session):
the read and the write then see one snapshot, and a concurrent writer of the same
document makes one of the two transactions retry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection

from kontor_servicekit.clock import micros

__all__ = ["AS_OF", "VERSION", "upsert_if_newer", "upsert_many_if_newer"]

#: The applied event's time in microseconds since the epoch (the version compared).
VERSION = "as_of_us"
#: The applied event's time as a date, for people and queries.
AS_OF = "as_of"


async def upsert_if_newer(
    collection: AsyncCollection[dict[str, Any]],
    key: Any,
    doc: Mapping[str, Any],
    *,
    occurred_at: datetime,
    session: AsyncClientSession | None,
    replace: bool = False,
) -> bool:
    """Write ``doc`` as the document ``key`` unless a newer event was applied already.

    ``replace=False`` sets the fields of ``doc`` and keeps the others (an event that
    tells part of the state); ``replace=True`` makes ``doc`` the whole document (an
    event that carries the full state). An event from the same moment as the stored
    one is applied (the later delivery wins a tie), so is one on a document written
    before versions were kept. Returns whether the document was written.
    """
    version = micros(occurred_at)
    current = await collection.find_one({"_id": key}, {VERSION: 1}, session=session)
    if current is not None and current.get(VERSION, -1) > version:
        return False
    stamped = {**doc, VERSION: version, AS_OF: occurred_at}
    if replace:
        await collection.replace_one(
            {"_id": key}, {**stamped, "_id": key}, upsert=True, session=session
        )
    else:
        await collection.update_one({"_id": key}, {"$set": stamped}, upsert=True, session=session)
    return True


async def upsert_many_if_newer(
    collection: AsyncCollection[dict[str, Any]],
    keys: Sequence[Any],
    doc: Mapping[str, Any],
    *,
    occurred_at: datetime,
    session: AsyncClientSession | None,
) -> int:
    """Set the fields of ``doc`` on each document of ``keys`` (one event telling the same
    facts of many aggregates) unless a newer event was applied to it already: one read
    and one bulk write, not two round trips per key. Returns how many were written."""
    version = micros(occurred_at)
    newer = await collection.find(
        {"_id": {"$in": list(keys)}, VERSION: {"$gt": version}}, {"_id": 1}, session=session
    ).to_list(None)
    skip = {d["_id"] for d in newer}
    stamped = {**doc, VERSION: version, AS_OF: occurred_at}
    writes = [
        UpdateOne({"_id": key}, {"$set": stamped}, upsert=True) for key in keys if key not in skip
    ]
    if writes:
        await collection.bulk_write(writes, ordered=False, session=session)
    return len(writes)
