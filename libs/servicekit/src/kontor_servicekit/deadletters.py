"""Listing and replaying parked messages (admin API of every consuming service)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from kontor_servicekit.apitypes import Instant, Page, PageOut, QueryInt
from kontor_servicekit.auth import scoped_router
from kontor_servicekit.consumer import ParkedRecord
from kontor_servicekit.errors import Conflict, NotFound, ProblemError, problem_responses
from kontor_servicekit.store import DEAD_LETTERS, find_page


class ServiceUnavailable(ProblemError):
    status = 503
    title = "Service Unavailable"


class DeadLetter(BaseModel):
    id: str
    group: str
    topic: str
    partition: int
    offset: int
    reason: str
    error_type: str
    attempts: int
    status: Literal["parked", "replayed"]
    dead_lettered_at: Instant
    replayed_at: Instant | None = None
    key: str | None = None
    value_preview: str
    size_bytes: int | None = None
    """The parked value's length; ``value_truncated``: only the first 8 MiB were kept."""
    value_truncated: bool = False
    dead_letter_topic_published: bool = True
    """False: the dead-letter topic refused the message (see ``dead_letter_topic_error``);
    this record is its only copy."""
    dead_letter_topic_error: str | None = None


class DeadLetterPage(PageOut[DeadLetter]):
    """A page of parked messages, newest first (the kit's one list shape)."""


class ReplayResult(BaseModel):
    outcome: Literal["handled", "duplicate", "ignored", "dead_lettered"]
    dead_letter: DeadLetter


def _view(doc: dict[str, Any]) -> DeadLetter:
    value = doc.get("value") or b""
    return DeadLetter(
        id=doc["_id"],
        group=doc["group"],
        topic=doc["topic"],
        partition=doc["partition"],
        offset=doc["offset"],
        reason=doc["reason"],
        error_type=doc["error_type"],
        attempts=doc["attempts"],
        status=doc["status"],
        dead_lettered_at=doc["dead_lettered_at"],
        replayed_at=doc.get("replayed_at"),
        key=doc["key"].decode(errors="replace") if doc.get("key") else None,
        value_preview=bytes(value)[:2000].decode(errors="replace"),
        size_bytes=doc.get("value_bytes"),
        value_truncated=bool(doc.get("value_truncated", False)),
        dead_letter_topic_published=bool(doc.get("dead_letter_topic_published", True)),
        dead_letter_topic_error=doc.get("dead_letter_topic_error"),
    )


def dead_letter_router(service: str) -> APIRouter:
    router = scoped_router(f"{service}:admin", prefix="/admin/dead-letters", tags=["admin"])

    @router.get(
        "",
        responses=problem_responses(401, 403),
        summary="List messages parked on this service's dead-letter topics",
    )
    async def list_dead_letters(
        request: Request,
        status: Literal["parked", "replayed"] | None = Query(default="parked"),
        page: Page = 1,
        page_size: Annotated[QueryInt, Query(ge=1, le=1000)] = 100,
    ) -> DeadLetterPage:
        query = {} if status is None else {"status": status}
        store = request.app.state.kit.store
        docs, total = await find_page(
            store.db[DEAD_LETTERS],
            query,
            [("dead_lettered_at", -1), ("_id", 1)],
            page=page,
            page_size=page_size,
        )
        items = [_view(d) for d in docs]
        return DeadLetterPage(items=items, page=page, page_size=page_size, total=total)

    @router.post(
        "/{dead_letter_id}/replay",
        responses=problem_responses(401, 403, 404, 409, 503),
        summary="Hand a parked message to its consumer group again",
        description=(
            "The message goes through the same handler, inbox and transaction as on "
            "first delivery, inside this service: nothing is written to another "
            "service's topic. If it fails again it is parked again with the new reason."
        ),
    )
    async def replay_dead_letter(request: Request, dead_letter_id: str) -> ReplayResult:
        kit = request.app.state.kit
        collection = kit.store.db[DEAD_LETTERS]
        doc = await collection.find_one({"_id": dead_letter_id})
        if doc is None:
            raise NotFound(detail=f"no dead letter {dead_letter_id!r}")
        if doc["status"] != "parked":
            raise Conflict(
                detail="this message was replayed already", extra={"current_state": doc["status"]}
            )
        if doc.get("value_truncated"):
            raise Conflict(
                detail="only the first bytes of this message were kept; it cannot be replayed",
                extra={"current_state": doc["status"]},
            )
        handler = kit.consumers.handlers.get(doc["group"])
        if handler is None:
            raise Conflict(
                detail=f"consumer group {doc['group']!r} no longer exists in this service",
                extra={"current_state": doc["status"]},
            )
        record = ParkedRecord(
            topic=doc["topic"],
            partition=doc["partition"],
            offset=doc["offset"],
            key=doc.get("key"),
            value=doc.get("value"),
            headers=[
                (k, bytes(v)) for k, v in doc["headers"] if not str(k).startswith("kontor_dlt_")
            ],
        )
        outcome = await handler.handle_record(record.value, record)
        if outcome == "retry_later":
            raise ServiceUnavailable(detail="the database or broker is unavailable; retry shortly")
        if outcome != "dead_lettered":
            now = datetime.now(UTC)
            await collection.update_one(
                {"_id": dead_letter_id},
                {"$set": {"status": "replayed", "replayed_at": now, "replay_outcome": outcome}},
            )
        updated = await collection.find_one({"_id": dead_letter_id})
        assert updated is not None
        return ReplayResult(outcome=outcome, dead_letter=_view(updated))

    return router
