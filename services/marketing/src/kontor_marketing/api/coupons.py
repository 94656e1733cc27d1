"""Coupons (``marketing:write`` to define and withdraw, ``marketing:read`` to look).

``POST /coupons`` takes ``percent_off`` or ``amount_off`` (gross, with its currency),
a validity window, a minimum order value (gross goods), ``single_use``,
``uses_per_customer`` and ``max_redemptions``, and optionally ``product_skus`` and
``category_ids`` that restrict it to those articles (ADR 0116); orders
applies the code at placement from CouponDefined and refuses unknown, withdrawn,
expired and used single-use codes, and a restricted code on an order without an
article it applies to (ADR 0018, ADR 0050).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import Response
from kontor_servicekit.apitypes import (
    CategoryId,
    Count,
    Flag,
    Instant,
    MoneyAmount,
    Page,
    PageOut,
    QueryInt,
    Sku,
)
from kontor_servicekit.auth import require_scope
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.errors import problem_responses
from kontor_servicekit.idempotency import IdempotencyKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kontor_marketing.application.coupons import DefineCoupon, define_coupon, withdraw_coupon
from kontor_marketing.context import Context
from kontor_marketing.domain.coupon import Coupon

router = APIRouter(tags=["coupons"])

Code = Annotated[str, Path(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


_ONLY_SKUS = (
    "Only order lines of these SKUs are discounted (a parent product's SKU: all its "
    "variants); with category_ids: a line matching either (ADR 0116)"
)
_ONLY_CATEGORIES = (
    "Only order lines of products in these catalog categories (their id, e.g. t-shirts) "
    "are discounted; neither given: every line"
)


class GrossIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gross: MoneyAmount
    currency: Literal["EUR"] = "EUR"


class CouponRulesIn(BaseModel):
    """What a code takes off, when, and on which articles (a coupon's and a pool's)."""

    model_config = ConfigDict(extra="forbid")
    percent_off: MoneyAmount | None = Field(default=None, description="Off the goods, 0-100")
    amount_off: GrossIn | None = Field(default=None, description="Gross off the goods")
    minimum_order_value: GrossIn | None = Field(
        default=None, description="Gross goods value an order must reach"
    )
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = Field(default=None, description="Exclusive")
    campaign_id: str | None = Field(default=None, min_length=1, max_length=64)
    product_skus: list[Sku] = Field(default_factory=list, max_length=500, description=_ONLY_SKUS)
    category_ids: list[CategoryId] = Field(
        default_factory=list, max_length=100, description=_ONLY_CATEGORIES
    )

    def rules(self) -> dict[str, Any]:
        """The command's fields these carry (``percent``, ``value``, ``currency``, ...)."""
        return {
            "percent": self.percent_off,
            "value": None if self.amount_off is None else self.amount_off.gross,
            "currency": self.amount_off.currency if self.amount_off else "EUR",
            "minimum_order_value": None
            if self.minimum_order_value is None
            else self.minimum_order_value.gross,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "campaign_id": self.campaign_id,
            "product_skus": tuple(self.product_skus),
            "category_ids": tuple(self.category_ids),
        }


class CouponIn(CouponRulesIn):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "WINTER10",
                    "percent_off": "10",
                    "valid_until": "2027-03-31T23:59:59+01:00",
                },
                {
                    "code": "SORRY5",
                    "amount_off": {"gross": "5.00", "currency": "EUR"},
                    "single_use": True,
                },
                {
                    "code": "TEES15",
                    "percent_off": "15",
                    "category_ids": ["t-shirts"],
                    "product_skus": ["MUG-1"],
                },
            ]
        },
    )
    code: str = Field(min_length=3, max_length=32, description="Stored upper case")
    single_use: Flag = Field(default=False, description="One order may use it, once")
    uses_per_customer: Count | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Orders of one customer (by e-mail) that may use it",
    )
    max_redemptions: Count | None = Field(
        default=None, ge=1, le=10_000_000, description="Orders in all that may use it"
    )


