"""HTTP routes that move an order through its life: cancel, ship, deliver."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from kontor_servicekit.apitypes import LineNo, Quantity
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import problem_responses
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kontor_orders.api.orders import OrderOut
from kontor_orders.application.order_life import cancel_order, deliver_order, ship_order
from kontor_orders.context import Context

router = APIRouter(tags=["orders"])

OrderId = Annotated[str, Path(min_length=1, max_length=64)]


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
    response_model=OrderOut,
    dependencies=[Depends(require_scope("orders:write"))],
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Cancel an order before it ships (emits OrderCancelled with the lines to release)",
)
async def post_cancel(ctx: Context, order_id: OrderId, body: CancelIn) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: cancel_order(
            transactor,
            order_id,
            reason=body.reason,
            cancelled_by=body.cancelled_by,
            clock=ctx.clock,
        ),
        present=OrderOut.of,
    )


class ShipmentLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line_no: LineNo
    quantity: Quantity


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
    response_model=OrderOut,
    dependencies=[Depends(require_scope("orders:write"))],
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Record a (partial) shipment with carrier and tracking number (emits OrderShipped)",
)
async def post_shipment(ctx: Context, order_id: OrderId, body: ShipmentIn) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: ship_order(
            transactor,
            order_id,
            carrier=body.carrier,
            tracking_number=body.tracking_number,
            lines=[(line.line_no, line.quantity) for line in body.lines],
            clock=ctx.clock,
        ),
        present=OrderOut.of,
        status_code=201,
    )


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
    response_model=OrderOut,
    dependencies=[Depends(require_scope("orders:write"))],
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Record delivery (emits OrderDelivered; starts the withdrawal period)",
)
async def post_delivery(ctx: Context, order_id: OrderId, body: DeliveryIn) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: deliver_order(
            transactor, order_id, delivered_at=body.delivered_at, clock=ctx.clock
        ),
        present=OrderOut.of,
    )
