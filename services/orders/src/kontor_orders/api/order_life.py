"""HTTP routes that move an order through its life: cancel, ship, deliver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import Conflict, NotFound, UnprocessableEntity, problem_responses
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kontor_orders.api.orders import OrderOut
from kontor_orders.application.order_life import (
    UnknownOrder,
    cancel_order,
    deliver_order,
    ship_order,
)
from kontor_orders.domain.order import MAX_QUANTITY, IllegalTransition, OrderError

router = APIRouter(tags=["orders"])

OrderId = Annotated[str, Path(min_length=1, max_length=64)]


def now_of(request: Request) -> datetime:
    now: datetime = request.app.state.clock()
    return now


@asynccontextmanager
async def domain_errors(kind: str, ident: str) -> AsyncIterator[None]:
    """Domain refusals as problems: unknown id 404, wrong state 409, bad input 422."""
    try:
        yield
    except UnknownOrder as exc:
        raise NotFound(detail=f"no {kind} {ident!r}") from exc
    except IllegalTransition as exc:
        raise Conflict(detail=str(exc), extra={"current_state": exc.current_state}) from exc
    except OrderError as exc:
        loc = list(exc.field) if exc.field[0] in ("path", "query", "body") else ["body", *exc.field]
        raise UnprocessableEntity(
            detail=str(exc), errors=[{"loc": loc, "msg": str(exc), "type": "value_error"}]
        ) from exc


class CancelIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "customer_request", "cancelled_by": "customer"}]
        },
    )
    reason: str = Field(default="customer_request", min_length=1, max_length=200)
    cancelled_by: str = Field(default="merchant", pattern=r"^(customer|merchant|system)$")


@router.post(
    "/orders/{order_id}/cancel",
    dependencies=[Depends(require_scope("orders:write"))],
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Cancel an order before it ships (emits OrderCancelled with the lines to release)",
)
async def post_cancel(request: Request, order_id: OrderId, body: CancelIn) -> OrderOut:
    async with domain_errors("order", order_id):
        order = await cancel_order(
            request.app.state.kit.store,
            order_id,
            reason=body.reason,
            cancelled_by=body.cancelled_by,
            now=now_of(request),
        )
    return OrderOut.of(order)


class ShipmentLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line_no: int = Field(ge=1, le=200)
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class ShipmentIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "carrier": "DHL",
                    "tracking_number": "00340434161094042557",
                    "lines": [{"line_no": 1, "quantity": 1}],
                }
            ]
        },
    )
    carrier: str = Field(min_length=1, max_length=40)
    tracking_number: str | None = Field(default=None, min_length=1, max_length=64)
    lines: list[ShipmentLineIn] = Field(min_length=1, max_length=200)


@router.post(
    "/orders/{order_id}/shipments",
    status_code=201,
    dependencies=[Depends(require_scope("orders:write"))],
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Record a (partial) shipment with carrier and tracking number (emits OrderShipped)",
)
async def post_shipment(request: Request, order_id: OrderId, body: ShipmentIn) -> OrderOut:
    async with domain_errors("order", order_id):
        order = await ship_order(
            request.app.state.kit.store,
            order_id,
            carrier=body.carrier,
            tracking_number=body.tracking_number,
            lines=[(line.line_no, line.quantity) for line in body.lines],
            now=now_of(request),
        )
    return OrderOut.of(order)


class DeliveryIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"delivered_at": "2026-06-02T14:31:00+02:00"}, {}]},
    )
    delivered_at: AwareDatetime | None = Field(
        default=None, description="When the carrier delivered; default now"
    )


@router.post(
    "/orders/{order_id}/delivery",
    dependencies=[Depends(require_scope("orders:write"))],
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Record delivery (emits OrderDelivered; starts the withdrawal period)",
)
async def post_delivery(request: Request, order_id: OrderId, body: DeliveryIn) -> OrderOut:
    now = now_of(request)
    at = body.delivered_at or now
    # BSON keeps milliseconds: cut here so the answer and a later GET agree
    at = at.replace(microsecond=at.microsecond // 1000 * 1000)
    async with domain_errors("order", order_id):
        order = await deliver_order(request.app.state.kit.store, order_id, delivered_at=at, now=now)
    return OrderOut.of(order)
