"""Coupons: a code customers give at checkout, defined by marketing, applied by orders.

Marketing owns the definition (percent or value off the goods, a validity window, a
minimum order value, single use, uses per customer and in all, and the products or
categories it is restricted to: ADR 0116) and announces its whole
state; orders keeps a read model and decides at placement, in the order's own
transaction, whether the code applies; a single-use code is redeemed there once, and
the uses per customer and in all are counted there (ADR 0018, ADR 0050, ADR 0057).
Marketing learns of each use from the placed order and keeps the count per coupon. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from kontor_servicekit.aggregate import RecordsEvents
from kontor_servicekit.domain_errors import Conflict, Invalid

CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")


@dataclass(frozen=True)
class CouponChanged:
    """The coupon's state changed: announce its whole state (CouponDefined)."""

    code: str


@dataclass(frozen=True)
class CouponEnded:
    code: str
    at: datetime


@dataclass(frozen=True)
class CouponUsed:
    code: str
    order_id: str
    discount: Decimal
    at: datetime


@dataclass
class Coupon(RecordsEvents):
    code: str
    kind: Literal["percent", "value"]
    currency: str
    created_at: datetime
    percent: Decimal | None = None
    value: Decimal | None = None
    minimum_order_value: Decimal | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    single_use: bool = False
    campaign_id: str | None = None
    uses_per_customer: int | None = None
    max_redemptions: int | None = None
    product_skus: tuple[str, ...] = ()
    """Only these SKUs (a parent's: its variants) are discounted; with ``category_ids``
    empty too, every line is (ADR 0116)."""
    category_ids: tuple[str, ...] = ()
    """Only products in these catalog categories are discounted."""
    withdrawn_at: datetime | None = None
    redemptions: int = 0
    discount_total: Decimal = Decimal("0")
    orders: tuple[str, ...] = ()

    @classmethod
    def define(
        cls,
        *,
        code: str,
        percent: Decimal | None,
        value: Decimal | None,
        currency: str,
        now: datetime,
        minimum_order_value: Decimal | None = None,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        single_use: bool = False,
        campaign_id: str | None = None,
        uses_per_customer: int | None = None,
        max_redemptions: int | None = None,
        product_skus: tuple[str, ...] = (),
        category_ids: tuple[str, ...] = (),
    ) -> Coupon:
        code = code.strip().upper()
        if not CODE.match(code):
            raise Invalid(
                "a code is 3 to 32 letters, digits, '-' or '_', starting with a letter or digit",
                field=("code",),
            )
        if (percent is None) == (value is None):
            raise Invalid("give percent_off or amount_off, not both", field=("percent_off",))
        if percent is not None and not Decimal(0) < percent <= Decimal(100):
            raise Invalid("percent_off is above 0 and at most 100", field=("percent_off",))
        if value is not None and value <= 0:
            raise Invalid("amount_off is above 0", field=("amount_off", "gross"))
        for name, moment in (("valid_from", valid_from), ("valid_until", valid_until)):
            if moment is not None and moment.tzinfo is None:
                raise Invalid("a moment needs its time zone", field=(name,))
        if valid_from and valid_until and valid_until <= valid_from:
            raise Invalid("valid_until is after valid_from", field=("valid_until",))
        if valid_until is not None and valid_until <= now:
            raise Invalid("valid_until is in the past", field=("valid_until",))
        for name, limit in (
            ("uses_per_customer", uses_per_customer),
            ("max_redemptions", max_redemptions),
        ):
            if limit is not None and limit < 1:
                raise Invalid(f"{name} is at least 1", field=(name,))
        product_skus = _restriction("product_skus", product_skus, str.strip)
        category_ids = _restriction("category_ids", category_ids, lambda c: c.strip().lower())
        coupon = cls(
            code=code,
            kind="percent" if percent is not None else "value",
            currency=currency,
            created_at=now,
            percent=percent,
            value=value,
            minimum_order_value=minimum_order_value,
            valid_from=valid_from,
            valid_until=valid_until,
            single_use=single_use,
            campaign_id=campaign_id,
            uses_per_customer=uses_per_customer,
            max_redemptions=max_redemptions,
            product_skus=product_skus,
            category_ids=category_ids,
        )
        coupon.record(CouponChanged(code))
        return coupon

    def withdraw(self, now: datetime) -> None:
        if self.withdrawn_at is None:
            self.withdrawn_at = now
            self.record(CouponEnded(self.code, now))

    def redeemed(self, order_id: str, discount: Decimal, at: datetime) -> None:
        """One order used it (once per order: a redelivered order counts once)."""
        if order_id in self.orders:
            return
        self.orders = (*self.orders, order_id)[-1000:]
        self.redemptions += 1
        self.discount_total += discount
        self.record(CouponUsed(self.code, order_id, discount, at))

    def status(
        self, now: datetime
    ) -> Literal["active", "scheduled", "expired", "withdrawn", "used"]:
        if self.withdrawn_at is not None:
            return "withdrawn"
        if (self.single_use and self.redemptions) or (
            self.max_redemptions is not None and self.redemptions >= self.max_redemptions
        ):
            return "used"
        if self.valid_until is not None and now >= self.valid_until:
            return "expired"
        if self.valid_from is not None and now < self.valid_from:
            return "scheduled"
        return "active"


def _restriction(
    name: str, given: tuple[str, ...], normal: Callable[[str], str]
) -> tuple[str, ...]:
    """The identifiers of a restriction, normalised, each once, in the order given."""
    kept: dict[str, None] = {}
    for index, raw in enumerate(given):
        value = normal(raw)
        if not value:
            raise Invalid(f"{name} holds no empty identifier", field=(name, index))
        kept[value] = None
    return tuple(kept)


def ensure_new(existing: Coupon | None, code: str) -> None:
    if existing is not None:
        raise Conflict(f"coupon {code!r} exists already (withdraw it, or choose another code)")
