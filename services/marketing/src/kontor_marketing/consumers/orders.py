"""Subscription ``marketing.coupon-redemptions``: each placed order that used a coupon."""

from __future__ import annotations

from kontor_contracts.events.orders import OrderPlaced
from kontor_servicekit.consumer import Subscription

from kontor_marketing.application.coupons import on_order_placed
from kontor_marketing.store.unit_of_work import MongoMarketingUnitOfWork


def coupon_redemptions() -> Subscription:
    return Subscription(
        purpose="coupon-redemptions",
        description="Counts the uses of marketing's coupons and reports each as CouponRedeemed",
        handlers={OrderPlaced: on_order_placed},
        unit_of_work=MongoMarketingUnitOfWork,
        unseal=True,  # keyed by the customer's e-mail, as the consents are (ADR 0036)
    )
