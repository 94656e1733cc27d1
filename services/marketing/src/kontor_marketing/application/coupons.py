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
from typing import Any

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.marketing import CouponDefined, CouponRedeemed, CouponWithdrawn
from kontor_contracts.events.orders import OrderPlaced
from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import Conflict, NotFound
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


def rules_of(coupon: Coupon) -> dict[str, Any]:
    """The fields of CouponRules (what it takes off, when, on which articles)."""
    return {
        "kind": coupon.kind,
        "percent": coupon.percent,
        "value": coupon.value,
        "currency": coupon.currency,
        "minimum_order_value": coupon.minimum_order_value,
        "valid_from": coupon.valid_from,
        "valid_until": coupon.valid_until,
        "product_skus": list(coupon.product_skus) or None,
        "category_ids": list(coupon.category_ids) or None,
    }


def _announce(uow: MarketingUnitOfWork, coupon: Coupon, *, email: str | None = None) -> None:
    for event in coupon.pull_events():
        if isinstance(event, CouponChanged):
            uow.emit(
                CouponDefined(
                    code=coupon.code,
                    **rules_of(coupon),
                    single_use=coupon.single_use,
                    campaign_id=coupon.campaign_id,
                    uses_per_customer=coupon.uses_per_customer,
                    max_redemptions=coupon.max_redemptions,
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
        if await uow.pool_codes.get(coupon.code) is not None:
            raise Conflict(f"{coupon.code!r} is a code of a coupon pool (ADR 0118)")
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
    """Count each known code of the order (a pool's code too) and report it as
    CouponRedeemed."""
    shares = event.coupon_discounts or {}
    codes = list(dict.fromkeys(event.coupon_codes))
    for code in codes:
        if code in shares:
            discount = shares[code]
        elif len(codes) == 1:  # placed before the split per code existed
            discount = event.discount_gross or Decimal("0")
        else:
            discount = Decimal("0")
        coupon = await uow.coupons.get(code)
        if coupon is None:  # a pool's code, or one orders knows but marketing does not
            await _pool_code_used(uow, event, code, discount)
            continue
        coupon.redeemed(event.order_id, discount, event.placed_at)
        _announce(uow, coupon, email=event.customer.email)
        await uow.coupons.save(coupon)


async def _pool_code_used(
    uow: MarketingUnitOfWork, event: OrderPlaced, code: str, discount: Decimal
) -> None:
    """A pool's code was used: recorded once per order, reported with the campaign whose
    mail carried it (ADR 0118)."""
    held = await uow.pool_codes.get(code)
    if held is None or not held.redeemed(event.order_id, event.placed_at):
        return
    pool = await uow.coupon_pools.get(held.pool_id)
    rules = None if pool is None else pool.rules
    uow.emit(
        CouponRedeemed(
            code=code,
            order_id=event.order_id,
            discount=discount,
            currency=rules.currency if rules else "EUR",
            campaign_id=held.campaign_id or (rules.campaign_id if rules else None),
            customer_email=event.customer.email,
            redeemed_at=event.placed_at,
        ),
        aggregate_id=code,
    )
    await uow.pool_codes.save(held)