class CouponOut(BaseModel):
    code: str
    kind: Literal["percent", "value"]
    percent_off: MoneyAmount | None
    amount_off: MoneyAmount | None
    currency: str
    minimum_order_value: MoneyAmount | None
    valid_from: Instant | None
    valid_until: Instant | None
    single_use: bool
    campaign_id: str | None
    uses_per_customer: int | None
    max_redemptions: int | None
    product_skus: list[str]
    category_ids: list[str]
    status: Literal["active", "scheduled", "expired", "withdrawn", "used"]
    redemptions: int = Field(description="Orders placed with it (as orders reported them)")
    discount_total: MoneyAmount = Field(description="Gross discount granted with it")
    created_at: Instant
    withdrawn_at: Instant | None

    @classmethod
    def of(cls, coupon: Coupon, now: datetime) -> CouponOut:
        return cls(
            code=coupon.code,
            kind=coupon.kind,
            percent_off=coupon.percent,
            amount_off=coupon.value,
            currency=coupon.currency,
            minimum_order_value=coupon.minimum_order_value,
            valid_from=coupon.valid_from,
            valid_until=coupon.valid_until,
            single_use=coupon.single_use,
            campaign_id=coupon.campaign_id,
            uses_per_customer=coupon.uses_per_customer,
            max_redemptions=coupon.max_redemptions,
            product_skus=list(coupon.product_skus),
            category_ids=list(coupon.category_ids),
            status=coupon.status(now),
            redemptions=coupon.redemptions,
            discount_total=coupon.discount_total,
            created_at=coupon.created_at,
            withdrawn_at=coupon.withdrawn_at,
        )


class CouponPage(PageOut[CouponOut]):
    pass


@router.post(
    "/coupons",
    status_code=status.HTTP_201_CREATED,
    response_model=CouponOut,
    dependencies=[Depends(require_scope("marketing:write"))],
    responses=problem_responses(401, 403, 409, 422),
    summary="Define a coupon code (emits CouponDefined; orders applies it at placement)",
)
async def post_coupon(
    ctx: Context, request: Request, body: CouponIn, idempotency_key: IdempotencyKey = None
) -> Response:
    command = DefineCoupon(
        code=body.code,
        **body.rules(),
        single_use=body.single_use,
        uses_per_customer=body.uses_per_customer,
        max_redemptions=body.max_redemptions,
    )
    return await ctx.answers.respond(
        request,
        ctx.transactor,
        lambda transactor: define_coupon(transactor, command, clock=ctx.clock),
        present=lambda coupon: CouponOut.of(coupon, ctx.clock()),
        status_code=status.HTTP_201_CREATED,
        key=idempotency_key,
        body=body,
        location=lambda out: f"/coupons/{out.code}",
    )


@router.post(
    "/coupons/{code}/withdrawal",
    response_model=CouponOut,
    dependencies=[Depends(require_scope("marketing:write"))],
    responses=problem_responses(401, 403, 404),
    summary="Withdraw a coupon (emits CouponWithdrawn; placed orders keep their discount)",
)
async def post_withdrawal(ctx: Context, code: Code) -> Response:
    return await ctx.answers.answer(
        ctx.transactor,
        lambda transactor: withdraw_coupon(transactor, code, clock=ctx.clock),
        present=lambda coupon: CouponOut.of(coupon, ctx.clock()),
    )


@router.get(
    "/coupons/{code}",
    response_model=CouponOut,
    dependencies=[Depends(require_scope("marketing:read"))],
    responses=problem_responses(401, 403, 404),
    summary="A coupon with its status and how often it was used",
)
async def get_coupon(ctx: Context, code: Code) -> CouponOut:
    coupon = await ctx.queries.coupon(code.upper())
    if coupon is None:
        raise NotFound("coupon", code)
    return CouponOut.of(coupon, ctx.clock())


@router.get(
    "/coupons",
    response_model=CouponPage,
    dependencies=[Depends(require_scope("marketing:read"))],
    responses=problem_responses(401, 403, 422),
    summary="Coupons, newest first",
)
async def list_coupons(
    ctx: Context,
    page: Page = 1,
    page_size: Annotated[QueryInt, Query(ge=1, le=200)] = 50,
) -> CouponPage:
    coupons, total = await ctx.queries.coupon_page(page=page, page_size=page_size)
    now = ctx.clock()
    return CouponPage(
        items=[CouponOut.of(c, now) for c in coupons], page=page, page_size=page_size, total=total
    )
