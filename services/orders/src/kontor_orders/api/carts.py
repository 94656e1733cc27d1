"""HTTP routes of shopping carts."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status
from kontor_servicekit.apitypes import Instant, MoneyAmount, Quantity
from kontor_servicekit.auth import require_scope
from kontor_servicekit.errors import problem_responses
from kontor_servicekit.idempotency import IdempotencyKey
from pydantic import BaseModel, ConfigDict, Field

from kontor_orders.application.carts import (
    create_cart,
    remove_cart_line,
    set_cart_line,
    start_checkout,
)
from kontor_orders.context import Context
from kontor_orders.domain.cart import Cart, UnknownCart

router = APIRouter(tags=["carts"])

CartId = Annotated[str, Path(min_length=1, max_length=64)]
Sku = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[^/\s]+$")]


class CartIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"customer_email": "anna@example.de"}, {}]},
    )
    customer_email: str | None = Field(
        default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    )


class CartLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"quantity": 2}]})
    quantity: Quantity


class CartLineOut(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price_net: MoneyAmount
    unit_price_gross: MoneyAmount
    vat_rate: Decimal
    gross: MoneyAmount


class CartOut(BaseModel):
    id: str
    status: str = Field(description="open, checkout, ordered or abandoned")
    customer_email: str | None
    currency: str
    lines: list[CartLineOut]
    value: MoneyAmount = Field(description="Gross value at today's prices")
    created_at: Instant
    last_activity_at: Instant
    checkout_started_at: Instant | None
    prices_locked_until: Instant | None = Field(
        default=None,
        description="Until when an order from this cart charges the prices shown at "
        "checkout; later, a changed price refuses the order (409 naming the lines)",
    )
    order_id: str | None

    @classmethod
    def of(cls, cart: Cart) -> CartOut:
        return cls(
            id=cart.id,
            status=cart.status,
            customer_email=cart.customer_email,
            currency=cart.currency,
            lines=[
                CartLineOut(
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity,
                    unit_price_net=line.unit_price_net,
                    unit_price_gross=line.unit_price_gross,
                    vat_rate=line.vat_rate,
                    gross=line.gross,
                )
                for line in cart.lines
            ],
            value=cart.value,
            created_at=cart.created_at,
            last_activity_at=cart.last_activity_at,
            checkout_started_at=cart.checkout_started_at,
            prices_locked_until=cart.prices_locked_until,
            order_id=cart.order_id,
        )


@router.post(
    "/carts",
    status_code=status.HTTP_201_CREATED,
    response_model=CartOut,
    dependencies=[Depends(require_scope("orders:write"))],
    responses=problem_responses(401, 403, 422),
    summary="Open a cart (emits CartUpdated)",
)
async def post_cart(ctx: Context, body: CartIn) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: create_cart(
            transactor, customer_email=body.customer_email, clock=ctx.clock
        ),
        present=CartOut.of,
        status_code=status.HTTP_201_CREATED,
    )


@router.get(
    "/carts/{cart_id}",
    dependencies=[Depends(require_scope("orders:read"))],
    responses=problem_responses(401, 403, 404),
    summary="One cart",
)
async def read_cart(ctx: Context, cart_id: CartId) -> CartOut:
    cart = await ctx.carts.cart(cart_id)
    if cart is None:
        raise UnknownCart(cart_id)
    return CartOut.of(cart)


@router.put(
    "/carts/{cart_id}/lines/{sku}",
    response_model=CartOut,
    dependencies=[Depends(require_scope("orders:write"))],
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Put a quantity of an article in the cart, priced now (emits CartUpdated)",
)
async def put_cart_line(ctx: Context, cart_id: CartId, sku: Sku, body: CartLineIn) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: set_cart_line(transactor, cart_id, sku, body.quantity, ctx.clock),
        present=CartOut.of,
    )


@router.delete(
    "/carts/{cart_id}/lines/{sku}",
    response_model=CartOut,
    dependencies=[Depends(require_scope("orders:write"))],
    responses=problem_responses(401, 403, 404, 409),
    summary="Take an article out of the cart (emits CartUpdated)",
)
async def delete_cart_line(ctx: Context, cart_id: CartId, sku: Sku) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: remove_cart_line(transactor, cart_id, sku, ctx.clock),
        present=CartOut.of,
    )


@router.post(
    "/carts/{cart_id}/checkout",
    dependencies=[Depends(require_scope("orders:write"))],
    response_model=CartOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Start checkout: prices the cart now and fixes those prices for a stated time "
    "(emits CheckoutStarted; a quiet cart is abandoned later)",
    description="With an `Idempotency-Key` a retry answers the first answer again.",
)
async def post_checkout(
    ctx: Context, request: Request, cart_id: CartId, idempotency_key: IdempotencyKey = None
) -> Response:
    return await ctx.answers.respond(
        request,
        ctx.transactor,
        lambda transactor: start_checkout(
            transactor, cart_id, ctx.clock, price_lock=ctx.price_lock
        ),
        present=CartOut.of,
        key=idempotency_key,
    )
