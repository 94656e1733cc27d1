"""Subscription ``orders.coupon-projection``: the read model of marketing's coupons."""

from __future__ import annotations

from kontor_contracts.events.marketing import CouponCodesIssued, CouponDefined, CouponWithdrawn
from kontor_servicekit.consumer import Subscription

from kontor_orders.application import coupon_projection as p
from kontor_orders.store.coupons import COUPONS
from kontor_orders.store.unit_of_work import MongoOrdersUnitOfWork


def coupon_projection() -> Subscription:
    return Subscription(
        purpose="coupon-projection",
        description="Keeps the coupons the order service applies at placement",
        projection=(COUPONS,),
        handlers={
            CouponDefined: p.project_coupon_defined,
            CouponWithdrawn: p.project_coupon_withdrawn,
            CouponCodesIssued: p.project_coupon_codes_issued,
        },
        unit_of_work=MongoOrdersUnitOfWork,
    )
