"""Merchant views over orders: a filtered, paginated list and the shipping queue.

Registered before the routes with ``/orders/{order_id}`` so ``/orders/to-ship`` is
not taken for an order id.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from kontor_servicekit.apitypes import Instant, MoneyAmount, PageOut, QueryInt, QueryMoment
from kontor_servicekit.apitypes import Page as PageNumber
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import problem_responses
from pydantic import BaseModel, Field

from kontor_orders.application.views import OrderFilter, Page, day_end, day_start
from kontor_orders.context import Context
from kontor_orders.domain.order import Order

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
    "partially_returned",
    "returned",
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
    placed_at: Instant
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
                OpenLineOut(line_no=line.line_no, sku=line.sku, name=line.name, quantity=pieces)
                for line, pieces in order.open_lines()
            ],
        )


class OrderPageOut(PageOut[OrderSummaryOut]):
    """A page of orders (the kit's one list shape)."""

    @classmethod
    def of(cls, found: Page[Order], page: int, page_size: int) -> OrderPageOut:
        items = [OrderSummaryOut.of(order) for order in found.items]
        return cls(items=items, page=page, page_size=page_size, total=found.total)


@router.get(
    "/orders",
    dependencies=[Depends(require_scope("orders:read"))],
    responses=problem_responses(401, 403, 422),
    summary="Orders, newest first, filtered by status, time, customer, article and number",
    description="`from`/`to`: a moment with its offset (`2026-12-01T09:00:00Z`), or a plain "
    "date meaning that day in Berlin (`from=2026-12-01` from its start, `to=2026-12-01` to "
    "its end). `customer`: an e-mail address (any case) or a customer id.",
)
async def list_orders(
    ctx: Context,
    status: Annotated[list[Status] | None, Query(description="One or more statuses")] = None,
    from_: Annotated[
        QueryMoment | None,
        Query(alias="from", description="placed at or after; a date: from its start in Berlin"),
    ] = None,
    to: Annotated[
        QueryMoment | None,
        Query(description="placed before; a date: up to its end in Berlin"),
    ] = None,
    customer: Annotated[
        str | None, Query(min_length=1, max_length=254, description="e-mail or customer id")
    ] = None,
    sku: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    number: Annotated[
        str | None, Query(min_length=1, max_length=32, description="order number, any case")
    ] = None,
    page: PageNumber = 1,
    page_size: Annotated[QueryInt, Query(ge=1, le=200)] = 50,
) -> OrderPageOut:
    wanted = OrderFilter(
        statuses=tuple(status or ()),
        placed_from=None if from_ is None else day_start(from_),
        placed_before=None if to is None else day_end(to),
        customer=customer,
        sku=sku,
        number=number,
    )
    found = await ctx.orders.page(wanted, page=page, page_size=page_size)
    return OrderPageOut.of(found, page, page_size)


@router.get(
    "/orders/to-ship",
    dependencies=[Depends(require_scope("orders:read"))],
    responses=problem_responses(401, 403, 422),
    summary="The shipping queue: confirmed, paid or partly shipped orders, oldest first",
)
async def orders_to_ship(
    ctx: Context,
    page: PageNumber = 1,
    page_size: Annotated[QueryInt, Query(ge=1, le=200)] = 50,
) -> OrderPageOut:
    found = await ctx.orders.to_ship(page=page, page_size=page_size)
    return OrderPageOut.of(found, page, page_size)
