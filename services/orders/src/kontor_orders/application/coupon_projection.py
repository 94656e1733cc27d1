"""Keeping the read model of marketing's coupons: the newest event wins.

A code the read model does not know is refused at placement.
"""

from __future__ import annotations

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.marketing import CouponDefined, CouponWithdrawn

from kontor_orders.application.unit_of_work import OrdersUnitOfWork


async def project_coupon_defined(
    event: CouponDefined, uow: OrdersUnitOfWork, env: Envelope
) -> None:
    state = event.model_dump(
        mode="python",
        include={
            "kind",
            "percent",
            "value",
            "currency",
            "minimum_order_value",
            "valid_from",
            "valid_until",
            "single_use",
            "uses_per_customer",
            "max_redemptions",
            "product_skus",
            "category_ids",
        },
    )
    await uow.coupons.apply(event.code, {**state, "withdrawn": False}, env.occurred_at)


async def project_coupon_withdrawn(
    event: CouponWithdrawn, uow: OrdersUnitOfWork, env: Envelope
) -> None:
    await uow.coupons.apply(event.code, {"withdrawn": True}, env.occurred_at)
