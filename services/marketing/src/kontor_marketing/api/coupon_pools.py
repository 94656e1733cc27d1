"""Coupon pools: unique single-use codes of one definition (``marketing:write`` to
create, ``marketing:read`` to look; ADR 0118).

``POST /coupon-pools`` takes a ``prefix``, a ``count`` and the rules of ``POST /coupons``
(``percent_off`` or ``amount_off``, validity, minimum order value, products or
categories); every code is single-use. ``POST /coupon-pools/{id}/codes`` adds codes of
the same rules (at most 2 000 a request: each runs in one transaction). A campaign mail
hands one code to each recipient through the placeholder ``{{coupon_code:<pool id>}}``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, status
from fastapi.responses import Response
from kontor_servicekit.apitypes import Count, Instant, MoneyAmount
from kontor_servicekit.auth import require_scope
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.errors import problem_responses
from kontor_servicekit.idempotency import IdempotencyKey
from pydantic import BaseModel, ConfigDict, Field

from kontor_marketing.api.coupons import CouponRulesIn
from kontor_marketing.application.coupon_pools import DefinePool, add_codes, define_pool
from kontor_marketing.context import Context
from kontor_marketing.domain.coupon_pool import MAX_CODES, CouponPool, PoolCounts

router = APIRouter(tags=["coupons"])

PoolId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class CouponPoolIn(CouponRulesIn):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "prefix": "WELCOME",
                    "count": 500,
                    "percent_off": "10",
                    "valid_until": "2027-03-31T23:59:59+01:00",
                }
            ]
        },
    )
    prefix: str = Field(
        min_length=2,
        max_length=22,
        description="Stored upper case; each code is PREFIX-XXXX-XXXX (no 0, O, 1, I, L)",
    )
    count: Count = Field(ge=1, le=MAX_CODES, description="How many unique codes to generate")


class MoreCodesIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"count": 500}]})
    count: Count = Field(ge=1, le=MAX_CODES, description="How many codes to add")


class CouponPoolOut(BaseModel):
    id: str
    prefix: str
    placeholder: str = Field(description="Put this into a campaign's subject, text or HTML")
    kind: str
    percent_off: MoneyAmount | None
    amount_off: MoneyAmount | None
    currency: str
    minimum_order_value: MoneyAmount | None
    valid_from: Instant | None
    valid_until: Instant | None
    campaign_id: str | None
    product_skus: list[str]
    category_ids: list[str]
    generated: int = Field(description="Codes generated (each single-use)")
    assigned: int = Field(description="Codes handed to a campaign's recipients")
    redeemed: int = Field(description="Codes used by an order (as orders reported them)")
    created_at: Instant

    @classmethod
    def of(cls, pool: CouponPool, counts: PoolCounts) -> CouponPoolOut:
        rules = pool.rules
        return cls(
            id=pool.id,
            prefix=pool.prefix,
            placeholder=f"{{{{coupon_code:{pool.id}}}}}",
            kind=rules.kind,
            percent_off=rules.percent,
            amount_off=rules.value,
            currency=rules.currency,
            minimum_order_value=rules.minimum_order_value,
            valid_from=rules.valid_from,
            valid_until=rules.valid_until,
            campaign_id=rules.campaign_id,
            product_skus=list(rules.product_skus),
            category_ids=list(rules.category_ids),
            generated=counts.generated,
            assigned=counts.assigned,
            redeemed=counts.redeemed,
            created_at=pool.created_at,
        )


@router.post(
    "/coupon-pools",
    status_code=status.HTTP_201_CREATED,
    response_model=CouponPoolOut,
    dependencies=[Depends(require_scope("marketing:write"))],
    responses=problem_responses(401, 403, 409, 422),
    summary="Generate a pool of unique single-use codes (emits CouponCodesIssued in batches)",
)
async def post_coupon_pool(
    ctx: Context, request: Request, body: CouponPoolIn, idempotency_key: IdempotencyKey = None
) -> Response:
    command = DefinePool(prefix=body.prefix, count=body.count, **body.rules())
    return await ctx.answers.respond(
        request,
        ctx.transactor,
        lambda transactor: define_pool(transactor, command, clock=ctx.clock),
        present=lambda pool: CouponPoolOut.of(pool, PoolCounts(pool.count, 0, 0)),
        status_code=status.HTTP_201_CREATED,
        key=idempotency_key,
        body=body,
        location=lambda out: f"/coupon-pools/{out.id}",
    )


@router.post(
    "/coupon-pools/{pool_id}/codes",
    response_model=CouponPoolOut,
    dependencies=[Depends(require_scope("marketing:write"))],
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Add codes to a pool, of its rules (emits CouponCodesIssued in batches)",
)
async def post_more_codes(
    ctx: Context,
    request: Request,
    pool_id: PoolId,
    body: MoreCodesIn,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return await ctx.answers.respond(
        request,
        ctx.transactor,
        lambda transactor: add_codes(transactor, pool_id, body.count),
        present=lambda found: CouponPoolOut.of(*found),
        key=idempotency_key,
        body=body,
    )


@router.get(
    "/coupon-pools/{pool_id}",
    response_model=CouponPoolOut,
    dependencies=[Depends(require_scope("marketing:read"))],
    responses=problem_responses(401, 403, 404),
    summary="A coupon pool's rules and how many codes were generated, handed out, used",
)
async def get_coupon_pool(ctx: Context, pool_id: PoolId) -> CouponPoolOut:
    found = await ctx.queries.coupon_pool(pool_id)
    if found is None:
        raise NotFound("coupon pool", pool_id)
    return CouponPoolOut.of(*found)
