"""Listing and retrying failed outbox rows (admin API of every service).

A failed row holds back every later event of its aggregate (see
:mod:`kontor_servicekit.outbox`), so an operator needs to see it and, once the
cause is fixed, hand it back to the relay.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from kontor_servicekit.apitypes import Instant, Page, PageOut, QueryInt
from kontor_servicekit.auth import scoped_router
from kontor_servicekit.errors import Conflict, NotFound, problem_responses
from kontor_servicekit.outbox import FAILED, OutboxRelay
from kontor_servicekit.store import OUTBOX, find_page


class OutboxRow(BaseModel):
    id: str
    topic: str
    key: str
    type: str
    status: Literal["pending", "in_flight", "sent", "failed"]
    attempts: int
    last_error: str | None = None
    last_attempt_at: Instant | None = None
    next_attempt_at: Instant | None = None
    """When the relay tries again by itself; ``None`` for a failed row: it gave up."""
    manual_retries: int = 0
    created_at: Instant


class OutboxPage(PageOut[OutboxRow]):
    """A page of failed rows, oldest first (the kit's one list shape)."""


def _view(doc: dict[str, Any]) -> OutboxRow:
    return OutboxRow(
        id=doc["_id"],
        topic=doc["topic"],
        key=str(doc["key"]),
        type=doc["type"],
        status=doc["status"],
        attempts=int(doc.get("attempts") or 0),
        last_error=doc.get("last_error"),
        last_attempt_at=doc.get("last_attempt_at"),
        next_attempt_at=doc.get("next_attempt_at"),
        manual_retries=int(doc.get("manual_retries") or 0),
        created_at=doc["created_at"],
    )


def outbox_router(service: str) -> APIRouter:
    router = scoped_router(f"{service}:admin", prefix="/admin/outbox", tags=["admin"])

    @router.get(
        "/failures",
        responses=problem_responses(401, 403),
        summary="List outbox rows whose publication failed, oldest first",
        description=(
            "Each failed row holds back the later events of its aggregate (the Kafka key). "
            "`next_attempt_at` is null once the relay gave up: retry it here."
        ),
    )
    async def list_outbox_failures(
        request: Request,
        page: Page = 1,
        page_size: Annotated[QueryInt, Query(ge=1, le=1000)] = 100,
    ) -> OutboxPage:
        store = request.app.state.kit.store
        docs, total = await find_page(
            store.db[OUTBOX], {"status": FAILED}, [("seq", 1)], page=page, page_size=page_size
        )
        items = [_view(d) for d in docs]
        return OutboxPage(items=items, page=page, page_size=page_size, total=total)

    @router.post(
        "/failures/{row_id}/retry",
        responses=problem_responses(401, 403, 404, 409),
        summary="Hand a failed outbox row back to the relay with a fresh budget of attempts",
    )
    async def retry_outbox_failure(request: Request, row_id: str) -> OutboxRow:
        relay: OutboxRelay = request.app.state.kit.relay
        collection = relay.store.db[OUTBOX]
        if not await relay.retry(row_id):
            doc = await collection.find_one({"_id": row_id})
            if doc is None:
                raise NotFound(detail=f"no outbox row {row_id!r}")
            raise Conflict(
                detail="only a failed outbox row can be retried",
                extra={"current_state": doc["status"]},
            )
        updated = await collection.find_one({"_id": row_id})
        assert updated is not None
        return _view(updated)

    return router
