"""Coupons at placement, from the read model of marketing's coupons (ADR 0018). Pure.

A code the read model does not know, a withdrawn one, one outside its validity, one
whose minimum order value the goods do not reach, or a single-use code used already
is refused with 422 at its place in ``coupon_codes``; so is one the customer used as
often as ``uses_per_customer`` allows, or one used ``max_redemptions`` times in all.
A valid coupon takes ``percent`` of the goods, or ``value`` (at most the goods), off
the goods' basis sum (gross for a consumer, net for a business buyer); the discount is
spread over the lines in
proportion to their amounts, so every line is after discounts, as OrderPlaced says.
Shipping is never discounted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kontor_contracts.money import allocate, quantize

from kontor_orders.domain.order import OrderError


@dataclass(frozen=True)
class Coupon:
    code: str
    kind: str  # percent | value
    percent: Decimal | None = None
    value: Decimal | None = None
    currency: str = "EUR"
    minimum_order_value: Decimal | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    single_use: bool = False
    withdrawn: bool = False
    uses_per_customer: int | None = None
    max_redemptions: int | None = None

    @property
    def counted(self) -> bool:
        """Its uses are counted at placement (a limit per customer or in all)."""
        return self.uses_per_customer is not None or self.max_redemptions is not None

    def discount_on(self, base: Decimal, currency: str) -> Decimal:
        """What it takes off a goods sum of ``base``, rounded; never more than ``base``."""
        if self.kind == "percent":
            assert self.percent is not None
            return min(base, quantize(base * self.percent / 100, currency))
        assert self.value is not None
        return min(base, self.value)


@dataclass(frozen=True)
class Uses:
    """How often a counted code was used: in all, and by the ordering customer."""

    total: int = 0
    mine: int = 0


def coupon_discount(
    codes: Sequence[str],
    known: dict[str, Coupon],
    *,
    used: set[str],
    goods_gross: Decimal,
    goods_base: Decimal,
    currency: str,
    now: datetime,
    uses: Mapping[str, Uses] | None = None,
) -> tuple[Decimal, list[tuple[Coupon, Decimal]]]:
    """The total discount of ``codes`` on the goods and the coupons applied, in order,
    each with what it took off the basis.

    ``used``: the single-use codes redeemed already; ``uses``: how often each counted
    code was used, in all and by this customer. Each coupon applies to what the earlier
    ones left; refusals name the code's index (``coupon_codes``, i).
    """
    applied: list[tuple[Coupon, Decimal]] = []
    left = goods_base
    for index, code in enumerate(codes):
        where = ("coupon_codes", index)
        coupon = known.get(code)
        if coupon is None or coupon.withdrawn:
            raise OrderError(where, f"unknown coupon code {code!r}")
        if coupon.currency != currency:
            raise OrderError(where, f"{code!r} is for orders in {coupon.currency}")
        if (coupon.valid_from and now < coupon.valid_from) or (
            coupon.valid_until and now >= coupon.valid_until
        ):
            raise OrderError(where, f"{code!r} is not valid now")
        if coupon.minimum_order_value is not None and goods_gross < coupon.minimum_order_value:
            raise OrderError(
                where, f"{code!r} needs goods of at least {coupon.minimum_order_value} {currency}"
            )
        if coupon.single_use and code in used:
            raise OrderError(where, f"{code!r} was used already")
        counted = (uses or {}).get(code, Uses())
        if coupon.max_redemptions is not None and counted.total >= coupon.max_redemptions:
            raise OrderError(where, f"{code!r} was used as often as it may be")
        if coupon.uses_per_customer is not None and counted.mine >= coupon.uses_per_customer:
            raise OrderError(where, f"{code!r} was used by this customer as often as it may be")
        taken = coupon.discount_on(left, currency)
        left -= taken
        applied.append((coupon, taken))
    return goods_base - left, applied


def gross_by_code(
    applied: Sequence[tuple[Coupon, Decimal]], discount_gross: Decimal | None, currency: str
) -> dict[str, Decimal]:
    """The order's gross discount per code: split in proportion to what each code took
    off the basis (for a business buyer the basis is net), adding up exactly."""
    if not applied or not discount_gross:
        return {}
    weights = [taken for _, taken in applied]
    if not any(weights):
        return {coupon.code: Decimal("0") for coupon, _ in applied}
    shares = allocate(discount_gross, weights, currency)
    return {coupon.code: share for (coupon, _), share in zip(applied, shares, strict=True)}
