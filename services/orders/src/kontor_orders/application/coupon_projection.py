"""Keeping the read model of marketing's coupons: the newest event wins.

A code the read model does not know is refused at placement. A coupon pool's codes
(CouponCodesIssued, ADR 0118) become single-use coupons of the pool's rules, one
document per code like any other, so placement redeems each once (ADR 0018).
"""

from __future__ import annotations

from typing import Any

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.marketing import (
    CouponCodesIssued,
    CouponDefined,
    CouponRules,
    CouponWithdrawn,
)

from kontor_orders.application.unit_of_work import OrdersUnitOfWork

_RULES = {
    "kind",
    "percent",
    "value",
    "currency",
    "minimum_order_value",
    "valid_from",
    "valid_until",
    "product_skus",
    "category_ids",
}


def _rules(event: CouponRules) -> dict[str, Any]:
    return event.model_dump(mode="python", include=_RULES)


async def project_coupon_defined(
    event: CouponDefined, uow: OrdersUnitOfWork, env: Envelope
) -> None:
    state = {
        **_rules(event),
        "single_use": event.single_use,
        "uses_per_customer": event.uses_per_customer,
        "max_redemptions": event.max_redemptions,
    }
    await uow.coupons.apply(event.code, {**state, "withdrawn": False}, env.occurred_at)


async def project_coupon_codes_issued(
    event: CouponCodesIssued, uow: OrdersUnitOfWork, env: Envelope
) -> None:
    """Each code of the batch: a single-use coupon of the pool's rules."""
    state = {
        **_rules(event),
        "single_use": True,
        "uses_per_customer": None,
        "max_redemptions": None,
        "pool_id": event.pool_id,
        "withdrawn": False,
    }
    await uow.coupons.apply_all(event.codes, state, env.occurred_at)


async def project_coupon_withdrawn(
    event: CouponWithdrawn, uow: OrdersUnitOfWork, env: Envelope
) -> None:
    await uow.coupons.apply(event.code, {"withdrawn": True}, env.occurred_at)
