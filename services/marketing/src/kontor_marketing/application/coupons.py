"""Coupons: define and withdraw (announced to orders), and count their uses.

Every change announces the coupon's whole state as ``CouponDefined`` (or
``CouponWithdrawn``) on ``marketing.coupon.v1``, keyed by the code, so orders' read model
always holds the newest state. Orders decides at placement; each placed order that used
a code marketing knows is reported as ``CouponRedeemed`` with its share of the discount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.marketing import CouponDefined, CouponRedeemed, CouponWithdrawn
from kontor_contracts.events.orders import OrderPlaced
from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import NotFound
from kontor_servicekit.uow import Transactor

from kontor_marketing.application.unit_of_work import MarketingUnitOfWork
from kontor_marketing.domain.coupon import (
    Coupon,
    CouponChanged,
    CouponEnded,
    CouponUsed,
    ensure_new,
)


@dataclass(frozen=True)
class DefineCoupon:
    code: str
    percent: Decimal | None
    value: Decimal | None
    currency: str = "EUR"
    minimum_order_value: Decimal | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    single_use: bool = False
    campaign_id: str | None = None
    uses_per_customer: int | None = None
    max_redemptions: int | None = None
    product_skus: tuple[str, ...] = ()
    category_ids: tuple[str, ...] = ()


def _announce(uow: MarketingUnitOfWork, coupon: Coupon, *, email: str | None = None) -> None:
    for event in coupon.pull_events():
        if isinstance(event, CouponChanged):
            uow.emit(
                CouponDefined(
                    code=coupon.code,
                    kind=coupon.kind,
                    percent=coupon.percent,
                    value=coupon.value,
                    currency=coupon.currency,
                    minimum_order_value=coupon.minimum_order_value,
                    valid_from=coupon.valid_from,
                    valid_until=coupon.valid_until,
                    single_use=coupon.single_use,
                    campaign_id=coupon.campaign_id,
                    uses_per_customer=coupon.uses_per_customer,
                    max_redemptions=coupon.max_redemptions,
                    product_skus=list(coupon.product_skus) or None,
                    category_ids=list(coupon.category_ids) or None,
                ),
                aggregate_id=coupon.code,
            )
        elif isinstance(event, CouponEnded):
            uow.emit(
                CouponWithdrawn(code=coupon.code, withdrawn_at=event.at), aggregate_id=coupon.code
            )
        elif isinstance(event, CouponUsed):
            uow.emit(
                CouponRedeemed(
                    code=coupon.code,
                    order_id=event.order_id,
                    discount=event.discount,
                    currency=coupon.currency,
                    campaign_id=coupon.campaign_id,
                    customer_email=email,
                    redeemed_at=event.at,
                ),
                aggregate_id=coupon.code,
            )


async def define_coupon(
    transactor: Transactor[MarketingUnitOfWork], command: DefineCoupon, *, clock: Clock
) -> Coupon:
    async def work(uow: MarketingUnitOfWork) -> Coupon:
        coupon = Coupon.define(
            code=command.code,
            percent=command.percent,
            value=command.value,
            currency=command.currency,
            now=clock(),
            minimum_order_value=command.minimum_order_value,
            valid_from=command.valid_from,
            valid_until=command.valid_until,
            single_use=command.single_use,
            campaign_id=command.campaign_id,
            uses_per_customer=command.uses_per_customer,
            max_redemptions=command.max_redemptions,
            product_skus=command.product_skus,
            category_ids=command.category_ids,
        )
        ensure_new(await uow.coupons.get(coupon.code), coupon.code)
        _announce(uow, coupon)
        await uow.coupons.add(coupon)
        return coupon

    return await transactor.run(work)


async def withdraw_coupon(
    transactor: Transactor[MarketingUnitOfWork], code: str, *, clock: Clock
) -> Coupon:
    async def work(uow: MarketingUnitOfWork) -> Coupon:
        coupon = await uow.coupons.get(code.strip().upper())
        if coupon is None:
            raise NotFound("coupon", code)
        coupon.withdraw(clock())
        _announce(uow, coupon)
        await uow.coupons.save(coupon)
        return coupon

    return await transactor.run(work)


async def on_order_placed(event: OrderPlaced, uow: MarketingUnitOfWork, env: Envelope) -> None:
    """Count each known code of the order and report it as CouponRedeemed."""
    shares = event.coupon_discounts or {}
    codes = list(dict.fromkeys(event.coupon_codes))
    for code in codes:
        coupon = await uow.coupons.get(code)
        if coupon is None:  # a code orders knows but marketing does not: not ours to report
            continue
        if code in shares:
            discount = shares[code]
        elif len(codes) == 1:  # placed before the split per code existed
            discount = event.discount_gross or Decimal("0")
        else:
            discount = Decimal("0")
        coupon.redeemed(event.order_id, discount, event.placed_at)
        _announce(uow, coupon, email=event.customer.email)
        await uow.coupons.save(coupon)
