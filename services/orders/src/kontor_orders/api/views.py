"""Merchant views over orders: a filtered, paginated list and the shipping queue.

Registered before the routes with ``/orders/{order_id}`` so ``/orders/to-ship`` is
not taken for an order id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from kontor_servicekit.apitypes import MoneyAmount
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import UnprocessableEntity, problem_responses
from pydantic import AwareDatetime, BaseModel, Field

from kontor_orders.domain.order import SHIPPABLE, Order
from kontor_orders.store.orders import ORDERS, from_document

router = APIRouter(tags=["orders"])

Status = Literal[
    "placed",
    "confirmed",
    "rejected",
    "cancelled",
    "paid",
    "partially_shipped",
    "shipped",
    "delivered",
]


class OpenLineOut(BaseModel):
    line_no: int
    sku: str
    name: str
    quantity: int = Field(description="Pieces still to ship")


class OrderSummaryOut(BaseModel):
    id: str
    number: str
    status: str
    customer_email: str
    customer_name: str
    placed_at: datetime
    currency: str
    gross_total: MoneyAmount
    open_lines: list[OpenLineOut] = Field(description="Lines with pieces not yet shipped")

    @classmethod
    def of(cls, order: Order) -> OrderSummaryOut:
        return cls(
            id=order.id,
            number=order.number,
            status=order.status,
            customer_email=order.customer.email,
            customer_name=order.customer.name,
            placed_at=order.placed_at,
            currency=order.currency,
            gross_total=order.gross_total,
            open_lines=[
                OpenLineOut(
                    line_no=line.line_no,
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity - order.shipped_quantity(line.line_no),
                )
                for line in order.lines
                if order.status not in ("rejected", "cancelled")
                and line.quantity > order.shipped_quantity(line.line_no)
            ],
        )


class OrderPageOut(BaseModel):
    items: list[OrderSummaryOut]
    page: int
    page_size: int
    total: int


async def _page(
    request: Request, query: dict[str, Any], sort: int, page: int, page_size: int
) -> OrderPageOut:
    collection = request.app.state.kit.store.db[ORDERS]
    total = await collection.count_documents(query)
    docs = (
        await collection.find(query)
        .sort([("placed_at", sort), ("_id", 1)])
        .skip((page - 1) * page_size)
        .limit(page_size)
        .to_list(None)
    )
    return OrderPageOut(
        items=[OrderSummaryOut.of(from_document(d)) for d in docs],
        page=page,
        page_size=page_size,
        total=total,
    )


@router.get(
    "/orders",
    dependencies=[Depends(require_scope("orders:read"))],
    responses=problem_responses(401, 403, 422),
    summary="Orders, newest first, filtered by status, time, customer and article",
)
async def list_orders(
    request: Request,
    status: Annotated[list[Status] | None, Query(description="One or more statuses")] = None,
    from_: Annotated[
        AwareDatetime | None, Query(alias="from", description="placed at or after")
    ] = None,
    to: Annotated[AwareDatetime | None, Query(description="placed before")] = None,
    customer: Annotated[
        str | None, Query(min_length=1, max_length=254, description="e-mail or customer id")
    ] = None,
    sku: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrderPageOut:
    if from_ is not None and to is not None and to <= from_:
        msg = "to must be after from"
        raise UnprocessableEntity(
            detail=msg, errors=[{"loc": ["query", "to"], "msg": msg, "type": "value_error"}]
        )
    query: dict[str, Any] = {}
    if status:
        query["status"] = {"$in": status}
    placed: dict[str, datetime] = {}
    if from_ is not None:
        placed["$gte"] = from_
    if to is not None:
        placed["$lt"] = to
    if placed:
        query["placed_at"] = placed
    if customer is not None:
        field = "customer.email" if "@" in customer else "customer.customer_id"
        query[field] = customer
    if sku is not None:
        query["lines.sku"] = sku
    return await _page(request, query, -1, page, page_size)


@router.get(
    "/orders/to-ship",
    dependencies=[Depends(require_scope("orders:read"))],
    responses=problem_responses(401, 403, 422),
    summary="The shipping queue: confirmed, paid or partly shipped orders, oldest first",
)
async def orders_to_ship(
    request: Request,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrderPageOut:
    return await _page(request, {"status": {"$in": sorted(SHIPPABLE)}}, 1, page, page_size)
