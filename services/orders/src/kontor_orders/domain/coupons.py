"""Coupons at placement, from the read model of marketing's coupons (ADR 0018). Pure.

A code the read model does not know, a withdrawn one, one outside its validity, one
whose minimum order value the goods do not reach, or a single-use code used already
is refused with 422 at its place in ``coupon_codes``; so is one the customer used as
often as ``uses_per_customer`` allows, or one used ``max_redemptions`` times in all.

A coupon may be restricted to products (``product_skus``: a line's SKU or its parent's)
or categories (``category_ids``: one of the line's product's categories, or of its
parent's when a variant has none); a line matching either is eligible, an unrestricted
coupon makes every line eligible (ADR 0116). A valid coupon takes ``percent`` of the eligible lines,
or ``value`` (at most them), off their basis (gross for a consumer, net for a business
buyer); the minimum order value counts the eligible lines' gross; an order with no
eligible line is refused at the code. What a coupon takes is spread over its eligible
lines in proportion to what is left of them, in the currency's minor unit, the
remainder to the largest line (:func:`spread`), so every line is after discounts, as
OrderPlaced says. Shipping is never discounted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from kontor_contracts.money import MINOR_UNITS, allocate, quantize

from kontor_orders.domain.order import Order, OrderError


@dataclass(frozen=True)
class Article:
    """What a restriction asks of a line's product (orders' read model of the catalog)."""

    sku: str
    parent_sku: str | None = None
    """For a variant: the product it is a variant of."""
    categories: frozenset[str] = frozenset()
    """The catalog categories it is in (a variant in none: its parent's)."""


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
    product_skus: frozenset[str] = frozenset()
    category_ids: frozenset[str] = frozenset()

    @property
    def counted(self) -> bool:
        """Its uses are counted at placement (a limit per customer or in all)."""
        return self.uses_per_customer is not None or self.max_redemptions is not None

    @property
    def restricted(self) -> bool:
        return bool(self.product_skus or self.category_ids)

    def applies_to(self, article: Article) -> bool:
        """The line of ``article`` is one this coupon discounts."""
        if not self.restricted:
            return True
        return bool(
            article.sku in self.product_skus
            or (article.parent_sku is not None and article.parent_sku in self.product_skus)
            or not article.categories.isdisjoint(self.category_ids)
        )

    def discount_on(self, base: Decimal, currency: str) -> Decimal:
        """What it takes off a goods sum of ``base``, rounded; never more than ``base``."""
        if self.kind == "percent":
            assert self.percent is not None
            return min(base, quantize(base * self.percent / 100, currency))
        assert self.value is not None
        return min(base, self.value)


@dataclass(frozen=True)
class CouponLine:
    """One line of the order as coupons see it, before any discount."""

    article: Article
    gross: Decimal
    """The line's gross (what a minimum order value counts)."""
    base: Decimal
    """What a discount is taken off: the gross for a consumer, the net for a business."""


def coupon_lines(draft: Order, articles: Mapping[str, Article]) -> list[CouponLine]:
    """The lines of an order drafted without coupons, as coupons see them (a product
    the read model knows nothing more of is only its SKU)."""
    return [
        CouponLine(
            article=articles.get(line.sku, Article(line.sku)),
            gross=line.line_gross,
            base=line.line_gross if draft.price_basis == "gross" else line.line_net,
        )
        for line in draft.lines
    ]


@dataclass(frozen=True)
class Uses:
    """How often a counted code was used: in all, and by the ordering customer."""

    total: int = 0
    mine: int = 0


def spread(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """``total`` split over lines in proportion to ``weights`` (what is left of each line),
    each part rounded down to the minor unit; the minor units still missing go to the
    largest line (the first of equal ones), and, where that line is used up, to the next
    largest. No part exceeds its weight; the parts add up to ``total`` exactly (ADR 0116).
    """
    if not weights or any(w < 0 for w in weights):
        raise ValueError("weights are not negative, at least one")
    whole = sum(weights, Decimal("0"))
    if not Decimal("0") <= total <= whole or quantize(total, currency) != total:
        raise ValueError(f"{total} cannot be spread over {whole} in minor units")
    if not total:
        return [Decimal("0")] * len(weights)
    unit = Decimal(1).scaleb(-MINOR_UNITS.get(currency.upper(), 2))
    parts = [(total * w / whole).quantize(unit, rounding=ROUND_DOWN) for w in weights]
    missing = total - sum(parts, Decimal("0"))
    for i in sorted(range(len(weights)), key=lambda i: (-weights[i], i)):
        if not missing:
            break
        extra = min(missing, weights[i] - parts[i])
        parts[i] += extra
        missing -= extra
    return parts


def coupon_discount(
    codes: Sequence[str],
    known: dict[str, Coupon],
    *,
    used: set[str],
    lines: Sequence[CouponLine],
    currency: str,
    now: datetime,
    uses: Mapping[str, Uses] | None = None,
) -> tuple[list[Decimal], list[tuple[Coupon, Decimal]]]:
    """What ``codes`` take off each line (in the order of ``lines``) and the coupons
    applied, in order, each with what it took off the basis.

    ``used``: the single-use codes redeemed already; ``uses``: how often each counted
    code was used, in all and by this customer. Each coupon applies to what the earlier
    ones left of its eligible lines; refusals name the code's index (``coupon_codes``, i).
    """
    applied: list[tuple[Coupon, Decimal]] = []
    left = [line.base for line in lines]
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
        eligible = [i for i, line in enumerate(lines) if coupon.applies_to(line.article)]
        if not eligible:
            raise OrderError(where, f"{code!r} applies to none of the order's articles")
        counted_gross = sum((lines[i].gross for i in eligible), Decimal("0"))
        if coupon.minimum_order_value is not None and counted_gross < coupon.minimum_order_value:
            of = " of the articles it applies to" if coupon.restricted else ""
            raise OrderError(
                where,
                f"{code!r} needs goods{of} of at least {coupon.minimum_order_value} {currency}",
            )
        if coupon.single_use and code in used:
            raise OrderError(where, f"{code!r} was used already")
        counted = (uses or {}).get(code, Uses())
        if coupon.max_redemptions is not None and counted.total >= coupon.max_redemptions:
            raise OrderError(where, f"{code!r} was used as often as it may be")
        if coupon.uses_per_customer is not None and counted.mine >= coupon.uses_per_customer:
            raise OrderError(where, f"{code!r} was used by this customer as often as it may be")
        weights = [left[i] for i in eligible]
        taken = coupon.discount_on(sum(weights, Decimal("0")), currency)
        for i, part in zip(eligible, spread(taken, weights, currency), strict=True):
            left[i] -= part
        applied.append((coupon, taken))
    return [line.base - rest for line, rest in zip(lines, left, strict=True)], applied


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
